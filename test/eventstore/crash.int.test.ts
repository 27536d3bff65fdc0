import test from 'ava';
import { isDeepStrictEqual } from 'node:util';
import type { EventEnvelope } from '../../eventstore/types.ts';
import { exited, logProblems, onLines, openTestStore, spawnTs, tempDir } from '../helpers/index.ts';

// Each round kills the writer after a different number of acknowledged events, on top of the previous rounds' log.
const KILL_AFTER = [1_500, 4_000, 2_700, 6_100];

test('event store: when the writing process is killed mid-append then every acknowledged event survives and the log has no gap or torn record', async (t) => {
  const path = tempDir(t);
  const acked = new Map<string, EventEnvelope>();
  const malformed: string[] = [];

  for (const [round, killAfter] of KILL_AFTER.entries()) {
    const child = spawnTs(t, 'test/fixtures/appender.ts', [path, '--writer', `r${round}`, '--appenders', '48', '--streams', '24']);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    let ackedThisRound = 0;
    onLines(child.stdout!, (line) => {
      const tab = line.indexOf('\t');
      const envelope = JSON.parse(line.slice(tab + 1)) as EventEnvelope;
      if (line.slice(0, tab) !== `${envelope.stream}:${envelope.seq}:${envelope.gseq}`) malformed.push(line);
      acked.set(`${envelope.stream}:${envelope.seq}`, envelope);
      ackedThisRound += 1;
      if (ackedThisRound === killAfter) child.kill('SIGKILL');
    });

    const exit = await exited(child);
    t.deepEqual(exit, { code: null, signal: 'SIGKILL' }, `round ${round} ended before it was killed: ${stderr}`);
    t.true(ackedThisRound >= killAfter);

    const store = openTestStore(t, { path });
    t.deepEqual(logProblems(store), [], `round ${round}`);
    const lostOrChanged: string[] = [];
    for (const [key, envelope] of acked) {
      const [stored] = store.readStream(envelope.stream, { fromSeq: envelope.seq, toSeq: envelope.seq });
      if (!isDeepStrictEqual(stored, envelope)) lostOrChanged.push(`${key}: acknowledged ${JSON.stringify(envelope)}, stored ${JSON.stringify(stored)}`);
    }
    t.deepEqual(lostOrChanged, [], `round ${round}`);
    t.true(store.lastGseq() >= acked.size);
    // The next round writes on top of this one's crash state.
    await store.close();
  }
  t.deepEqual(malformed, []);
});
