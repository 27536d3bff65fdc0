// The XML the daemon reads most, by bytes: a firewall's route, FIB and ARP tables as the simulator
// renders them (1,100 routes, 600 ARP entries), read by parseXml (the scanner) and by saxes alone (what
// parseXml used before), in alternating trials of one process.
import { RESPONSE_ARRAY_PATHS } from '../panos/parsers.ts';
import { arpTableXml, fibXml, routeTableXml } from '../panos/responses-readiness.ts';
import type { SimArpEntry, SimRoute } from '../panos/readiness-model.ts';
import { parseXml, saxesRead } from '../panos/xml.ts';
import { processStats, serveParent } from './lib/child.ts';

export interface ParseTrial {
  doc: string;
  bytes: number;
  scannerUs: number;
  saxesUs: number;
}

const ROUTES = 1100;
const ARP = 600;

function routes(): SimRoute[] {
  const out: SimRoute[] = [];
  for (let i = 0; i < ROUTES; i++) {
    const bgp = i % 3 === 0;
    out.push({
      virtualRouter: i % 10 === 0 ? 'vr-dmz' : 'default',
      destination: `10.${(i >> 8) & 255}.${i & 255}.0/24`,
      nexthop: bgp ? `192.0.2.${1 + (i % 200)}` : '0.0.0.0',
      metric: bgp ? 20 : 10,
      flags: bgp ? 'A B ' : 'A S ',
      interface: `ethernet1/${1 + (i % 8)}`,
      protocol: bgp ? 'bgp' : 'static',
    });
  }
  return out;
}

function arp(): SimArpEntry[] {
  return Array.from({ length: ARP }, (_, i) => ({ interface: `ethernet1/${1 + (i % 8)}`, ip: `10.1.${i >> 8}.${i & 255}`, mac: `00:1b:17:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, ttl: 1800 }));
}

/** Microseconds per read of `doc`, over about `ms` milliseconds. */
function timePerRead(read: () => unknown, ms: number): number {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    read();
    n++;
    now = performance.now();
  }
  return ((now - start) * 1000) / n;
}

await serveParent(async () => {
  const r = routes();
  const docs: Record<string, string> = {
    'route table': routeTableXml(r),
    'FIB': fibXml(r, ['default', 'vr-dmz']),
    'ARP table': arpTableXml(arp()),
  };
  for (const [name, doc] of Object.entries(docs)) {
    if (JSON.stringify(parseXml(doc, RESPONSE_ARRAY_PATHS)) !== JSON.stringify(saxesRead(doc, RESPONSE_ARRAY_PATHS))) throw new Error(`${name}: the scanner and saxes read it differently`);
  }
  return {
    info: Object.fromEntries(Object.entries(docs).map(([k, v]) => [k, v.length])),
    handlers: {
      stats: () => processStats(),
      /** One trial: each document read by both, in the order given. */
      trial(payload: unknown): ParseTrial[] {
        const { scannerFirst, ms } = payload as { scannerFirst: boolean; ms: number };
        return Object.entries(docs).map(([doc, text]) => {
          const scanner = (): number => timePerRead(() => parseXml(text, RESPONSE_ARRAY_PATHS), ms);
          const saxes = (): number => timePerRead(() => saxesRead(text, RESPONSE_ARRAY_PATHS), ms);
          let scannerUs: number;
          let saxesUs: number;
          if (scannerFirst) {
            scannerUs = scanner();
            saxesUs = saxes();
          } else {
            saxesUs = saxes();
            scannerUs = scanner();
          }
          return { doc, bytes: Buffer.byteLength(text), scannerUs, saxesUs };
        });
      },
    },
  };
});
