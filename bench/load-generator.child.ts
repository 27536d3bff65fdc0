// A small closed-loop HTTP load generator: `concurrency` workers over keep-alive connections, each
// sending the next request when the previous answer has been read in full.
import http from 'node:http';
import https from 'node:https';
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
  /** Every request sent, the warm-up's included (what the server's CPU in the trial was spent on). */
  sent: number;
  errors: number;
  rps: number;
  latency: ReturnType<typeof summarize>;
  bodyBytes: number;
}

function get(agent: http.Agent, url: URL): Promise<number> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? https.get : http.get;
    // The gateway's certificate is self-signed: not verified, as pan-python does by default.
    const req = send(url, { agent, rejectUnauthorized: false }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function run(p: LoadRun): Promise<LoadResult> {
  // Keep-alive: one TLS handshake per connection, not per request.
  const options = { keepAlive: true, maxSockets: p.concurrency, maxFreeSockets: p.concurrency };
  const agent = p.origin.startsWith('https:') ? new https.Agent({ ...options, rejectUnauthorized: false }) : new http.Agent(options);
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
  return { requests: samples.length, sent: next, errors, rps: samples.length / (p.durationMs / 1000), latency: summarize(samples), bodyBytes: bytes };
}

await serveParent(async () => ({
  info: { pid: process.pid },
  handlers: { run: (p: LoadRun) => run(p), stats: () => processStats() },
}));
