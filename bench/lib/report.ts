import { round } from './stats.ts';

/**
 * One measured figure. `ratio` compares it with a baseline measured in the same run (or a fixed
 * limit), oriented as its goal states: `≥` goals want a high ratio, `≤` goals a low one.
 */
export interface Figure {
  /** The benchmark that produced it (what `--only` selects). */
  bench: string;
  name: string;
  value: number;
  unit: string;
  baseline?: { label: string; value: number; unit: string };
  ratio?: number;
  goal?: { op: '>=' | '<='; value: number };
  /** How to reproduce this figure alone. */
  command: string;
  note?: string;
}

export interface BenchOutcome {
  bench: string;
  ok: boolean;
  wallMs: number;
  figures: Figure[];
  /** Everything else the benchmark measured (per-run samples, process peaks, settings). */
  details: Record<string, unknown>;
  error?: string;
}

export function command(bench: string): string {
  return `npm run bench -- --only ${bench}`;
}

/** How far a figure is from its goal: 1 = exactly at it, < 1 = met, > 1 = missed (by that factor). */
export function shortfall(f: Figure): number | undefined {
  if (f.ratio === undefined || !f.goal) return undefined;
  if (f.goal.op === '>=') return f.ratio > 0 ? f.goal.value / f.ratio : Number.POSITIVE_INFINITY;
  return f.ratio / f.goal.value;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const r = round(v, Math.abs(v) < 1 ? 3 : 2);
  return r.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

export function markdownTable(outcomes: readonly BenchOutcome[]): string {
  const rows = [
    '| figure | value | baseline / limit (same run) | ratio | goal | met | reproduce alone |',
    '|---|---:|---|---:|---|---|---|',
  ];
  for (const o of outcomes) {
    if (!o.ok) {
      rows.push(`| ${o.bench}: **failed** (${(o.error ?? '').split('\n')[0]?.slice(0, 120)}) | | | | | | \`${command(o.bench)}\` |`);
      continue;
    }
    for (const f of o.figures) {
      const base = f.baseline ? `${f.baseline.label}: ${fmt(f.baseline.value)} ${f.baseline.unit}` : '—';
      const ratio = f.ratio === undefined ? '—' : fmt(f.ratio);
      const goal = f.goal ? `${f.goal.op === '>=' ? '≥' : '≤'} ${f.goal.value}` : '—';
      const s = shortfall(f);
      const met = s === undefined ? '—' : s <= 1 ? 'yes' : 'no';
      rows.push(`| ${f.name}${f.note ? ` (${f.note})` : ''} | ${fmt(f.value)} ${f.unit} | ${base} | ${ratio} | ${goal} | ${met} | \`${f.command}\` |`);
    }
  }
  return rows.join('\n');
}
