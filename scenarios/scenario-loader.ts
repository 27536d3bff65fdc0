import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { basename, extname } from 'node:path';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, YAMLError } from 'yaml';
import { ScenarioError } from '../panos/errors.ts';
import { compareContentVersions } from '../panos/model.ts';
import type { ContentPackage, DeviceMetrics, HaLocalState, SoftwareImage } from '../panos/model.ts';
import { isScheduleText, type CriticalSession, type ReadinessSpec } from '../panos/readiness-model.ts';
import { compareVersions, isVersion } from '../panos/version.ts';
import { upgradePathsProblem } from '../panos/upgrade-path.ts';
import { formatYamlPath } from '../panos/yaml-text.ts';
import {
  DEFAULT_ADMINS,
  DEFAULT_API_KEY,
  DEFAULT_CONTENT_VERSION,
  DEFAULT_DISK_FREE_GB,
  DEFAULT_DISK_FULL_ERROR,
  DEFAULT_FAILURE_ERRORS,
  DEFAULT_IMAGE_SIZE_MB,
  DEFAULT_MODEL,
  DEFAULT_PANORAMA,
  DEFAULT_SEED,
  FAILURE_MODES,
  FAILURE_OPERATIONS,
  TIMING_ENV,
  TIMING_MODES,
  TIMING_MODE_SECONDS,
  defaultContentPackage,
  defaultMetrics,
  defaultMgmtIp,
  defaultReleasedOn,
  modelFamily,
  newerContentVersions,
} from './scenario-defaults.ts';
import type { TimingSeconds } from './scenario-defaults.ts';
import type {
  AdminUser,
  AuthenticationSettings,
  DeviceSpec,
  FailureOperation,
  FailureSpec,
  HaSpec,
  PanoramaSpec,
  Scenario,
  ScenarioTiming,
  TimingMode,
} from './types.ts';

export interface ScenarioLoadOptions {
  /** Where DOWNLOAD_DURATION, INSTALL_DURATION and REBOOT_DURATION are read; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Overrides the scenario's `timing.time_scale`. */
  timeScale?: number;
}

/** Read and validate a scenario file; every problem is a ScenarioError naming the file, line and field. */
export function loadScenarioFile(path: string, options: ScenarioLoadOptions = {}): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String((err as Error).message);
    throw new ScenarioError(path, undefined, '', `cannot read the scenario file: ${why}`);
  }
  return parseScenario(text, path, options);
}

/** Parse and validate scenario YAML; `file` is only used in error messages and `Scenario.file`. */
export function parseScenario(text: string, file: string, options: ScenarioLoadOptions = {}): Scenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw yamlError(doc, lineCounter, problem, file);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 10_000 });
  } catch (err) {
    throw new ScenarioError(file, undefined, '', `the YAML cannot be read: ${(err as Error).message}`);
  }
  return buildScenario(raw, file, documentLocator(doc, lineCounter), options);
}

/**
 * Validate a scenario given as a plain object in the YAML's shape (snake_case keys), e.g. from the
 * fleet generator, without going through YAML text. Errors carry no line.
 */
export function scenarioFromObject(obj: unknown, file = '<inline>', options: ScenarioLoadOptions = {}): Scenario {
  return buildScenario(obj, file, undefined, options);
}

type Seg = string | number;
type Path = readonly Seg[];
type At = 'key' | 'value';

/** `devices[3].serial`, `upgrade_paths["10.0.2"][1]` */
export const formatPath: (path: Path) => string = formatYamlPath;

interface Locator {
  line(path: Path, at: At): number | undefined;
  /** The text of a scalar as written, e.g. `0011` for a value YAML read as 11. */
  source(path: Path): string | undefined;
}

interface Ranged {
  range?: readonly number[] | null;
}

function startOf(node: unknown): number | undefined {
  const range = (node as Ranged | null | undefined)?.range;
  return range ? range[0] : undefined;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' || typeof key === 'number' ? String(key) : undefined;
}

function documentLocator(doc: Document, lc: LineCounter): Locator {
  const lineOf = (offset: number): number => lc.linePos(offset).line;
  const find = (path: Path): { node: unknown; key: unknown; nearest: unknown; complete: boolean } => {
    let node: unknown = doc.contents;
    let key: unknown;
    let nearest: unknown = node;
    // Inside an alias the nodes sit where the anchor was written; report where the alias is used.
    let viaAlias = false;
    for (const seg of path) {
      if (isAlias(node)) {
        node = node.resolve(doc);
        viaAlias = true;
      }
      key = undefined;
      if (isMap(node)) {
        let found: { key: unknown; value: unknown } | undefined;
        for (const pair of node.items) if (keyText(pair.key) === String(seg)) found = pair;
        if (!found) return { node: undefined, key: undefined, nearest, complete: false };
        key = found.key;
        node = found.value;
        if (!viaAlias) nearest = startOf(node) !== undefined && !isEmptyScalar(node) ? node : key;
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
        node = node.items[seg];
        key = undefined;
        if (!viaAlias) nearest = node;
      } else {
        return { node: undefined, key: undefined, nearest, complete: false };
      }
    }
    return { node, key, nearest, complete: true };
  };
  return {
    line(path, at) {
      const found = find(path);
      const target = found.complete && at === 'key' && found.key !== undefined && startOf(found.key) !== undefined ? found.key : found.nearest;
      const offset = startOf(target);
      return offset === undefined ? undefined : lineOf(offset);
    },
    source(path) {
      const { node, complete } = find(path);
      return complete && isScalar(node) && typeof node.source === 'string' ? node.source : undefined;
    },
  };
}

function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && (node.source === '' || node.source === undefined);
}

/** The first key that appears twice in one map (yaml reports DUPLICATE_KEY at an imprecise offset). */
function findDuplicateKey(root: unknown): { path: Seg[]; key: unknown; first: unknown } | undefined {
  const walk = (node: unknown, path: Seg[]): ReturnType<typeof findDuplicateKey> => {
    if (isMap(node)) {
      const seen = new Map<string, unknown>();
      for (const pair of node.items) {
        const name = keyText(pair.key);
        if (name === undefined) continue;
        const first = seen.get(name);
        if (first !== undefined) return { path: [...path, name], key: pair.key, first };
        seen.set(name, pair.key);
      }
      for (const pair of node.items) {
        const name = keyText(pair.key);
        const hit = name === undefined ? undefined : walk(pair.value, [...path, name]);
        if (hit) return hit;
      }
    } else if (isSeq(node)) {
      for (let i = 0; i < node.items.length; i++) {
        const hit = walk(node.items[i], [...path, i]);
        if (hit) return hit;
      }
    }
    return undefined;
  };
  return walk(root, []);
}

/** The field path of the node that contains `offset`, as deep as the document could be composed. */
function pathAtOffset(root: unknown, offset: number): Seg[] {
  const path: Seg[] = [];
  const range = (node: unknown): readonly number[] | undefined => (node as Ranged | null | undefined)?.range ?? undefined;
  const contains = (node: unknown): boolean => {
    const r = range(node);
    return !!r && r[0]! <= offset && offset < r[2]!;
  };
  // A pair spans from its key to the end of its value, tags and anchors included.
  const pairContains = (key: unknown, value: unknown): boolean => {
    const start = range(key)?.[0] ?? range(value)?.[0];
    const end = range(value)?.[2] ?? range(key)?.[2];
    return start !== undefined && end !== undefined && start <= offset && offset < end;
  };
  let node = root;
  for (;;) {
    let next: unknown;
    if (isMap(node)) {
      for (const pair of node.items) {
        const name = keyText(pair.key);
        if (name !== undefined && pairContains(pair.key, pair.value)) {
          path.push(name);
          next = pair.value;
          break;
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        if (next === undefined && contains(item)) {
          path.push(i);
          next = item;
        }
      });
    }
    if (next === undefined) return path;
    node = next;
  }
}

function yamlError(doc: Document, lc: LineCounter, err: YAMLError, file: string): ScenarioError {
  if (err.code === 'DUPLICATE_KEY') {
    const dup = findDuplicateKey(doc.contents);
    if (dup) {
      const line = lc.linePos(startOf(dup.key) ?? err.pos[0]).line;
      const firstLine = lc.linePos(startOf(dup.first) ?? 0).line;
      const name = String(dup.path[dup.path.length - 1]);
      return new ScenarioError(
        file,
        line,
        formatPath(dup.path),
        `duplicate field "${name}" (already given at line ${firstLine}); each field may appear only once per entry`,
      );
    }
  }
  const line = lc.linePos(err.pos[0]).line;
  const text = err.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '').trim();
  const problem =
    err.code === 'MULTIPLE_DOCS'
      ? 'a scenario is a single YAML document; remove the extra "---" separator'
      : err.code === 'TAG_RESOLVE_FAILED'
        ? `unsupported YAML tag (${text}); scenarios use plain values only`
        : `invalid YAML: ${text}`;
  return new ScenarioError(file, line, formatPath(pathAtOffset(doc.contents, err.pos[0])), problem);
}

type Raw = Record<string, unknown>;

/** Levenshtein distance, for did-you-mean suggestions. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The closest of `choices` to `word`, if close enough to be a typo (or a camelCase spelling). */
export function suggest(word: string, choices: readonly string[]): string | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/[_\s-]/g, '');
  const w = norm(word);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const choice of choices) {
    const d = distance(w, norm(choice));
    if (d < bestDistance) {
      best = choice;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(w.length / 3)) ? best : undefined;
}

function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** `readiness:` of a device or of defaults (every field optional; names as in the YAML). */
function readinessSpec(c: Checker, value: unknown, path: Path): ReadinessSpec {
  const r = c.map(value, path, READINESS_FIELDS);
  const out: ReadinessSpec = {};
  const at = (f: string): Path => [...path, f];
  const count = (f: (typeof READINESS_FIELDS)[number], max: number) => c.number(r[f], at(f), { integer: true, min: 0, max });
  const pct = (f: (typeof READINESS_FIELDS)[number]) => c.number(r[f], at(f), { min: 0, max: 100, unit: '%' });
  const date = (f: (typeof READINESS_FIELDS)[number]) => {
    const v = r[f];
    if (typeof v === 'string' && ISO_DATE_RE.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`))) return v;
    return c.expected(v, at(f), 'a date in quotes, "YYYY-MM-DD"');
  };
  if (r.ntp_servers !== undefined) {
    out.ntpServers = c.list(r.ntp_servers, at('ntp_servers')).map((s, i) => c.hostname(s, [...at('ntp_servers'), i]));
    if (out.ntpServers.length > 2) c.fail(at('ntp_servers'), 'a firewall has at most 2 NTP servers (primary and secondary)');
  }
  if (r.interfaces !== undefined) out.interfaces = Math.max(2, count('interfaces', 32));
  if (r.virtual_routers !== undefined) out.virtualRouters = c.number(r.virtual_routers, at('virtual_routers'), { integer: true, min: 1, max: 8 });
  if (r.bgp_peers !== undefined) out.bgpPeers = count('bgp_peers', 16);
  if (r.ipsec_tunnels !== undefined) out.ipsecTunnels = count('ipsec_tunnels', 64);
  if (r.license_expires !== undefined) out.licenseExpires = date('license_expires');
  if (r.support_expires !== undefined) out.supportExpires = date('support_expires');
  if (r.support_level !== undefined) out.supportLevel = c.string(r.support_level, at('support_level'));
  if (r.jumbo_frame !== undefined) out.jumboFrame = c.boolean(r.jumbo_frame, at('jumbo_frame'));
  if (r.advanced_routing !== undefined) out.advancedRouting = c.boolean(r.advanced_routing, at('advanced_routing'));
  if (r.panorama !== undefined) out.panorama = c.boolean(r.panorama, at('panorama'));
  if (r.device_group !== undefined) out.deviceGroup = c.hostname(r.device_group, at('device_group'));
  if (r.template_stack !== undefined) out.templateStack = c.hostname(r.template_stack, at('template_stack'));
  if (r.user_id_service !== undefined) out.userIdService = c.boolean(r.user_id_service, at('user_id_service'));
  if (r.redistribution_clients !== undefined) out.redistributionClients = count('redistribution_clients', 64);
  if (r.dp_cpu_pct !== undefined) out.dpCpuPct = pct('dp_cpu_pct');
  if (r.mp_cpu_pct !== undefined) out.mpCpuPct = pct('mp_cpu_pct');
  if (r.mp_memory_pct !== undefined) out.mpMemoryPct = pct('mp_memory_pct');
  if (r.critical_sessions !== undefined) {
    out.criticalSessions = c.list(r.critical_sessions, at('critical_sessions')).map((item, i) => {
      const p: Path = [...at('critical_sessions'), i];
      const s = c.map(item, p, CRITICAL_SESSION_FIELDS, ['source', 'destination', 'port']);
      const session: CriticalSession = {
        source: c.ip(s.source, [...p, 'source']),
        destination: c.ip(s.destination, [...p, 'destination']),
        port: c.number(s.port, [...p, 'port'], { integer: true, min: 1, max: 65535 }),
      };
      if (s.protocol !== undefined) {
        const proto = c.oneOf(s.protocol, [...p, 'protocol'], ['tcp', 'udp'] as const, 'protocol');
        session.protocol = proto === 'udp' ? 17 : 6;
      }
      return session;
    });
  }
  if (r.update_schedules !== undefined) {
    const u = c.map(r.update_schedules, at('update_schedules'), UPDATE_SCHEDULE_FIELDS);
    const schedules: NonNullable<ReadinessSpec['updateSchedules']> = {};
    for (const f of UPDATE_SCHEDULE_FIELDS) {
      if (u[f] === undefined) continue;
      const p = [...at('update_schedules'), f];
      const text = c.string(u[f], p);
      if (!isScheduleText(text)) {
        c.fail(p, `${f} must be a schedule like "daily 03:15", "weekly sunday 04:10", "hourly 20", "every-30-mins", "real-time" or "none", got ${JSON.stringify(text)}`);
      }
      schedules[f] = text.trim();
    }
    out.updateSchedules = schedules;
  }
  return Object.freeze(out);
}

const SERIAL_RE = /^\d{1,20}$/;
const CONTENT_RE = /^\d+-\d+$/;
const RELEASED_ON_RE = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}$/;
const HOSTNAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

class Checker {
  /** Versions already checked: a fleet repeats a handful of them many thousand times. */
  private readonly versions = new Set<string>();

  constructor(
    readonly file: string,
    private readonly loc: Locator | undefined,
  ) {}

  line(path: Path, at: At = 'value'): number | undefined {
    return this.loc?.line(path, at);
  }

  fail(path: Path, problem: string, at: At = 'value'): never {
    throw new ScenarioError(this.file, this.line(path, at), formatPath(path), problem);
  }

  /** How the field is named in a message: `serial`, `available_versions[2]`. */
  label(path: Path): string {
    let i = path.length - 1;
    while (i > 0 && typeof path[i] === 'number') i--;
    return formatPath(path.slice(Math.max(0, i))) || 'the scenario';
  }

  describe(value: unknown, path: Path): string {
    if (value === null || value === undefined) return 'nothing (the field is empty)';
    // A secret's value is not repeated in an error, only its kind.
    if (SECRET_FIELDS.has(String(path.at(-1)))) return typeof value === 'number' ? 'a number' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a map of fields' : `a ${typeof value}`;
    if (typeof value === 'number') {
      const src = this.loc?.source(path);
      return src !== undefined && src !== String(value)
        ? `the number ${value} (YAML reads ${src} as a number)`
        : `the number ${value}`;
    }
    if (typeof value === 'boolean') return `${value}`;
    if (typeof value === 'string') return JSON.stringify(value);
    if (Array.isArray(value)) return 'a list';
    return 'a map of fields';
  }

  expected(value: unknown, path: Path, what: string): never {
    this.fail(path, `${this.label(path)} must be ${what}, got ${this.describe(value, path)}`);
  }

  map(value: unknown, path: Path, fields: readonly string[], required: readonly string[] = []): Raw {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.expected(value, path, 'a map of fields (key: value)');
    }
    const obj = value as Raw;
    for (const key of Object.keys(obj)) {
      if (fields.includes(key)) continue;
      const hint =
        key === '<<'
          ? 'YAML merge keys are not supported; put shared fields under defaults:'
          : (() => {
              const s = suggest(key, fields);
              return s ? `did you mean ${s}?` : `expected one of: ${fields.join(', ')}`;
            })();
      this.fail([...path, key], `unknown field "${key}" (${hint})`, 'key');
    }
    for (const key of required) {
      if (obj[key] === undefined) {
        this.fail(path, `missing required field "${key}"${path.length ? ` in ${this.label(path)}` : ''}`);
      }
    }
    return obj;
  }

  list(value: unknown, path: Path): unknown[] {
    if (!Array.isArray(value)) this.expected(value, path, 'a list');
    return value;
  }

  string(value: unknown, path: Path): string {
    if (typeof value !== 'string') {
      this.expected(value, path, typeof value === 'number' || typeof value === 'boolean' ? 'a quoted string' : 'a string');
    }
    if (value.trim() === '') this.fail(path, `${this.label(path)} must not be empty`);
    return value;
  }

  number(value: unknown, path: Path, opts: { min?: number; max?: number; integer?: boolean; unit?: string } = {}): number {
    const unit = opts.unit ? ` ${opts.unit}` : '';
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.expected(value, path, opts.integer ? `a whole number${unit}` : `a number${unit}`);
    }
    if (opts.integer && !Number.isInteger(value)) this.expected(value, path, `a whole number${unit}`);
    if (opts.min !== undefined && opts.max !== undefined && (value < opts.min || value > opts.max)) {
      this.fail(path, `${this.label(path)} must be between ${opts.min} and ${opts.max}${unit}, got ${value}`);
    }
    if (opts.min !== undefined && value < opts.min) this.fail(path, `${this.label(path)} must be ≥ ${opts.min}${unit}, got ${value}`);
    if (opts.max !== undefined && value > opts.max) this.fail(path, `${this.label(path)} must be ≤ ${opts.max}${unit}, got ${value}`);
    return value;
  }

  boolean(value: unknown, path: Path): boolean {
    if (typeof value !== 'boolean') this.expected(value, path, 'true or false');
    return value;
  }

  serial(value: unknown, path: Path): string {
    const name = this.label(path);
    if (typeof value === 'number') {
      const src = this.loc?.source(path) ?? String(value);
      const key = [...path].reverse().find((s): s is string => typeof s === 'string') ?? 'serial';
      this.fail(
        path,
        `${name} must be a quoted string of digits (YAML reads ${src} as the number ${value}); write ${key}: "${src}"`,
      );
    }
    if (typeof value !== 'string') this.expected(value, path, 'a quoted string of digits');
    if (!SERIAL_RE.test(value)) {
      this.fail(path, `${name} must be 1 to 20 digits (PAN-OS serials are 12 to 15 digits), got ${JSON.stringify(value)}`);
    }
    return value;
  }

  version(value: unknown, path: Path): string {
    if (typeof value === 'string' && this.versions.has(value)) return value;
    if (isVersion(value)) {
      const version = value.trim();
      this.versions.add(version);
      return version;
    }
    const quote = typeof value === 'number' ? '; quote versions, e.g. "10.1.0"' : '';
    this.fail(
      path,
      `${this.label(path)} must be a PAN-OS version like 10.1.0 or 10.1.9-h1, got ${this.describe(value, path)}${quote}`,
    );
  }

  contentVersion(value: unknown, path: Path): string {
    if (typeof value === 'string' && CONTENT_RE.test(value)) return value;
    this.expected(value, path, 'an app/threat content version like "8700-7000"');
  }

  ip(value: unknown, path: Path): string {
    if (typeof value === 'string' && isIP(value) !== 0) return value;
    this.expected(value, path, 'an IPv4 or IPv6 address like 127.0.1.10');
  }

  hostname(value: unknown, path: Path): string {
    const text = this.string(value, path);
    if (!HOSTNAME_RE.test(text)) {
      this.fail(
        path,
        `${this.label(path)} must be 1 to 63 letters, digits, dots, dashes or underscores starting with a letter or digit, got ${JSON.stringify(text)}`,
      );
    }
    return text;
  }

  oneOf<T extends string>(value: unknown, path: Path, choices: readonly T[], what: string): T {
    if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
    if (typeof value !== 'string') this.expected(value, path, `one of ${orList(choices)}`);
    const s = suggest(value, choices);
    this.fail(path, `unknown ${what} "${value}" (${s ? `did you mean ${s}?` : `expected ${orList(choices)}`})`);
  }

  /** A duration in seconds, or [min, max]. */
  duration(value: unknown, path: Path): [number, number] {
    const what = 'a number of seconds or [min, max]';
    const one = (v: unknown, p: Path): number => {
      if (typeof v !== 'number' || !Number.isFinite(v)) this.expected(v, p, what);
      if (v < 0) this.fail(p, `${this.label(path)} must be ≥ 0 seconds, got ${v}`);
      return v;
    };
    if (Array.isArray(value)) {
      if (value.length !== 2) this.expected(value, path, `${what} (a list of exactly two numbers)`);
      const min = one(value[0], [...path, 0]);
      const max = one(value[1], [...path, 1]);
      if (min > max) this.fail(path, `${this.label(path)}: the minimum (${min} s) is larger than the maximum (${max} s)`);
      return [min, max];
    }
    const v = one(value, path);
    return [v, v];
  }
}

const ROOT_FIELDS = [
  'name',
  'description',
  'seed',
  'api_key',
  'admins',
  'authentication',
  'timing',
  'panorama',
  'images',
  'defaults',
  'devices',
  'ha_pairs',
  'failures',
  'upgrade_paths',
] as const;
const AUTHENTICATION_FIELDS = ['failed_attempts', 'lockout_time'] as const;
const TIMING_FIELDS = [
  'mode',
  'download_duration',
  'install_duration',
  'reboot_duration',
  'content_download_duration',
  'content_install_duration',
  'autocommit_duration',
  'time_scale',
] as const;
const TIMING_FIELD_KEYS: Record<string, keyof TimingSeconds> = {
  download_duration: 'download',
  install_duration: 'install',
  reboot_duration: 'reboot',
  content_download_duration: 'contentDownload',
  content_install_duration: 'contentInstall',
  autocommit_duration: 'autoCommit',
};
const PANORAMA_FIELDS = ['serial', 'hostname', 'model', 'version', 'mgmt_ip'] as const;
const ADMIN_FIELDS = ['username', 'password'] as const;
/** Fields whose values an error never repeats. */
const SECRET_FIELDS: ReadonlySet<string> = new Set(['password', 'api_key']);
const IMAGE_FIELDS = ['version', 'size_mb', 'released_on', 'min_content'] as const;
/** Fields a device may take from `defaults:`; identity, address and HA are per device. */
const SHARED_FIELDS = [
  'model',
  'current_version',
  'available_versions',
  'downloaded_versions',
  'content_version',
  'available_content',
  'connected',
  'metrics',
  'readiness',
] as const;
const DEVICE_FIELDS = ['serial', 'hostname', 'mgmt_ip', 'ha', ...SHARED_FIELDS] as const;
const METRICS_FIELDS = ['tcp_sessions', 'udp_sessions', 'route_count', 'arp_count', 'disk_space_gb', 'disk_total_gb'] as const;
const READINESS_FIELDS = [
  'ntp_servers',
  'interfaces',
  'virtual_routers',
  'bgp_peers',
  'ipsec_tunnels',
  'license_expires',
  'support_expires',
  'support_level',
  'jumbo_frame',
  'advanced_routing',
  'panorama',
  'device_group',
  'template_stack',
  'critical_sessions',
  'user_id_service',
  'redistribution_clients',
  'dp_cpu_pct',
  'mp_cpu_pct',
  'mp_memory_pct',
  'update_schedules',
] as const;
const CRITICAL_SESSION_FIELDS = ['source', 'destination', 'port', 'protocol'] as const;
const UPDATE_SCHEDULE_FIELDS = ['threats', 'antivirus', 'wildfire'] as const;
const ISO_DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const HA_FIELDS = ['peer', 'priority', 'preemptive', 'group_id', 'state'] as const;
const HA_PAIR_FIELDS = ['active', 'passive', 'preemptive', 'group_id'] as const;
const FAILURE_FIELDS = ['device', 'operation', 'failure_rate', 'error', 'mode', 'duration', 'factor'] as const;
const HA_STATES: readonly HaLocalState[] = ['active', 'passive', 'suspended', 'non-functional', 'initial', 'tentative'];

type SharedField = (typeof SHARED_FIELDS)[number];
type MetricsField = (typeof METRICS_FIELDS)[number];

/** A validated value and where it was written (a device's own field or `defaults`). */
interface Sourced<T> {
  value: T;
  path: Path;
}

interface SharedValues {
  model?: Sourced<string>;
  current_version?: Sourced<string>;
  available_versions?: Sourced<string[]>;
  downloaded_versions?: Sourced<string[]>;
  content_version?: Sourced<string>;
  available_content?: Sourced<string[]>;
  connected?: Sourced<boolean>;
  metrics: Partial<Record<MetricsField, Sourced<number>>>;
  readiness?: Sourced<ReadinessSpec>;
}

interface CatalogueEntry {
  sizeMb: number;
  releasedOn: string;
  minContent?: string;
}

interface HaInput {
  peer: string;
  priority?: number;
  preemptive?: boolean;
  groupId?: number;
  state?: HaLocalState;
  path: Path;
}

interface Offered {
  images: SoftwareImage[];
  versions: ReadonlySet<string>;
}

class ScenarioBuilder {
  private readonly c: Checker;
  private readonly catalogue = new Map<string, CatalogueEntry>();
  /** Interned so that 100,000 devices share a handful of arrays (memory budget: < 1 GiB). */
  private readonly imageObjects = new Map<string, SoftwareImage>();
  private readonly offeredByKey = new Map<string, Offered>();
  private readonly offeredByList = new WeakMap<readonly string[], Map<string, Offered>>();
  private readonly contentObjects = new Map<string, ContentPackage>();
  private readonly contentLists = new Map<string, ContentPackage[]>();
  private readonly strings = new Map<string, string>();
  private readonly families = new Map<string, string | undefined>();
  private readonly newerContentCache = new Map<string, string[]>();
  private seed = DEFAULT_SEED;
  private timeScale = 1;

  constructor(
    private readonly file: string,
    loc: Locator | undefined,
    private readonly options: ScenarioLoadOptions,
  ) {
    this.c = new Checker(file, loc);
  }

  build(raw: unknown): Scenario {
    const c: Checker = this.c;
    if (raw === null || raw === undefined) {
      c.fail([], 'the scenario is empty; it needs at least a devices: list');
    }
    const root = c.map(raw, [], ROOT_FIELDS, ['devices']);
    const name = root.name === undefined ? defaultName(this.file) : c.string(root.name, ['name']);
    const description = root.description === undefined ? '' : c.string(root.description, ['description']);
    this.seed = root.seed === undefined ? DEFAULT_SEED : c.number(root.seed, ['seed'], { integer: true, min: 0 });
    const apiKey = root.api_key === undefined ? DEFAULT_API_KEY : c.string(root.api_key, ['api_key']);
    const admins = this.admins(root.admins);
    const authentication = this.authentication(root.authentication);
    const timing = this.timing(root.timing);
    const panorama = this.panorama(root.panorama);
    this.images(root.images);
    const defaults = this.defaults(root.defaults);
    const devices = this.devices(root.devices, defaults, panorama);
    this.haPairs(root.ha_pairs, devices);
    const failures = this.failures(root.failures, devices);
    const upgradePaths = this.upgradePaths(root.upgrade_paths);
    return {
      file: this.file,
      name,
      description,
      seed: this.seed,
      apiKey,
      admins,
      authentication,
      timing,
      panorama,
      devices: devices.specs,
      failures,
      upgradePaths,
    };
  }

  private intern(text: string): string {
    const known = this.strings.get(text);
    if (known !== undefined) return known;
    this.strings.set(text, text);
    return text;
  }

  private authentication(value: unknown): AuthenticationSettings {
    const c: Checker = this.c;
    const a = value === undefined ? {} : c.map(value, ['authentication'], AUTHENTICATION_FIELDS);
    return {
      failedAttempts: a.failed_attempts === undefined ? 10 : c.number(a.failed_attempts, ['authentication', 'failed_attempts'], { integer: true, min: 0, max: 10 }),
      lockoutMinutes: a.lockout_time === undefined ? 5 : c.number(a.lockout_time, ['authentication', 'lockout_time'], { min: 0, max: 60, unit: 'minutes' }),
    };
  }

  private admins(value: unknown): AdminUser[] {
    if (value === undefined) return DEFAULT_ADMINS.map((a) => ({ ...a }));
    const c: Checker = this.c;
    const list = c.list(value, ['admins']);
    if (list.length === 0) c.fail(['admins'], 'admins must list at least one user (or be left out for admin/admin)');
    const seen = new Map<string, number>();
    return list.map((item, i) => {
      const path = ['admins', i];
      const a = c.map(item, path, ADMIN_FIELDS, ['username', 'password']);
      const username = c.string(a.username, [...path, 'username']);
      const password = c.string(a.password, [...path, 'password']);
      const first = seen.get(username);
      if (first !== undefined) c.fail([...path, 'username'], `user "${username}" is already listed as admins[${first}]`);
      seen.set(username, i);
      return { username, password };
    });
  }

  private timing(value: unknown): ScenarioTiming {
    const c: Checker = this.c;
    const t = value === undefined ? {} : c.map(value, ['timing'], TIMING_FIELDS);
    const mode: TimingMode = t.mode === undefined ? 'fast' : c.oneOf(t.mode, ['timing', 'mode'], TIMING_MODES, 'timing mode');
    const base = TIMING_MODE_SECONDS[mode];
    const seconds: TimingSeconds = {
      download: [...base.download],
      install: [...base.install],
      reboot: [...base.reboot],
      contentDownload: [...base.contentDownload],
      contentInstall: [...base.contentInstall],
      autoCommit: [...base.autoCommit],
    };
    for (const [field, key] of Object.entries(TIMING_FIELD_KEYS)) {
      if (t[field] !== undefined) seconds[key] = c.duration(t[field], ['timing', field]);
    }
    const env = this.options.env ?? process.env;
    for (const [variable, key] of Object.entries(TIMING_ENV)) {
      const text = env[variable];
      if (text === undefined || text.trim() === '') continue;
      const v = Number(text);
      if (!Number.isFinite(v) || v < 0) {
        throw new ScenarioError(
          this.file,
          undefined,
          variable,
          `environment variable ${variable} must be a number of seconds ≥ 0, got ${JSON.stringify(text)}`,
        );
      }
      seconds[key] = [v, v];
    }
    let timeScale = t.time_scale === undefined ? 1 : c.number(t.time_scale, ['timing', 'time_scale']);
    if (timeScale <= 0) c.fail(['timing', 'time_scale'], `time_scale must be > 0 (e.g. 0.01 to run 100× faster), got ${timeScale}`);
    if (this.options.timeScale !== undefined) {
      timeScale = this.options.timeScale;
      if (!(Number.isFinite(timeScale) && timeScale > 0)) {
        throw new ScenarioError(this.file, undefined, 'timeScale', `the time scale option must be a number > 0, got ${timeScale}`);
      }
    }
    this.timeScale = timeScale;
    const ms = ([min, max]: [number, number]): [number, number] => [
      Math.round(min * 1000 * timeScale),
      Math.round(max * 1000 * timeScale),
    ];
    return {
      mode,
      timeScale,
      downloadMs: ms(seconds.download),
      installMs: ms(seconds.install),
      rebootMs: ms(seconds.reboot),
      contentDownloadMs: ms(seconds.contentDownload),
      contentInstallMs: ms(seconds.contentInstall),
      autoCommitMs: ms(seconds.autoCommit),
    };
  }

  private panorama(value: unknown): PanoramaSpec {
    const d = DEFAULT_PANORAMA;
    if (value === undefined) return { ...d };
    const c: Checker = this.c;
    const p = c.map(value, ['panorama'], PANORAMA_FIELDS);
    return {
      serial: p.serial === undefined ? d.serial : c.serial(p.serial, ['panorama', 'serial']),
      hostname: p.hostname === undefined ? d.hostname : c.hostname(p.hostname, ['panorama', 'hostname']),
      model: p.model === undefined ? d.model : c.string(p.model, ['panorama', 'model']),
      swVersion: p.version === undefined ? d.swVersion : c.version(p.version, ['panorama', 'version']),
      mgmtIp: p.mgmt_ip === undefined ? d.mgmtIp : c.ip(p.mgmt_ip, ['panorama', 'mgmt_ip']),
    };
  }

  private images(value: unknown): void {
    if (value === undefined) return;
    const c: Checker = this.c;
    c.list(value, ['images']).forEach((item, i) => {
      const path = ['images', i];
      const e = c.map(item, path, IMAGE_FIELDS, ['version']);
      const version = c.version(e.version, [...path, 'version']);
      if (this.catalogue.has(version)) c.fail([...path, 'version'], `version ${version} is already in the images catalogue`);
      const entry: CatalogueEntry = {
        sizeMb: e.size_mb === undefined ? DEFAULT_IMAGE_SIZE_MB : c.number(e.size_mb, [...path, 'size_mb'], { min: 1, unit: 'MB' }),
        releasedOn: e.released_on === undefined ? defaultReleasedOn(version) : this.releasedOn(e.released_on, [...path, 'released_on']),
      };
      if (e.min_content !== undefined) entry.minContent = c.contentVersion(e.min_content, [...path, 'min_content']);
      this.catalogue.set(version, entry);
    });
  }

  private releasedOn(value: unknown, path: Path): string {
    if (typeof value === 'string' && RELEASED_ON_RE.test(value)) return value;
    this.c.expected(value, path, 'a date as PAN-OS prints it, "YYYY/MM/DD HH:MM:SS"');
  }

  /** Validates the fields a device may share with `defaults:`, each at its own path. */
  private shared(obj: Raw, base: Path): SharedValues {
    const c: Checker = this.c;
    const out: SharedValues = { metrics: {} };
    const at = (field: SharedField): Path => [...base, field];
    const versions = (field: SharedField): string[] => {
      const list = c.list(obj[field], at(field));
      const seen = new Set<string>();
      return list.map((v, i) => {
        const version = c.version(v, [...at(field), i]);
        if (seen.has(version)) c.fail([...at(field), i], `${version} is listed twice in ${field}`);
        seen.add(version);
        return this.intern(version);
      });
    };
    if (obj.model !== undefined) {
      const model = this.intern(c.string(obj.model, at('model')));
      if (this.family(model) === undefined) {
        c.fail(at('model'), `unknown firewall model ${JSON.stringify(model)} (expected a model name like PA-3220, PA-440, PA-5260 or PA-VM)`);
      }
      out.model = { value: model, path: at('model') };
    }
    if (obj.current_version !== undefined) {
      out.current_version = { value: this.intern(c.version(obj.current_version, at('current_version'))), path: at('current_version') };
    }
    if (obj.available_versions !== undefined) out.available_versions = { value: versions('available_versions'), path: at('available_versions') };
    if (obj.downloaded_versions !== undefined) out.downloaded_versions = { value: versions('downloaded_versions'), path: at('downloaded_versions') };
    if (obj.content_version !== undefined) {
      out.content_version = { value: this.intern(c.contentVersion(obj.content_version, at('content_version'))), path: at('content_version') };
    }
    if (obj.available_content !== undefined) {
      const seen = new Set<string>();
      const list = c.list(obj.available_content, at('available_content')).map((v, i) => {
        const version = c.contentVersion(v, [...at('available_content'), i]);
        if (seen.has(version)) c.fail([...at('available_content'), i], `${version} is listed twice in available_content`);
        seen.add(version);
        return version;
      });
      out.available_content = { value: list, path: at('available_content') };
    }
    if (obj.connected !== undefined) out.connected = { value: c.boolean(obj.connected, at('connected')), path: at('connected') };
    if (obj.readiness !== undefined) out.readiness = { value: readinessSpec(c, obj.readiness, at('readiness')), path: at('readiness') };
    if (obj.metrics !== undefined) {
      const m = c.map(obj.metrics, at('metrics'), METRICS_FIELDS);
      for (const field of METRICS_FIELDS) {
        if (m[field] === undefined) continue;
        const path = [...at('metrics'), field];
        const isCount = !field.endsWith('_gb');
        out.metrics[field] = {
          value: c.number(m[field], path, isCount ? { integer: true, min: 0 } : { min: 0, unit: 'GB' }),
          path,
        };
      }
    }
    return out;
  }

  private newerContent(installed: string): string[] {
    let list = this.newerContentCache.get(installed);
    if (!list) {
      list = newerContentVersions(installed);
      this.newerContentCache.set(installed, list);
    }
    return list;
  }

  private family(model: string): string | undefined {
    if (!this.families.has(model)) {
      const family = modelFamily(model);
      this.families.set(model, family === undefined ? undefined : this.intern(family));
    }
    return this.families.get(model);
  }

  private defaults(value: unknown): SharedValues {
    if (value === undefined) return { metrics: {} };
    return this.shared(this.c.map(value, ['defaults'], SHARED_FIELDS), ['defaults']);
  }

  private image(version: string): SoftwareImage {
    let image = this.imageObjects.get(version);
    if (!image) {
      const entry = this.catalogue.get(version);
      const img: SoftwareImage = {
        version,
        sizeMb: entry?.sizeMb ?? DEFAULT_IMAGE_SIZE_MB,
        releasedOn: entry?.releasedOn ?? defaultReleasedOn(version),
      };
      if (entry?.minContent !== undefined) img.minContentVersion = entry.minContent;
      // Shared by every device that lists it: frozen so that no device can change another's.
      image = Object.freeze(img);
      this.imageObjects.set(version, image);
    }
    return image;
  }

  /** The images a device is offered: its list plus its current version, sorted and shared. */
  private offered(list: readonly string[] | undefined, current: string): Offered {
    // Most devices take the list from defaults (one array object), so look that up first.
    const byList = list ? this.offeredByList.get(list) : undefined;
    const cached = byList?.get(current);
    if (cached) return cached;
    const versions = new Set(list ?? []);
    versions.add(current);
    const sorted = [...versions].sort(compareVersions);
    const key = sorted.join(',');
    let offered = this.offeredByKey.get(key);
    if (!offered) {
      offered = { images: Object.freeze(sorted.map((v) => this.image(v))) as SoftwareImage[], versions };
      this.offeredByKey.set(key, offered);
    }
    if (list) {
      if (!byList) this.offeredByList.set(list, new Map([[current, offered]]));
      else byList.set(current, offered);
    }
    return offered;
  }

  private contentList(installed: string, available: readonly string[]): ContentPackage[] {
    const rawKey = `${installed}|${available.join(',')}`;
    let list = this.contentLists.get(rawKey);
    if (list) return list;
    const versions = [...new Set([...available, installed])].sort(compareContentVersions);
    const key = versions.join(',');
    list = this.contentLists.get(key);
    if (!list) {
      list = Object.freeze(
        versions.map((v) => {
          let pkg = this.contentObjects.get(v);
          if (!pkg) {
            pkg = Object.freeze(defaultContentPackage(v));
            this.contentObjects.set(v, pkg);
          }
          return pkg;
        }),
      ) as ContentPackage[];
      this.contentLists.set(key, list);
    }
    this.contentLists.set(rawKey, list);
    return list;
  }

  private devices(
    value: unknown,
    defaults: SharedValues,
    panorama: PanoramaSpec,
  ): { specs: DeviceSpec[]; bySerial: Map<string, number>; ha: (HaInput | undefined)[] } {
    const c: Checker = this.c;
    const list = c.list(value, ['devices']);
    const specs: DeviceSpec[] = [];
    const bySerial = new Map<string, number>();
    const ipOwner = new Map<string, number>();
    const ha: (HaInput | undefined)[] = [];
    const needsIp: number[] = [];
    list.forEach((item, i) => {
      const path: Path = ['devices', i];
      const d = c.map(item, path, DEVICE_FIELDS, ['serial', 'hostname']);
      const serial = c.serial(d.serial, [...path, 'serial']);
      const hostname = c.hostname(d.hostname, [...path, 'hostname']);
      const first = bySerial.get(serial);
      if (first !== undefined) {
        c.fail([...path, 'serial'], `duplicate serial "${serial}": already used by ${this.who(specs, first)}`);
      }
      if (serial === panorama.serial) c.fail([...path, 'serial'], `serial "${serial}" is the Panorama's serial`);
      bySerial.set(serial, i);

      let mgmtIp = '';
      if (d.mgmt_ip !== undefined) {
        mgmtIp = c.ip(d.mgmt_ip, [...path, 'mgmt_ip']);
        const owner = ipOwner.get(mgmtIp);
        if (owner !== undefined) c.fail([...path, 'mgmt_ip'], `duplicate mgmt_ip ${mgmtIp}: already used by ${this.who(specs, owner)}`);
        if (mgmtIp === panorama.mgmtIp) c.fail([...path, 'mgmt_ip'], `mgmt_ip ${mgmtIp} is the Panorama's address`);
        ipOwner.set(mgmtIp, i);
      } else {
        needsIp.push(i);
      }

      const own = this.shared(d, path);
      const pick = <K extends Exclude<SharedField, 'metrics' | 'readiness'>>(field: K): SharedValues[K] => own[field] ?? defaults[field];
      const currentSrc = pick('current_version');
      if (!currentSrc) c.fail(path, 'missing required field "current_version" (give it here or under defaults:)');
      const current = currentSrc.value;
      const modelSrc = pick('model');
      const model = modelSrc?.value ?? DEFAULT_MODEL;
      const family = this.family(model) ?? 'vm';

      const { images, versions: available } = this.offered(pick('available_versions')?.value, current);

      const downloadedSrc = pick('downloaded_versions');
      const downloaded = downloadedSrc ? [...downloadedSrc.value] : [];
      downloaded.forEach((v, j) => {
        if (available.has(v)) return;
        const whose = downloadedSrc!.path[0] === 'defaults' ? ` of device ${serial} (${hostname})` : '';
        const offered = [...available].sort(compareVersions).join(', ');
        c.fail(
          [...downloadedSrc!.path, j],
          `${v} is listed as downloaded but is not among the available versions${whose} (${offered}); add it to available_versions or remove it here`,
        );
      });

      const installedContent = pick('content_version')?.value ?? DEFAULT_CONTENT_VERSION;
      const availableContent = pick('available_content')?.value ?? this.newerContent(installedContent);

      const m = { ...defaults.metrics, ...own.metrics };
      let fallback: DeviceMetrics | undefined;
      const metric = (field: MetricsField, key: keyof DeviceMetrics): number => {
        const given = m[field];
        if (given) return given.value;
        fallback ??= defaultMetrics(family, this.seed, serial);
        return fallback[key];
      };
      const metrics: DeviceMetrics = {
        tcpSessions: metric('tcp_sessions', 'tcpSessions'),
        udpSessions: metric('udp_sessions', 'udpSessions'),
        routes: metric('route_count', 'routes'),
        arpEntries: metric('arp_count', 'arpEntries'),
      };

      const freeMb = Math.round((m.disk_space_gb?.value ?? DEFAULT_DISK_FREE_GB) * 1024);
      const imagesMb = downloaded.reduce((sum, v) => sum + this.image(v).sizeMb, 0);
      let totalMb = imagesMb + freeMb;
      const total = m.disk_total_gb;
      if (total) {
        totalMb = Math.round(total.value * 1024);
        if (totalMb < imagesMb + freeMb) {
          c.fail(
            total.path,
            `disk_total_gb (${total.value} GB) is smaller than the free space (${freeMb / 1024} GB) plus the downloaded images (${imagesMb} MB)`,
          );
        }
      }

      specs.push({
        serial,
        hostname,
        model,
        family,
        mgmtIp,
        swVersion: current,
        images,
        downloaded,
        content: { installed: installedContent, available: this.contentList(installedContent, availableContent) },
        metrics,
        disk: { panrepoTotalMb: totalMb, panrepoUsedMb: totalMb - freeMb },
        connected: pick('connected')?.value ?? true,
      });
      // A device's own readiness fields go over those of defaults:; without its own it shares the defaults' object.
      const readiness = own.readiness && defaults.readiness ? { ...defaults.readiness.value, ...own.readiness.value } : (own.readiness ?? defaults.readiness)?.value;
      if (readiness) specs[specs.length - 1]!.readiness = readiness;
      ha.push(d.ha === undefined ? undefined : this.haInput(d.ha, [...path, 'ha']));
    });

    // Default addresses follow the device index, stepping over any a scenario gave explicitly.
    let next = 0;
    for (const i of needsIp) {
      let ip = defaultMgmtIp(next++);
      while (ipOwner.has(ip) || ip === panorama.mgmtIp) ip = defaultMgmtIp(next++);
      specs[i]!.mgmtIp = ip;
    }
    this.checkHa(specs, bySerial, ha);
    return { specs, bySerial, ha };
  }

  private who(specs: readonly DeviceSpec[], index: number): string {
    const spec = specs[index];
    const line = this.c.line(['devices', index]);
    return `devices[${index}]${spec ? ` (${spec.hostname})` : ''}${line !== undefined ? ` at line ${line}` : ''}`;
  }

  private haInput(value: unknown, path: Path): HaInput {
    const c: Checker = this.c;
    const h = c.map(value, path, HA_FIELDS, ['peer']);
    const out: HaInput = { peer: c.serial(h.peer, [...path, 'peer']), path };
    if (h.priority !== undefined) out.priority = c.number(h.priority, [...path, 'priority'], { integer: true, min: 0, max: 255 });
    if (h.preemptive !== undefined) out.preemptive = c.boolean(h.preemptive, [...path, 'preemptive']);
    if (h.group_id !== undefined) out.groupId = c.number(h.group_id, [...path, 'group_id'], { integer: true, min: 1, max: 63 });
    if (h.state !== undefined) out.state = c.oneOf(h.state, [...path, 'state'], HA_STATES, 'HA state');
    return out;
  }

  private unknownSerial(serial: string, specs: readonly DeviceSpec[]): string {
    const byName = specs.find((s) => s.hostname === serial);
    return byName
      ? `"${serial}" is a hostname; devices are named by serial here: use "${byName.serial}"`
      : `no device with serial "${serial}" in this scenario`;
  }

  /** Both peers must name each other; the one that starts active is decided once per pair. */
  private checkHa(specs: DeviceSpec[], bySerial: Map<string, number>, ha: (HaInput | undefined)[]): void {
    const c: Checker = this.c;
    ha.forEach((mine, i) => {
      if (!mine) return;
      const self = specs[i]!;
      const peerPath = [...mine.path, 'peer'];
      if (mine.peer === self.serial) c.fail(peerPath, `a firewall cannot be its own HA peer`);
      const j = bySerial.get(mine.peer);
      if (j === undefined) c.fail(peerPath, `HA peer: ${this.unknownSerial(mine.peer, specs)}`);
      const peer = specs[j]!;
      const theirs = ha[j];
      if (!theirs) {
        c.fail(
          peerPath,
          `HA peer ${peer.serial} (${peer.hostname}) does not point back: give it ha: { peer: "${self.serial}" }`,
        );
      }
      if (theirs.peer !== self.serial) {
        c.fail(
          peerPath,
          `HA peer ${peer.serial} (${peer.hostname}) does not point back: its ha.peer is "${theirs.peer}", not "${self.serial}"`,
        );
      }
      if (j < i) return; // the pair was settled at its first device
      if (self.model !== peer.model) {
        c.fail(peerPath, `HA peers must be the same model: ${self.hostname} is ${self.model}, ${peer.hostname} is ${peer.model}`);
      }
      const groupId = mine.groupId ?? theirs.groupId ?? 1;
      if ((mine.groupId ?? groupId) !== (theirs.groupId ?? groupId)) {
        c.fail([...theirs.path, 'group_id'], `HA peers must share the group_id: ${self.hostname} has ${mine.groupId}, ${peer.hostname} has ${theirs.groupId}`);
      }
      let [a, b] = [mine.state, theirs.state];
      if (a === 'active' && b === 'active') {
        c.fail([...theirs.path, 'state'], `both HA peers cannot start active (${self.hostname} is already active); make one passive`);
      }
      if (a === undefined && b === undefined) {
        // Lower priority wins in PAN-OS; on a tie the first device listed starts active.
        const pa = mine.priority ?? 100;
        const pb = theirs.priority ?? 100;
        [a, b] = pb < pa ? ['passive', 'active'] : ['active', 'passive'];
      } else if (a === undefined) {
        a = b === 'active' ? 'passive' : 'active';
      } else if (b === undefined) {
        b = a === 'active' ? 'passive' : 'active';
      }
      const spec = (input: HaInput, peerSerial: string, state: HaLocalState): HaSpec => ({
        peerSerial,
        priority: input.priority ?? (state === 'active' ? 100 : 110),
        preemptive: input.preemptive ?? false,
        groupId,
        initialState: state,
      });
      self.ha = spec(mine, peer.serial, a!);
      peer.ha = spec(theirs, self.serial, b!);
    });
  }

  private haPairs(value: unknown, devices: { specs: DeviceSpec[]; bySerial: Map<string, number>; ha: (HaInput | undefined)[] }): void {
    if (value === undefined) return;
    const c: Checker = this.c;
    const { specs, bySerial } = devices;
    const pairedAt = new Map<string, Path>();
    c.list(value, ['ha_pairs']).forEach((item, i) => {
      const path: Path = ['ha_pairs', i];
      const p = c.map(item, path, HA_PAIR_FIELDS, ['active', 'passive']);
      const member = (role: 'active' | 'passive'): DeviceSpec => {
        const at = [...path, role];
        const serial = c.serial(p[role], at);
        const index = bySerial.get(serial);
        if (index === undefined) c.fail(at, this.unknownSerial(serial, specs));
        const spec = specs[index]!;
        const earlier = pairedAt.get(serial);
        if (earlier) c.fail(at, `${serial} (${spec.hostname}) is already in the HA pair ${formatPath(earlier)}`);
        if (devices.ha[index]) {
          const line = this.c.line(['devices', index, 'ha']);
          c.fail(
            at,
            `${serial} (${spec.hostname}) already has an ha: section (devices[${index}]${line !== undefined ? `, line ${line}` : ''}); declare a pair either in ha_pairs or with ha: on both devices`,
          );
        }
        pairedAt.set(serial, path);
        return spec;
      };
      const active = member('active');
      if (p.passive === p.active) c.fail([...path, 'passive'], 'active and passive must be two different firewalls');
      const passive = member('passive');
      if (active.model !== passive.model) {
        c.fail(path, `HA peers must be the same model: ${active.hostname} is ${active.model}, ${passive.hostname} is ${passive.model}`);
      }
      const preemptive = p.preemptive === undefined ? false : c.boolean(p.preemptive, [...path, 'preemptive']);
      const groupId = p.group_id === undefined ? 1 : c.number(p.group_id, [...path, 'group_id'], { integer: true, min: 1, max: 63 });
      active.ha = { peerSerial: passive.serial, priority: 100, preemptive, groupId, initialState: 'active' };
      passive.ha = { peerSerial: active.serial, priority: 110, preemptive, groupId, initialState: 'passive' };
    });
  }

  private failures(value: unknown, devices: { specs: DeviceSpec[]; bySerial: Map<string, number> }): FailureSpec[] {
    if (value === undefined) return [];
    const c: Checker = this.c;
    const seen = new Map<string, number>();
    return c.list(value, ['failures']).map((item, i) => {
      const path: Path = ['failures', i];
      const f = c.map(item, path, FAILURE_FIELDS, ['device', 'operation']);
      const device = f.device === '*' ? '*' : c.serial(f.device, [...path, 'device']);
      if (device !== '*' && !devices.bySerial.has(device)) c.fail([...path, 'device'], this.unknownSerial(device, devices.specs));
      const operation: FailureOperation = c.oneOf(f.operation, [...path, 'operation'], FAILURE_OPERATIONS, 'operation');
      const failureRate =
        f.failure_rate === undefined
          ? 1
          : (() => {
              const rate = c.number(f.failure_rate, [...path, 'failure_rate']);
              if (rate < 0 || rate > 1) {
                c.fail([...path, 'failure_rate'], `failure_rate must be between 0 and 1 (a probability: 0.3 fails 30% of attempts), got ${rate}`);
              }
              return rate;
            })();
      const mode = f.mode === undefined ? undefined : c.oneOf(f.mode, [...path, 'mode'], FAILURE_MODES[operation], `${operation} failure mode`);
      if ((operation === 'api' || operation === 'readiness') && mode === undefined) {
        c.fail(path, `${operation === 'api' ? 'an' : 'a'} ${operation} failure needs a mode: ${orList(FAILURE_MODES[operation])}`);
      }
      // Transport and readiness faults add up (latency and drops, NTP and BGP on one device); every other operation has one entry per device.
      const several = operation === 'api' || operation === 'readiness';
      const key = several ? `${device} ${operation} ${mode}` : `${device} ${operation}`;
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        const what = several ? `${operation === 'api' ? 'an' : 'a'} ${operation} ${mode}` : `a ${operation}`;
        c.fail(path, `device ${device} already has ${what} failure at failures[${earlier}]; merge the two entries`);
      }
      seen.set(key, i);
      const defaultError = mode === 'disk_full' ? DEFAULT_DISK_FULL_ERROR : DEFAULT_FAILURE_ERRORS[operation];
      const spec: FailureSpec = {
        device,
        operation,
        failureRate,
        error: f.error === undefined ? defaultError : c.string(f.error, [...path, 'error']),
      };
      if (mode !== undefined) spec.mode = mode;
      if (f.duration !== undefined) {
        if (!(operation === 'crash' || (operation === 'api' && mode === 'latency'))) {
          c.fail([...path, 'duration'], 'duration applies to a crash (seconds down) or an api latency (seconds per call) only', 'key');
        }
        const seconds = c.number(f.duration, [...path, 'duration'], { min: 0, unit: 'seconds' });
        spec.durationMs = Math.round(seconds * 1000 * this.timeScale);
      }
      if (f.factor !== undefined) {
        if (mode !== 'slow') c.fail([...path, 'factor'], 'factor applies to mode: slow only (how many times longer it takes)', 'key');
        spec.factor = c.number(f.factor, [...path, 'factor'], { min: 1 });
      }
      const line = c.line(path);
      if (line !== undefined) spec.line = line;
      return spec;
    });
  }

  private upgradePaths(value: unknown): Record<string, string[]> {
    if (value === undefined) return {};
    const c: Checker = this.c;
    // The one rule of upgrade paths, as config.json and a paths file have it.
    const found = upgradePathsProblem(value);
    if (found) {
      const path: Path = ['upgrade_paths', ...found.path];
      const got = found.path.reduce<unknown>((v, seg) => (v as Record<string | number, unknown>)[seg], value);
      const subject = found.path.length === 2 ? 'this version' : found.path.length === 1 ? 'this upgrade path' : 'upgrade_paths';
      c.fail(path, `${subject} ${found.problem}${found.at === 'value' ? `, got ${c.describe(got, path)}` : ''}`, found.at);
    }
    const out: Record<string, string[]> = {};
    for (const [from, hops] of Object.entries(value as Record<string, string[]>)) out[from] = hops.map((hop) => this.intern(hop.trim()));
    return out;
  }
}

function defaultName(file: string): string {
  if (file === '<inline>') return 'inline';
  const base = basename(file);
  return base.slice(0, base.length - extname(base).length) || base;
}

function buildScenario(raw: unknown, file: string, loc: Locator | undefined, options: ScenarioLoadOptions): Scenario {
  return new ScenarioBuilder(file, loc, options).build(raw);
}
