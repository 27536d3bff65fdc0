import type { BenchDef } from './lib/bench.ts';
import { startService } from './lib/child.ts';
import { command, type Figure } from './lib/report.ts';
import { median, round } from './lib/stats.ts';
import type { ParseTrial } from './xml-parse.child.ts';

const TRIALS = 6;
const TRIAL_MS = 400;

/**
 * How fast the daemon reads the largest answers it gets (route, FIB and ARP tables): parseXml, whose
 * scanner reads plain PAN-OS XML, against saxes alone (what parseXml used before), in one child process,
 * trials alternating which goes first.
 */
export function xmlParseBench(): BenchDef {
  const id = 'xml-parse';
  return {
    id,
    group: 'daemon',
    budgetMs: 60_000,
    async run(ctx) {
      const child = await startService<Record<string, number>>('bench/xml-parse.child.ts', { role: 'xml-parse', profile: ctx.profile });
      const trials: ParseTrial[][] = [];
      try {
        for (let i = 0; i < TRIALS; i++) {
          trials.push(await child.call<ParseTrial[]>('trial', { scannerFirst: i % 2 === 0, ms: TRIAL_MS }, 60_000));
          ctx.progress(`trial ${i + 1}/${TRIALS}: ${trials.at(-1)!.map((t) => `${t.doc} ${t.scannerUs.toFixed(0)} / ${t.saxesUs.toFixed(0)} µs`).join(', ')}`);
        }
      } finally {
        await child.stop();
      }
      const figures: Figure[] = [];
      const summary: Record<string, unknown> = {};
      for (const doc of trials[0]!.map((t) => t.doc)) {
        const of = trials.map((ts) => ts.find((t) => t.doc === doc)!);
        const scanner = median(of.map((t) => t.scannerUs));
        const saxes = median(of.map((t) => t.saxesUs));
        const bytes = of[0]!.bytes;
        figures.push({
          bench: id,
          name: `parseXml: ${doc} (${Math.round(bytes / 1024)} KiB), time per read`,
          value: round(scanner / 1000, 2),
          unit: 'ms',
          baseline: { label: 'saxes alone', value: round(saxes / 1000, 2), unit: 'ms' },
          ratio: round(scanner / saxes, 3),
          command: command(id),
        });
        summary[doc] = { bytes, scannerUs: round(scanner), saxesUs: round(saxes), scannerMBps: round(bytes / scanner, 1), saxesMBps: round(bytes / saxes, 1) };
      }
      return { figures, details: { trials: TRIALS, trialMs: TRIAL_MS, documents: summary } };
    },
  };
}
