import { toStatusRecord, type JobState, type JobStatusRecord } from '../machines/upgrade-job.fold.ts';

/** What `panos.cmd.download.status` answers: the seed's summary line, counts by `upgrade_status`, and each device's latest download-only job record. */
export interface DownloadStatusReply {
  /** The seed's words: `150 complete, 10 downloading, 5 failed`. */
  summary: string;
  counts: Record<string, number>;
  total: number;
  /** The job record (`job_id`, `device_serial`, `upgrade_status`, `upgrade_message`, `ready_for_install`, …), as `job status` shows it. */
  devices: JobStatusRecord[];
}

/** How the seed's download summary names each status, in its order (finished first, as the seed's example). */
const SUMMARY_WORDS: ReadonlyArray<[status: string, word: string]> = [
  ['download_complete', 'complete'],
  ['downloading', 'downloading'],
  ['validating', 'validating'],
  ['pending', 'pending'],
  ['failed', 'failed'],
  ['cancelled', 'cancelled'],
];

/** `150 complete, 10 downloading, 5 failed`; `no downloads` when there are none. */
export function downloadSummaryLine(counts: Readonly<Record<string, number>>): string {
  const known = new Set(SUMMARY_WORDS.map(([s]) => s));
  const parts = SUMMARY_WORDS.filter(([s]) => (counts[s] ?? 0) > 0).map(([s, word]) => `${counts[s]} ${word}`);
  for (const [s, n] of Object.entries(counts)) if (!known.has(s) && n > 0) parts.push(`${n} ${s}`);
  return parts.length > 0 ? parts.join(', ') : 'no downloads';
}

/** The reply for the latest download-only job of each device, ordered by serial. */
export function downloadStatusReply(latest: ReadonlyMap<string, JobState>): DownloadStatusReply {
  const counts: Record<string, number> = {};
  const devices: JobStatusRecord[] = [];
  for (const [serial, j] of [...latest.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    counts[j.status] = (counts[j.status] ?? 0) + 1;
    devices.push({ ...toStatusRecord(j), device_serial: serial });
  }
  return { summary: downloadSummaryLine(counts), counts, total: devices.length, devices };
}
