import { Writable } from 'node:stream';
import test from 'ava';
import { outputTo } from '../../cli/output.ts';
import { FleetProgress } from '../../cli/progress.ts';

/** An Output on a pipe (no terminal): FleetProgress writes plain lines to it. */
function pipe(): { out: ReturnType<typeof outputTo>; lines: () => string[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  return { out: outputTo(stream), lines: () => text.split('\n').filter(Boolean) };
}

// issue 12: "0/4 finished (0%): 1 downloading" was printed while 3 devices were downloading.
test('fleet progress: when only some devices of the run have reported then the line counts the others as not reported, adding up to the total', (t) => {
  const { out, lines } = pipe();
  const p = new FleetProgress(out, 'Downloads');
  p.set('001', 'downloading');
  p.setTotal(4);
  t.deepEqual(lines(), ['Downloads: 0/4 finished (0%): 1 downloading, 3 not reported yet']);
});

test('fleet progress: when every device reported then the counts alone add up to the total', (t) => {
  const { out, lines } = pipe();
  const p = new FleetProgress(out, 'Downloads');
  for (const s of ['001', '002', '003']) p.set(s, 'downloading');
  p.set('004', 'download_complete');
  p.setTotal(4);
  t.deepEqual(lines(), ['Downloads: 1/4 finished (25%): 3 downloading, 1 download_complete']);
});
