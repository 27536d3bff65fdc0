// A small closed-loop HTTP load generator: `concurrency` workers over keep-alive connections, each
// sending the next request when the previous answer has been read in full.
import http from 'node:http';
import { processStats, serveParent } from './lib/child.ts';
import { summarize } from './lib/stats.ts';

export interface LoadRun {
  origin: string;
  paths: string[];
  concurrency: number;
  durationMs: number;
  warmupMs: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  rps: number;
  latency: ReturnType<typeof summarize>;
  bodyBytes: number;
}

function get(agent: http.Agent, url: URL): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function run(p: LoadRun): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: p.concurrency, maxFreeSockets: p.concurrency });
  const urls = p.paths.map((path) => new URL(p.origin + path));
  const start = performance.now();
  const measureFrom = start + p.warmupMs;
  const end = measureFrom + p.durationMs;
  const samples: number[] = [];
  let errors = 0;
  let bytes = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const url = urls[next++ % urls.length]!;
      const s = performance.now();
      try {
        bytes = await get(agent, url);
        if (s >= measureFrom) samples.push(performance.now() - s);
      } catch {
        if (s >= measureFrom) errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: p.concurrency }, worker));
  agent.destroy();
  // Requests that started inside the window, over the window (the last ones finish a little after it).
  return { requests: samples.length, errors, rps: samples.length / (p.durationMs / 1000), latency: summarize(samples), bodyBytes: bytes };
}

await serveParent(async () => ({
  info: { pid: process.pid },
  handlers: { run: (p: LoadRun) => run(p), stats: () => processStats() },
}));
