import type { ContentPackage, DeviceMetrics, DiskRecord, HaLocalState, SoftwareImage } from '../panos/model.ts';
import type { ReadinessSpec } from '../panos/readiness-model.ts';

/** Timing modes of the seed: fast (CI), realistic (demos, a range), production (stress). */
export type TimingMode = 'fast' | 'realistic' | 'production';

/** Every duration is in milliseconds and already multiplied by `timeScale`. */
export interface ScenarioTiming {
  mode: TimingMode;
  timeScale: number;
  /** [min, max]; a device draws its own value in the range with the scenario's seeded generator. */
  downloadMs: [number, number];
  installMs: [number, number];
  rebootMs: [number, number];
  contentDownloadMs: [number, number];
  contentInstallMs: [number, number];
  /** Auto-commit after boot, during which installs are refused. */
  autoCommitMs: [number, number];
}

export interface AdminUser {
  username: string;
  password: string;
}

export interface PanoramaSpec {
  serial: string;
  hostname: string;
  model: string;
  swVersion: string;
  mgmtIp: string;
}

export interface HaSpec {
  peerSerial: string;
  priority: number;
  preemptive: boolean;
  groupId: number;
  /** State at start: one peer of a pair is active, the other passive. */
  initialState: HaLocalState;
}

export interface DeviceSpec {
  serial: string;
  hostname: string;
  model: string;
  family: string;
  /** Management address; a distinct loopback address (127.0.x.y) unless the scenario gives one. */
  mgmtIp: string;
  swVersion: string;
  images: SoftwareImage[];
  downloaded: string[];
  content: { installed: string; available: ContentPackage[] };
  metrics: DeviceMetrics;
  disk: DiskRecord;
  ha?: HaSpec;
  /** Whether Panorama shows it connected at start. */
  connected: boolean;
  /** Readiness fields (NTP, BGP, tunnels, licenses, …); absent: every default. Shared between devices that take it from `defaults:`. */
  readiness?: ReadinessSpec;
}

/**
 * Operations a failure can target. The first six are the seed's; the rest are the chaos faults:
 * `api` (transport: latency, hang, HTTP 5xx, dropped connection, not connected through Panorama),
 * `busy` (the software manager refuses downloads and installs) and `crash` (an unplanned reboot).
 */
export type FailureOperation =
  | 'download'
  | 'install'
  | 'reboot'
  | 'content_download'
  | 'content_install'
  | 'autocommit'
  | 'api'
  | 'busy'
  | 'crash'
  | 'readiness';

export interface FailureSpec {
  /** A serial, or `*` for every device. */
  device: string;
  operation: FailureOperation;
  /** Probability in [0, 1] that one attempt fails, drawn from the seeded generator. */
  failureRate: number;
  /** The text PAN-OS reports (job details line). */
  error: string;
  /** How a failure shows, beyond the default failed job: e.g. a reboot that `never_returns`. */
  mode?: string;
  /** `duration` in ms, already multiplied by the time scale: the latency of `api` `latency`, the downtime of a `crash`. */
  durationMs?: number;
  /** How many times longer a `slow` operation takes. */
  factor?: number;
  /** 1-based line of the entry in the file. */
  line?: number;
}

/** PAN-OS administrator lockout (Device > Setup > Management > Authentication Settings). */
export interface AuthenticationSettings {
  /** Wrong passwords in a row before a user is locked out of a device; 0 = never (PAN-OS: 0–10). */
  failedAttempts: number;
  /** How long the lockout lasts, in minutes (PAN-OS: 0–60); wall time, not scaled by the timing. */
  lockoutMinutes: number;
}

export interface Scenario {
  /** The file it was loaded from (as given), or `<inline>`. */
  file: string;
  name: string;
  description: string;
  seed: number;
  apiKey: string;
  admins: AdminUser[];
  /** Keygen lockout; default 10 attempts, 5 minutes. */
  authentication: AuthenticationSettings;
  timing: ScenarioTiming;
  panorama: PanoramaSpec;
  devices: DeviceSpec[];
  failures: FailureSpec[];
  /** Static upgrade paths: current version → hops (the seed's map). */
  upgradePaths: Record<string, string[]>;
}
