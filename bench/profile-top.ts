// node --import tsx bench/profile-top.ts <file.cpuprofile> [rows=25]
// The top frames of a V8 CPU profile (`node --cpu-prof`, or `npm run bench -- --profile <role>`):
// self time per function, inclusive time per source file, and busy time by kind of work.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const [file, rowsArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node --import tsx bench/profile-top.ts <file.cpuprofile> [rows]\n');
  process.exit(2);
}
const rows = Number(rowsArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Time per sample: the deltas, so that idle gaps are not spread over the hot frames.
const selfUs = new Map<number, number>();
const samples = profile.samples ?? [];
const deltas = profile.timeDeltas ?? [];
for (let i = 0; i < samples.length; i++) {
  const id = samples[i]!;
  const dt = deltas[i + 1] ?? deltas[i] ?? 0;
  selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
}
const totalUs = [...selfUs.values()].reduce((s, v) => s + v, 0);

/** This checkout's root, cut from the frames' paths. */
const root = fileURLToPath(new URL('..', import.meta.url));
const short = (url: string): string => {
  const path = url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'npm:');
  return path.startsWith(root) ? path.slice(root.length) : path;
};
const label = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const selfByFrame = new Map<string, number>();
const inclusiveByFile = new Map<string, number>();
let idleUs = 0;
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  const name = node.callFrame.functionName;
  if (name === '(idle)' || name === '(program)') idleUs += name === '(idle)' ? us : 0;
  selfByFrame.set(label(node), (selfByFrame.get(label(node)) ?? 0) + us);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const url = short(byId.get(cur)!.callFrame.url) || `(${byId.get(cur)!.callFrame.functionName})`;
    const key = url.startsWith('npm:') ? url.split('/').slice(0, url.startsWith('npm:@') ? 2 : 1).join('/') : url;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusiveByFile.set(key, (inclusiveByFile.get(key) ?? 0) + us);
  }
}

const pct = (us: number): string => `${((100 * us) / totalUs).toFixed(1).padStart(5)} %`;
const busy = totalUs - idleUs;
process.stdout.write(`${file}\n${(totalUs / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (${pct(busy).trim()})\n\nself time:\n`);
for (const [k, us] of [...selfByFrame].sort((a, b) => b[1] - a[1]).slice(0, rows)) process.stdout.write(`${pct(us)}  ${k}\n`);
process.stdout.write('\ninclusive, by source file or package:\n');
for (const [k, us] of [...inclusiveByFile].sort((a, b) => b[1] - a[1]).slice(0, rows)) process.stdout.write(`${pct(us)}  ${k}\n`);

/**
 * Each busy sample goes to the kind of its nearest frame, from the sample up, that names one: where a
 * flat profile's time goes (writev under an HTTP request is the HTTP exchange's, msgpackr under an append
 * the event log's). First match wins, in this order.
 */
const KINDS: Array<[string, RegExp]> = [
  ['bench harness', /^bench\//],
  ['module loading', /^node:internal\/modules|^npm:tsx|\(evaluate\)|compileSourceTextModule/],
  ['TLS handshakes', /panos\/tls-trust|gateway\/tls-identity|node:_tls_wrap|node:internal\/tls/],
  ['XML parse', /panos\/xml\.ts|panos\/parsers/],
  ['readiness and snapshots', /^checks\/|actors\/readiness|simulator\/readiness|panos\/responses-readiness/],
  ['event log', /^eventstore\/|^npm:lmdb|^npm:msgpackr/],
  ['bus', /^bus\/|^npm:@nats-io/],
  ['gateway', /^gateway\//],
  ['simulator', /^simulator\/|panos\/responses/],
  ['HTTP requests and answers', /panos\/client\.ts|panos\/call-lanes|node:_http_|node:https|node:http|node:net|node:internal\/stream_base_commons|^npm:koa/],
  ['XState', /^npm:xstate/],
  ['orchestration', /^actors\/|^machines\/|^panos\//],
];
const kindMemo = new Map<number, string>();
const kindOf = (id: number): string => {
  const known = kindMemo.get(id);
  if (known !== undefined) return known;
  let kind = 'other';
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const frame = byId.get(cur)!.callFrame;
    const where = short(frame.url) || frame.functionName;
    const hit = KINDS.find(([, re]) => re.test(where) || re.test(frame.functionName));
    if (hit) {
      kind = hit[0];
      break;
    }
  }
  kindMemo.set(id, kind);
  return kind;
};
const byKind = new Map<string, number>();
for (const [id, us] of selfUs) {
  const name = byId.get(id)!.callFrame.functionName;
  if (name === '(idle)') continue;
  const kind = name === '(garbage collector)' ? 'GC' : name === '(program)' ? 'V8 (program)' : kindOf(id);
  byKind.set(kind, (byKind.get(kind) ?? 0) + us);
}
process.stdout.write('\nbusy time by kind (the nearest frame that names one):\n');
for (const [k, us] of [...byKind].sort((a, b) => b[1] - a[1])) process.stdout.write(`${((100 * us) / busy).toFixed(1).padStart(5)} %  ${k}\n`);
