import type { Command } from 'commander';
import type { FleetCheckResult } from '../../actors/readiness.ts';
import { DEFAULT_POLICY_YAML, loadPolicyFile, policyToObject, type CheckVerdict } from '../../checks/index.ts';
import { DaemonClient, withDaemon } from '../client.ts';
import { CliError } from '../errors.ts';
import { parseSerial, parseVersion } from '../options.ts';
import { outputTo, printJson, table, type Output } from '../output.ts';

export interface CheckPayload {
  devices?: string[];
  all?: boolean;
  targetVersion?: string;
  policy?: Record<string, unknown>;
}

/** `panos.cmd.device.check`: readiness of devices, read-only. */
export function checkDevices(client: DaemonClient, payload: CheckPayload): Promise<FleetCheckResult> {
  return client.request<FleetCheckResult>('device.check', payload);
}

/** Read and validate a policy file here (file:line errors), and send it as an object. */
export function policyPayload(file: string | undefined): { policy?: Record<string, unknown> } {
  if (!file) return {};
  return { policy: policyToObject(loadPolicyFile(file)) };
}

const MARK: Record<string, string> = { pass: 'pass', fail: 'FAIL', warn: 'warn', skipped: 'skip', unavailable: 'n/a' };

function mark(out: Output, v: CheckVerdict): string {
  if (v.status === 'fail') return v.blocking ? out.paint('red', 'FAIL') : out.paint('yellow', 'warn');
  if (v.status === 'unavailable') return out.paint('yellow', 'n/a');
  return MARK[v.status] ?? v.status;
}

/** One table per check, a row per device: what an operator reads before a window. */
export function printFleetChecks(out: Output, r: FleetCheckResult): void {
  const byCheck = new Map<string, { title: string; rows: Array<{ device: string; v: CheckVerdict }> }>();
  for (const d of r.devices) {
    for (const v of d.report?.verdicts ?? []) {
      const g = byCheck.get(v.check) ?? { title: v.title, rows: [] };
      g.rows.push({ device: `${d.hostname} (${d.serial})`, v });
      byCheck.set(v.check, g);
    }
  }
  for (const [name, g] of byCheck) {
    const bad = g.rows.filter((x) => x.v.status === 'fail').length;
    out.line(`${name} — ${g.title}${bad ? `: ${bad} device(s) failing` : ''}`);
    out.line(
      table(
        g.rows,
        [
          { header: '  DEVICE', value: (x) => `  ${x.device}` },
          { header: 'RESULT', value: (x) => mark(out, x.v) },
          { header: 'SEVERITY', value: (x) => x.v.severity },
          { header: 'MESSAGE', value: (x) => x.v.message },
        ],
        out,
      ),
    );
  }
  for (const d of r.devices.filter((x) => x.error)) out.line(out.paint('red', `${d.hostname} (${d.serial}): could not be checked: ${d.error}`));
  for (const d of r.devices.filter((x) => x.planError)) out.line(`${d.hostname} (${d.serial}): no upgrade plan (${d.planError}); checks that need one were skipped`);
  const blocked = r.devices.filter((d) => d.error || !d.report?.ok);
  out.line(blocked.length === 0 ? `Ready: ${r.devices.length} device(s), no blocking failure (policy ${r.policy})` : out.paint('red', `Not ready: ${blocked.map((d) => d.serial).join(', ')} (policy ${r.policy})`));
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('run the readiness checks (read-only) on devices or the whole fleet; exit 1 when a blocking check fails')
    .option('-d, --device <serial...>', 'device serial(s)', (v: string, prev: string[] = []) => [...prev, parseSerial(v)])
    .option('--all', 'every device in the inventory')
    .option('-t, --target <version>', 'the version the upgrade would go to (default: the end of the configured path)', parseVersion)
    .option('--policy <file>', 'readiness policy YAML (default: the shipped one, see --print-policy)')
    .option('--print-policy', 'print the shipped default policy and exit')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { device?: string[]; all?: boolean; target?: string; policy?: string; printPolicy?: boolean; json?: boolean }, cmd: Command) => {
      const out = outputTo();
      if (opts.printPolicy) {
        out.line(DEFAULT_POLICY_YAML.trimEnd());
        return;
      }
      if (!opts.all && !opts.device?.length) throw new CliError('name devices with --device SERIAL (repeatable) or use --all', 2);
      const payload: CheckPayload = {
        ...(opts.all ? { all: true } : { devices: opts.device! }),
        ...(opts.target ? { targetVersion: opts.target } : {}),
        ...policyPayload(opts.policy),
      };
      await withDaemon(cmd, async (client) => {
        const r = await checkDevices(client, payload);
        if (opts.json) printJson(out, r);
        else printFleetChecks(out, r);
        // The result says why (and with --json stays the one object printed): exit 1, no error line.
        if (!r.ok) process.exitCode = 1;
      });
    });
}
