import type { EventEnvelope } from '../eventstore/index.ts';
import { iso, type CampaignRecord, type CampaignWaveRecord } from '../machines/campaign.record.ts';
import { paintStatus, table, type Output } from './output.ts';

function minutes(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 2 * 3600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3600_000).toFixed(1)} h`;
}

function when(iso: string | null): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}

function gateText(w: CampaignWaveRecord, last: boolean): string {
  if (last) return '';
  const parts = [w.soak_ms > 0 ? `soak ${minutes(w.soak_ms)}` : null, w.approval ? 'approval' : null].filter(Boolean);
  return parts.length ? `, then ${parts.join(' and ')}` : ', then straight on';
}

/** `campaign create --dry-run`: every wave, its devices, the windows, the budget and the estimate. */
export function campaignPlanLines(c: CampaignRecord, now: number, out?: Output): string[] {
  const lines: string[] = [];
  const bold = (s: string): string => (out ? out.paint('bold', s) : s);
  lines.push(`Campaign ${bold(c.name)}: dry run, nothing recorded`);
  lines.push(`  target: ${c.target_version ?? 'each device’s configured upgrade path'}; selection: ${c.selection}`);
  lines.push(`  ${c.totals.units} unit(s) (${c.totals.devices} device(s); an HA pair is one unit) in ${c.waves.length} wave(s)`);
  lines.push(
    c.windows.length
      ? `  maintenance windows: ${c.windows.join('; ')} — installs and reboots start only inside one, and only when the job fits before it closes${c.prestage ? '; images pre-stage any time' : ''}`
      : '  maintenance windows: none (installs may start at any time)',
  );
  lines.push(`  failure budget: per wave ${c.budget.wave_text}, overall ${c.budget.overall_text} failed unit(s); past it the campaign halts`);
  if (c.time_scale !== 1) lines.push(`  time scale ${c.time_scale}: campaign time runs ${Math.round(1 / c.time_scale)}× faster than wall time (a rehearsal)`);
  for (const e of c.excluded) lines.push(`  excluded: ${e.hostname} (${e.serial}): ${e.reason}`);
  c.waves.forEach((w, i) => {
    const last = i === c.waves.length - 1;
    lines.push('');
    lines.push(`${bold(`Wave ${w.wave} ${w.name}`)}: ${w.units} unit(s), ${w.devices} device(s), ${w.concurrency} at a time${gateText(w, last)}`);
    if (w.eta_start) lines.push(`  estimated ${when(w.eta_start)} → ${w.eta_end ? when(w.eta_end) : 'no window fits'}`);
    for (const m of w.members ?? []) {
      lines.push(`  ${m.hostnames.join(' / ')} (${m.serials.join(', ')})${m.ha ? '  HA pair' : ''}${m.group ? `  [${m.group}]` : ''}  ~${minutes(m.expected_ms)}`);
    }
  });
  lines.push('');
  if (c.eta) {
    lines.push(`Estimated duration: ${minutes(Date.parse(c.eta) - now)} of wall time, ending ${when(c.eta)}${c.approvals_assumed ? ` (assumes the ${c.approvals_assumed} approval(s) are given at once)` : ''}`);
  } else lines.push('Estimated duration: unknown: no maintenance window is long enough for some unit');
  return lines;
}

const WAVE_STYLE: Record<string, string> = { passed: 'complete', stopped: 'failed', waiting: 'pending' };

/** `campaign status`: where each wave stands, what the campaign waits for, and its ETA. */
export function statusLines(c: CampaignRecord, now: number, out?: Output): string[] {
  const paint = (s: string): string => (out ? paintStatus(out, s) : s);
  const lines: string[] = [];
  lines.push(`Campaign ${c.campaign_id} (${c.name}): ${paint(c.status)}: ${c.message}`);
  lines.push(`  target ${c.target_version ?? '(paths file)'}; ${c.totals.complete}/${c.totals.units} unit(s) complete, ${c.totals.failed} failed, ${c.totals.running} running`);
  if (c.waiting_for) lines.push(`  waits for: ${c.waiting_for}`);
  if (c.eta) lines.push(`  ETA: ${when(c.eta)} (in ${minutes(Math.max(0, Date.parse(c.eta) - now))})`);
  lines.push('');
  const rows = table(
    c.waves,
    [
      { header: 'WAVE', value: (w) => String(w.wave), right: true },
      { header: 'NAME', value: (w) => w.name },
      { header: 'STATUS', value: (w) => paint(WAVE_STYLE[w.status] ? w.status : w.status) },
      { header: 'UNITS', value: (w) => String(w.units), right: true },
      { header: 'DONE', value: (w) => String(w.complete), right: true },
      { header: 'FAILED', value: (w) => String(w.failed), right: true },
      { header: 'RUNNING', value: (w) => String(w.running), right: true },
      { header: 'WAITING', value: (w) => String(w.waiting), right: true },
      { header: 'STARTED', value: (w) => when(w.started_at) },
      { header: 'ENDS (EST.)', value: (w) => (w.status === 'passed' || w.status === 'stopped' ? when(w.ended_at) : when(w.eta_end)) },
    ],
    out,
  );
  lines.push(...rows.trimEnd().split('\n'));
  for (const w of c.waves) {
    for (const m of w.members ?? []) {
      if (m.status === 'waiting') continue;
      lines.push(`  wave ${w.wave}  ${m.hostnames.join(' / ')}  ${paint(m.status)}  ${m.job_id ?? m.stage_job_id ?? ''}  ${m.message}`);
    }
  }
  return lines;
}

/** One line of live progress per campaign event that matters to a person; null for the rest. */
export function eventLine(e: EventEnvelope, names: ReadonlyMap<number, string>): string | null {
  const d = (e.data ?? {}) as Record<string, unknown>;
  const wave = typeof d.wave === 'number' ? d.wave + 1 : null;
  switch (e.type) {
    case 'campaign.wave.started':
      return `wave ${wave} started`;
    case 'campaign.unit.started':
      return `  ${names.get(Number(d.unit)) ?? `unit ${String(d.unit)}`}: ${d.kind === 'download-only' ? 'pre-staging images' : 'upgrade started'} (job ${String(d.jobId)})`;
    case 'campaign.unit.ended':
      return `  ${names.get(Number(d.unit)) ?? `unit ${String(d.unit)}`}: ${String(d.status)}: ${String(d.message)}`;
    case 'campaign.window.waiting':
      return String(d.reason);
    case 'campaign.wave.ended':
      return `wave ${wave} ended: ${String(d.completed)} complete, ${String(d.failed)} failed`;
    case 'campaign.soak.started':
      return `gate after wave ${wave}: soaking until ${when(iso(Number(d.until)))}`;
    case 'campaign.approval.requested':
      return `gate after wave ${wave}: waiting for an operator's approval`;
    case 'campaign.approved':
      return `gate after wave ${wave}: approved by ${String(d.by)}`;
    case 'campaign.gate.passed':
      return `gate after wave ${wave}: passed`;
    case 'campaign.paused':
      return `paused by ${String(d.by)}`;
    case 'campaign.resumed':
      return `resumed by ${String(d.by)}`;
    case 'campaign.budget.exceeded':
      return `halting: ${String(d.reason)}`;
    case 'campaign.abort.requested':
      return `abort requested by ${String(d.by)}`;
    case 'campaign.completed':
    case 'campaign.halted':
    case 'campaign.aborted':
      return String(d.message ?? d.reason);
    default:
      return null;
  }
}
