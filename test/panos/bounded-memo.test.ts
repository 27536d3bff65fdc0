import test from 'ava';
import { boundedMemo } from '../../panos/bounded-memo.ts';

test('boundedMemo: a key is computed once; when max keys are held, all are forgotten before the next is kept', (t) => {
  const computed: string[] = [];
  const upper = boundedMemo(2, (k: string) => (computed.push(k), k.toUpperCase()));
  t.is(upper('a'), 'A');
  t.is(upper('a'), 'A');
  t.is(upper('b'), 'B');
  t.deepEqual(computed, ['a', 'b']);
  t.is(upper('c'), 'C'); // full: a and b forgotten, c kept
  t.is(upper('c'), 'C');
  t.is(upper('a'), 'A');
  t.deepEqual(computed, ['a', 'b', 'c', 'a']);
});
