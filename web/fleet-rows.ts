// The rows of the live view, shared by the server (web/fleet-view.ts) and the browser bundle (web/client/):
// plain types with no imports, so the page's own tsconfig can read them without the server's modules.

/** One row of the page's device table: the device as discovered, and where its latest job stands. */
export interface DeviceRow {
  serial: string;
  hostname: string;
  model: string;
  version: string;
  connected: boolean;
  haState: string | null;
  haPeer: string | null;
  /** Panorama device group, when discovery knew it. */
  group: string | null;
  /** The site from the hostname (`fw-dc1-01` → `dc1`), as campaigns group by it. */
  site: string;
  /** `idle` when the device never had a job; else the latest job's status. */
  status: string;
  progress: number;
  message: string;
  /** Why the latest job failed. */
  reason: string | null;
  jobId: string | null;
  jobKind: string | null;
  updatedAt: string | null;
}

/** One job (a device job, or an HA pair job) in short. */
export interface JobRow {
  jobId: string;
  kind: 'upgrade' | 'download-only' | 'ha-upgrade' | 'ha-download-only';
  devices: string[];
  hostname: string;
  status: string;
  progress: number;
  message: string;
  step: string | null;
  reason: string | null;
  parentId: string | null;
  paused: boolean;
  submittedAt: string | null;
  finishedAt: string | null;
}
