import type { Figure } from './report.ts';

export interface BenchContext {
  /** Roles to run under `--cpu-prof`. */
  profile: ReadonlySet<string>;
  /** Progress lines go to stderr, so stdout stays the report. */
  progress(message: string): void;
  /** Aborted when the benchmark overruns its budget: stop waiting, let the runner kill the children. */
  signal: AbortSignal;
  /** When (performance.now()) the runner will abort it: a benchmark that can stop early and report what it measured does so before. */
  deadline: number;
}

export interface BenchDef {
  /** What `--only` selects: the id itself, or its group. */
  id: string;
  group: string;
  /** The benchmark is stopped (its children killed) when it runs longer than this. */
  budgetMs: number;
  run(ctx: BenchContext): Promise<{ figures: Figure[]; details: Record<string, unknown> }>;
}
