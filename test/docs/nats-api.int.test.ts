import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectBus, connectNats } from '../../bus/connect.ts';
import type { PrivateUser } from '../../bus/auth.ts';
import { repoRoot, tempDir, uniquePrefix } from '../helpers/index.ts';
import { startStack } from '../helpers/stack.ts';

interface Example {
  line: number;
  subject: string;
  body: string;
  /** `# error: CODE` after the command: the documented error reply. */
  errorCode: string | undefined;
}

/** Every `nats req <subject> '<json>'` of the doc, in document order. */
function examples(doc: string): Example[] {
  const out: Example[] = [];
  for (const [i, text] of doc.split('\n').entries()) {
    const m = /^\s*(?:\$ )?nats req (\S+) '([^']*)'(?:\s+#\s*error:\s*([A-Z_]+))?\s*(?:#.*)?$/.exec(text);
    if (m) out.push({ line: i + 1, subject: m[1]!, body: m[2]!, errorCode: m[3] });
  }
  return out;
}

test('docs/nats-api.md: when every nats req example is sent as written then each gets the documented reply', async (t) => {
  const doc = readFileSync(join(repoRoot, 'docs/nats-api.md'), 'utf8');
  const all = examples(doc);
  t.true(all.length >= 20, `found ${all.length} examples`);
  // The doc's server as it ships: a private one with its users. The daemon answers as `daemon`, the
  // simulator as `simulator` (its own account); the examples go as the doc says: cmd as the operator, sim as the simulator.
  const prefix = uniquePrefix();
  const bus = await connectBus({ url: undefined, storeDir: tempDir(t), privateUsers: { prefix, user: 'daemon' }, name: 'docs daemon' });
  t.teardown(() => bus.close());
  const as = async (user: PrivateUser): Promise<NatsConnection> => {
    const nc = await connectNats(bus.url, `docs ${user}`, { nkeyFile: bus.privateAuth!.files[user] });
    t.teardown(() => nc.close());
    return nc;
  };
  // Real-time downloads (10 s): the job the examples submit is still running when they cancel it.
  const stack = await startStack(t, undefined, { scenario: 'basic', timeScale: 1, prefix, connections: { sim: await as('simulator'), daemon: bus.nc } });
  const operator = await as('operator');
  const simulator = await as('simulator');
  let jobId = '';
  let campaignId = '';
  const problems: string[] = [];
  for (const ex of all) {
    t.true(ex.subject.startsWith('panos.'), `line ${ex.line}: ${ex.subject}`);
    const subject = stack.subjects.prefix + ex.subject.slice('panos'.length);
    const body = ex.body.replaceAll('<job-id>', jobId).replaceAll('<campaign-id>', campaignId);
    const nc = ex.subject.startsWith('panos.sim.') ? simulator : operator;
    const msg = await nc.request(subject, body, { timeout: 20_000 }).catch((err: unknown) => {
      throw new Error(`line ${ex.line}: ${subject} ${body}: ${String(err)}`);
    });
    const reply = JSON.parse(msg.string()) as { ok?: boolean; error?: { code: string; message: string }; job?: { job_id?: string }; campaign?: { campaign_id?: string } };
    if (ex.errorCode) {
      if (reply.error?.code !== ex.errorCode) problems.push(`line ${ex.line}: expected error ${ex.errorCode}, got ${msg.string().slice(0, 300)}`);
    } else if (reply.ok !== true) {
      problems.push(`line ${ex.line}: expected ok, got ${msg.string().slice(0, 300)}`);
    }
    if (ex.subject === 'panos.cmd.job.submit' && reply.ok && reply.job?.job_id) jobId = reply.job.job_id;
    if (ex.subject === 'panos.cmd.campaign.create' && reply.ok && reply.campaign?.campaign_id && !body.includes('dryRun')) campaignId = reply.campaign.campaign_id;
  }
  t.deepEqual(problems, []);
});

test('docs/nats-api.md: when the doc lists the daemon commands then it covers every subject the bus knows', async (t) => {
  const { COMMANDS } = await import('../../bus/subjects.ts');
  const doc = readFileSync(join(repoRoot, 'docs/nats-api.md'), 'utf8');
  const missing = COMMANDS.filter((c) => !doc.includes(`panos.cmd.${c}`));
  t.deepEqual(missing, []);
  const actions = ['describe', 'list', 'get', 'faults', 'metrics', 'unstall', 'crash'];
  t.deepEqual(
    actions.filter((a) => !new RegExp(`panos\\.sim\\.ctl\\.[^.\\s]+\\.${a}\\b`).test(doc)),
    [],
  );
});
