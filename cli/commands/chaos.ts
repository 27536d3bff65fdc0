import { InvalidArgumentError, type Command } from 'commander';
import pino from 'pino';
import { chaosRunPlan, runChaos, runClusterChaos, type ChaosOptions, type ChaosReport } from '../../chaos/index.ts';
import { describeJobCounts, type ChaosPlan } from '../../forensics/index.ts';
import { CLI_BIN, shippedScenario } from '../paths.ts';

function ms(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${n} ms`;
}

export function formatChaosReport(r: ChaosReport): string {
  const out: string[] = [];
  out.push(`Chaos run of ${r.scenario} with seed ${r.seed}: ${r.devices} device(s), time scale ${r.timeScale}, ${ms(r.durationMs)}${r.timedOut ? ' (gave up waiting)' : ''}`);
  out.push('', 'Disruptions:');
  for (const d of r.disruptions) out.push(`  +${ms(d.atMs).padEnd(9)} ${`${d.what}${d.kill && d.kill !== 'running' ? ` (${d.kill})` : ''}`.padEnd(22)} took ${ms(d.tookMs)}: ${d.detail}`);
  if (r.disruptions.length < r.plan.disruptions.length) out.push(`  (${r.plan.disruptions.length - r.disruptions.length} planned disruption(s) did not happen)`);
  out.push('', 'Faults declared in the scenario:');
  for (const f of r.plan.declared) out.push(`  ${f.device.padEnd(14)} ${f.fault}`);
  if (r.plan.injections.length > 0) {
    out.push('', 'Faults switched on live (panos.sim.ctl.<serial>.faults), on devices still being worked on:');
    for (const i of r.live) {
      const moved = i.device !== i.planned ? ` (planned for ${i.planned}, whose job was not running)` : '';
      out.push(`  ${i.device.padEnd(14)} ${i.fault}, from +${ms(i.atMs)}${i.clearedMs !== null ? ` to +${ms(i.clearedMs)}` : ''}${moved}`);
    }
    if (r.live.length < r.plan.injections.length) out.push(`  (${r.plan.injections.length - r.live.length} planned fault(s) found no device with a running job)`);
  }
  out.push('', 'Faults that showed (device, fault, when):');
  if (r.injected.length === 0) out.push('  none');
  for (const f of r.injected) out.push(`  ${f.device.padEnd(14)} ${f.fault}${f.count > 1 ? ` ×${f.count}` : ''} at +${ms(f.firstMs)}${f.count > 1 ? `…+${ms(f.lastMs)}` : ''}`);
  const skipped = r.submitted.filter((s) => !s.jobId);
  out.push('', `Jobs: ${describeJobCounts(r.jobs)}${skipped.length ? `; not submitted: ${skipped.map((s) => `${s.device} (${s.reason})`).join('; ')}` : ''}`);
  out.push(`Daemon runs: ${r.daemonRuns.map((d) => `${d.runId}${d.stopped ? '' : ' (killed)'} ${d.verified ? 'verified' : `${d.mismatches} mismatch(es)`}`).join(', ')}`);
  out.push('', 'Invariants:');
  for (const i of r.invariants) {
    out.push(`  ${i.ok ? 'PASS' : 'FAIL'}  ${i.name}: ${i.detail}`);
    for (const v of i.violations.slice(0, 20)) out.push(`        ✗ ${v}`);
    if (i.violations.length > 20) out.push(`        … and ${i.violations.length - 20} more`);
    for (const n of i.notes ?? []) out.push(`        note: ${n}`);
  }
  const warnings = r.warnings ?? [];
  if (warnings.length > 0) out.push('');
  for (const w of warnings) out.push(`Warning: ${w}.`);
  const nothingRan = Object.values(r.jobs).every((n) => n === 0);
  out.push('', r.ok ? (nothingRan ? 'All invariants hold, but nothing was tested.' : 'All invariants hold.') : 'Some invariants failed.');
  if (r.workDir) out.push(`Logs and report: ${r.workDir}`);
  return out.join('\n');
}

function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number ≥ 0, got "${value}"`);
  return n;
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number greater than 0, got "${value}"`);
  return n;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number ≥ 1, got "${value}"`);
  return n;
}

export function registerChaos(program: Command): void {
  program
    .command('chaos')
    .description(
      'upgrade a simulated fleet under injected faults while the daemon is killed, the simulator and NATS restarted; then check the invariants (exit 1 if any fails)',
    )
    .option('-s, --scenario <file>', 'scenario with failures', shippedScenario('chaos'))
    .requiredOption('--seed <n>', 'seed for every fault and every disruption moment (one seed, the same faults)', parseSeed)
    .option('--devices <k>', 'only the first K devices (HA peers come along)', parseCount)
    .option('--time-scale <factor>', 'multiply every simulated duration (default 0.05)', parsePositive)
    .option('--concurrency <n>', 'devices (or HA pairs) upgraded at once', parseCount)
    .option('--kills <n>', 'daemon SIGKILLs in the run (default 1); from the second on, some hit the restarted daemon during its start-up or while it resumes', parseCount)
    .option('--timeout <seconds>', 'stop waiting for the jobs after this long', parsePositive)
    .option('--work-dir <dir>', 'keep the logs (event logs, daemon output, report.json) here')
    .option('--keep', 'keep the temporary work dir even when every invariant holds')
    .option('--cluster', 'three daemons on a private 3-node NATS cluster: the busiest daemon’s machine is lost (kill -9, data dir deleted), a NATS node stopped, a daemon frozen past its lease; also checks every job fact was made under its lease and the frozen daemon sent nothing after it woke')
    .option('--campaign', 'upgrade the fleet with one campaign (canary, 25 %, rest; soak; a window; a budget) and check its invariants too')
    .option('--plan', 'only print the plan this seed gives (disruptions, live faults) and exit')
    .option('--json', 'print the report as JSON')
    .action(
      async (opts: {
        scenario: string;
        seed: number;
        campaign?: boolean;
        cluster?: boolean;
        devices?: number;
        timeScale?: number;
        concurrency?: number;
        kills?: number;
        timeout?: number;
        workDir?: string;
        keep?: boolean;
        plan?: boolean;
        json?: boolean;
      }, cmd: Command) => {
        const options: ChaosOptions = {
          scenario: opts.scenario,
          seed: opts.seed,
          cliBin: CLI_BIN,
          timeScale: opts.timeScale ?? 0.05,
          ...(opts.devices !== undefined ? { devices: opts.devices } : {}),
          ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
          ...(opts.kills !== undefined ? { kills: opts.kills } : {}),
          ...(opts.timeout !== undefined ? { timeoutSeconds: opts.timeout } : {}),
          ...(opts.workDir ? { workDir: opts.workDir } : {}),
          ...(opts.keep ? { keep: true } : {}),
          ...(opts.campaign ? { campaign: true } : {}),
          ...(opts.cluster ? { cluster: true } : {}),
        };
        if (opts.cluster && (opts.campaign || opts.kills !== undefined)) cmd.error('error: --cluster has its own disruptions: it cannot be combined with --campaign or --kills', { exitCode: 2 });
        if (opts.plan) {
          const plan = chaosRunPlan(options);
          process.stdout.write(opts.json ? `${JSON.stringify(plan, null, 2)}\n` : `${formatPlan(plan)}\n`);
          return;
        }
        const log = pino({ level: process.env.PANOS_LOG_LEVEL ?? 'warn' }, pino.destination(2));
        const report = options.cluster ? await runClusterChaos(options, log) : await runChaos(options, log);
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatChaosReport(report)}\n`);
        if (!report.ok) process.exitCode = 1;
        // The report is out: a handle a cleanup step left behind (see cleanUp) must not keep the run from ending.
        // Unref'd, this timer never keeps the process alive by itself.
        setTimeout(() => {
          log.warn({ afterMs: EXIT_GRACE_MS }, 'still running after the report: exiting');
          process.exit();
        }, EXIT_GRACE_MS).unref();
      },
    );
}

/** How long a chaos run may take to end by itself once its report is written. */
const EXIT_GRACE_MS = 10_000;

export function formatPlan(p: ChaosPlan): string {
  const lines = [`Seed ${p.seed}, estimated upgrade ${ms(p.estimateMs)}:`];
  for (const d of p.disruptions) lines.push(`  +${ms(d.atMs).padEnd(9)} ${d.what}${d.kill && d.kill !== 'running' ? ` during ${d.kill}, ${d.afterMs ?? 0} ms after the restart ${d.kill === 'start-up' ? 'began' : 'answered'}` : ''}`);
  for (const i of p.injections) lines.push(`  +${ms(i.atMs).padEnd(9)} ${i.device}: ${i.fault} until +${ms(i.untilMs)}`);
  for (const f of p.declared) lines.push(`  declared   ${f.device}: ${f.fault}`);
  return lines.join('\n');
}
