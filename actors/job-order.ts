/** The order `job list` shows jobs in: by submission time, and jobs submitted in the same millisecond (a queue-all) by device serial, then job id. */
export function byJobOrder(a: JobOrderKey, b: JobOrderKey): number {
  return (a.submitted_at ?? '').localeCompare(b.submitted_at ?? '') || a.device_serial.localeCompare(b.device_serial) || a.job_id.localeCompare(b.job_id);
}

export interface JobOrderKey {
  submitted_at: string | null;
  device_serial: string;
  job_id: string;
}
