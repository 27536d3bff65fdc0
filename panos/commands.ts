/**
 * The `cmd` parameter of `type=op`: parsed into a typed command (simulator side) and rendered back
 * (client side). Errors mimic PAN-OS: unknown elements are code 17 ` a -> b  is unexpected`.
 */
import { parseXmlElements, XmlSyntaxError, escapeXml, type XmlElement } from './xml.ts';
import {
  PANORAMA_ONLY_READINESS_KINDS,
  READINESS_COMMAND_KINDS,
  isReadinessCommand,
  mergeGrammar,
  readinessGrammar,
  renderReadinessCommand,
  type ReadinessCommand,
} from './commands-readiness.ts';
import { boundedMemo } from './bounded-memo.ts';

export type OpCommand =
  | { kind: 'show.system.info' }
  | { kind: 'show.system.disk-space' }
  | { kind: 'show.system.software.status' }
  | { kind: 'show.high-availability.state' }
  | { kind: 'request.high-availability.state.suspend' }
  | { kind: 'request.high-availability.state.functional' }
  | { kind: 'show.session.info' }
  | { kind: 'show.routing.route'; virtualRouter?: string; type?: string }
  | { kind: 'show.routing.summary' }
  | { kind: 'show.arp.entry'; name: string }
  | { kind: 'request.system.software.check' }
  | { kind: 'request.system.software.info' }
  | { kind: 'request.system.software.download'; version: string; syncToPeer: boolean }
  | { kind: 'request.system.software.install'; version: string; loadConfig?: string }
  | { kind: 'show.jobs.id'; id: number }
  | { kind: 'show.jobs.all' }
  | { kind: 'request.restart.system' }
  | { kind: 'show.chassis-ready' }
  | { kind: 'request.content.upgrade.check' }
  | { kind: 'request.content.upgrade.info' }
  | { kind: 'request.content.upgrade.download'; syncToPeer?: boolean }
  | { kind: 'request.content.upgrade.install'; version: string; commit: boolean; syncToPeer: boolean }
  | { kind: 'show.devices.connected' }
  | { kind: 'show.devices.all' }
  | { kind: 'show.clock'; more: boolean }
  | ReadinessCommand;

export type OpCommandKind = OpCommand['kind'];

/** A PAN-OS op error: the `code` attribute and the `msg/line` texts. */
export interface OpError {
  code: string;
  lines: string[];
}

export const OP_COMMAND_KINDS = [
  'show.system.info',
  'show.system.disk-space',
  'show.system.software.status',
  'show.high-availability.state',
  'request.high-availability.state.suspend',
  'request.high-availability.state.functional',
  'show.session.info',
  'show.routing.route',
  'show.routing.summary',
  'show.arp.entry',
  'request.system.software.check',
  'request.system.software.info',
  'request.system.software.download',
  'request.system.software.install',
  'show.jobs.id',
  'show.jobs.all',
  'request.restart.system',
  'show.chassis-ready',
  'request.content.upgrade.check',
  'request.content.upgrade.info',
  'request.content.upgrade.download',
  'request.content.upgrade.install',
  'show.devices.connected',
  'show.devices.all',
  'show.clock',
  ...READINESS_COMMAND_KINDS,
] as const satisfies readonly OpCommandKind[];

// Compile-time check that OP_COMMAND_KINDS names every kind of OpCommand.
const everyKindListed: [Exclude<OpCommandKind, (typeof OP_COMMAND_KINDS)[number]>] extends [never] ? true : never = true;
void everyKindListed;

/** Commands only Panorama answers; a firewall says ` show -> devices  is unexpected`. */
export const PANORAMA_ONLY_KINDS: ReadonlySet<OpCommandKind> = new Set([
  'show.devices.connected',
  'show.devices.all',
  ...(PANORAMA_ONLY_READINESS_KINDS as ReadonlySet<OpCommandKind>),
]);

/** Larger `cmd` values are refused before parsing, so a huge body cannot stall the event loop. */
export const MAX_CMD_LENGTH = 64 * 1024;

// ---- errors ----

/** Code 17 ` show -> foo  is unexpected`; a bare string (empty path) gives `  is unexpected` (pan-python #24). */
export function unexpectedError(path: readonly string[]): OpError {
  return { code: '17', lines: [path.length === 0 ? '  is unexpected' : ` ${path.join(' -> ')}  is unexpected`] };
}

/** [unconfirmed] wording modelled on PAN-OS validation errors (`service -> test  is missing 'protocol'`). */
export function missingError(path: readonly string[], param: string): OpError {
  return { code: '17', lines: [` ${path.join(' -> ')}  is missing '${param}'`] };
}

/** Bad parameter value, as in the captured ` show -> routing -> route -> virtual-router is invalid`. */
export function invalidError(path: readonly string[]): OpError {
  return { code: '17', lines: [` ${path.join(' -> ')} is invalid`] };
}

/** [unconfirmed] a keyword that needs a sub-command but has none (`<show><system/></show>`). */
export function incompleteError(path: readonly string[]): OpError {
  return { code: '17', lines: [` ${path.join(' -> ')}  is incomplete`] };
}

/** [unconfirmed] code 18 is documented as "Malformed command"; the exact line text is a guess. */
export function malformedError(): OpError {
  return { code: '18', lines: ['Malformed command'] };
}

/** [unconfirmed] oversized `cmd`: code 400 in the style of `Illegal value for parameter "type" [x].` */
export function tooLargeError(): OpError {
  return { code: '400', lines: ['Illegal value for parameter "cmd".'] };
}

// ---- grammar ----

type Result = OpCommand | { error: OpError };
/** A leaf builds the command from its element; `path` includes the leaf's own name. */
type Leaf = (node: XmlElement, path: string[]) => Result;
interface Branch {
  [keyword: string]: Branch | Leaf;
}

const noArgs =
  (cmd: OpCommand): Leaf =>
  (node, path) => {
    const extra = node.children[0];
    if (extra) return { error: unexpectedError([...path, extra.name]) };
    if (node.text !== '') return { error: invalidError(path) };
    return cmd;
  };

/** Collect named parameters (child elements with text); unknown children are unexpected. */
function params(
  node: XmlElement,
  path: string[],
  allowed: readonly string[],
): { values: Map<string, XmlElement> } | { error: OpError } {
  const values = new Map<string, XmlElement>();
  for (const c of node.children) {
    if (!allowed.includes(c.name) || values.has(c.name)) return { error: unexpectedError([...path, c.name]) };
    values.set(c.name, c);
  }
  if (node.text !== '') return { error: invalidError(path) };
  return { values };
}

/** The text of a simple parameter; nested elements inside a value are unexpected. */
function paramText(p: XmlElement, path: string[]): string | { error: OpError } {
  const nested = p.children[0];
  if (nested) return { error: unexpectedError([...path, p.name, nested.name]) };
  return p.text;
}

function yesNoParam(p: XmlElement | undefined, path: string[], dflt: boolean): boolean | { error: OpError } {
  if (!p) return dflt;
  const t = paramText(p, path);
  if (typeof t !== 'string') return t;
  if (t === 'yes') return true;
  if (t === 'no') return false;
  return { error: invalidError([...path, p.name]) };
}

function requiredText(values: Map<string, XmlElement>, name: string, path: string[]): string | { error: OpError } {
  const p = values.get(name);
  if (!p) return { error: missingError(path, name) };
  const t = paramText(p, path);
  if (typeof t !== 'string') return t;
  if (t === '') return { error: invalidError([...path, name]) };
  return t;
}

const isErr = (v: unknown): v is { error: OpError } => typeof v === 'object' && v !== null && 'error' in v;

const SAFE_VALUE = /^[\w.:/@+-]+$/;

const download: Leaf = (node, path) => {
  const r = params(node, path, ['version', 'sync-to-peer']);
  if (isErr(r)) return r;
  const version = requiredText(r.values, 'version', path);
  if (isErr(version)) return version;
  if (!SAFE_VALUE.test(version)) return { error: invalidError([...path, 'version']) };
  const syncToPeer = yesNoParam(r.values.get('sync-to-peer'), path, false);
  if (isErr(syncToPeer)) return syncToPeer;
  return { kind: 'request.system.software.download', version, syncToPeer };
};

const install: Leaf = (node, path) => {
  const r = params(node, path, ['version', 'load-config']);
  if (isErr(r)) return r;
  const version = requiredText(r.values, 'version', path);
  if (isErr(version)) return version;
  if (!SAFE_VALUE.test(version)) return { error: invalidError([...path, 'version']) };
  const lc = r.values.get('load-config');
  if (!lc) return { kind: 'request.system.software.install', version };
  const loadConfig = paramText(lc, path);
  if (isErr(loadConfig)) return loadConfig;
  if (loadConfig === '') return { error: invalidError([...path, 'load-config']) };
  return { kind: 'request.system.software.install', version, loadConfig };
};

const jobId: Leaf = (node, path) => {
  const nested = node.children[0];
  if (nested) return { error: unexpectedError([...path, nested.name]) };
  // PAN-OS accepts any integer and answers "job -1 not found" / "job 4294967295 not found".
  if (!/^-?\d{1,15}$/.test(node.text)) return { error: invalidError(path) };
  return { kind: 'show.jobs.id', id: Number(node.text) };
};

const routingRoute: Leaf = (node, path) => {
  const r = params(node, path, ['virtual-router', 'type']);
  if (isErr(r)) return r;
  const cmd: { kind: 'show.routing.route'; virtualRouter?: string; type?: string } = { kind: 'show.routing.route' };
  for (const [name, key] of [
    ['virtual-router', 'virtualRouter'],
    ['type', 'type'],
  ] as const) {
    const p = r.values.get(name);
    if (!p) continue;
    const t = paramText(p, path);
    if (isErr(t)) return t;
    if (t === '') return { error: invalidError([...path, name]) };
    cmd[key] = t;
  }
  return cmd;
};

const arpEntry: Leaf = (node, path) => {
  const nested = node.children[0];
  if (nested) return { error: unexpectedError([...path, nested.name]) };
  const name = node.attrs['name'];
  if (name === undefined) return { error: missingError(path, 'name') };
  if (name.trim() === '') return { error: invalidError(path) };
  return { kind: 'show.arp.entry', name: name.trim() };
};

const contentDownload: Leaf = (node, path) => {
  // pan-os-python sends `download latest "" sync-to-peer "yes"` → <latest></latest><sync-to-peer>yes</sync-to-peer>
  const r = params(node, path, ['latest', 'sync-to-peer']);
  if (isErr(r)) return r;
  const latest = r.values.get('latest');
  if (!latest) return { error: missingError(path, 'latest') };
  if (latest.children[0]) return { error: unexpectedError([...path, 'latest', latest.children[0].name]) };
  const stp = r.values.get('sync-to-peer');
  if (!stp) return { kind: 'request.content.upgrade.download' };
  const syncToPeer = yesNoParam(stp, path, false);
  if (isErr(syncToPeer)) return syncToPeer;
  return { kind: 'request.content.upgrade.download', syncToPeer };
};

const contentInstall: Leaf = (node, path) => {
  const r = params(node, path, ['version', 'commit', 'sync-to-peer']);
  if (isErr(r)) return r;
  const version = requiredText(r.values, 'version', path);
  if (isErr(version)) return version;
  if (version !== 'latest' && !/^\d+-\d+$/.test(version)) return { error: invalidError([...path, 'version']) };
  const commit = yesNoParam(r.values.get('commit'), path, true);
  if (isErr(commit)) return commit;
  const syncToPeer = yesNoParam(r.values.get('sync-to-peer'), path, false);
  if (isErr(syncToPeer)) return syncToPeer;
  return { kind: 'request.content.upgrade.install', version, commit, syncToPeer };
};

const clock: Leaf = (node, path) => {
  const r = params(node, path, ['more']);
  if (isErr(r)) return r;
  const more = r.values.get('more');
  if (more?.children[0]) return { error: unexpectedError([...path, 'more', more.children[0].name]) };
  return { kind: 'show.clock', more: more !== undefined };
};

const GRAMMAR: Branch = {
  show: {
    system: {
      info: noArgs({ kind: 'show.system.info' }),
      'disk-space': noArgs({ kind: 'show.system.disk-space' }),
      software: { status: noArgs({ kind: 'show.system.software.status' }) },
    },
    'high-availability': { state: noArgs({ kind: 'show.high-availability.state' }) },
    session: { info: noArgs({ kind: 'show.session.info' }) },
    routing: { route: routingRoute, summary: noArgs({ kind: 'show.routing.summary' }) },
    arp: { entry: arpEntry },
    jobs: { id: jobId, all: noArgs({ kind: 'show.jobs.all' }) },
    'chassis-ready': noArgs({ kind: 'show.chassis-ready' }),
    devices: {
      connected: noArgs({ kind: 'show.devices.connected' }),
      all: noArgs({ kind: 'show.devices.all' }),
    },
    clock,
  },
  request: {
    'high-availability': {
      state: {
        suspend: noArgs({ kind: 'request.high-availability.state.suspend' }),
        functional: noArgs({ kind: 'request.high-availability.state.functional' }),
      },
    },
    system: {
      software: {
        check: noArgs({ kind: 'request.system.software.check' }),
        info: noArgs({ kind: 'request.system.software.info' }),
        download,
        install,
      },
    },
    restart: { system: noArgs({ kind: 'request.restart.system' }) },
    content: {
      upgrade: {
        check: noArgs({ kind: 'request.content.upgrade.check' }),
        info: noArgs({ kind: 'request.content.upgrade.info' }),
        download: contentDownload,
        install: contentInstall,
      },
    },
  },
};

// The read-only commands of readiness tooling (commands-readiness.ts) join the grammar here.
mergeGrammar(GRAMMAR, readinessGrammar({ noArgs: noArgs as never, params, paramText, unexpectedError, invalidError }) as Branch);

function walk(node: XmlElement, spec: Branch | Leaf, path: string[]): Result {
  if (typeof spec === 'function') return spec(node, path);
  const [first, second] = node.children;
  if (!first) return { error: node.text !== '' ? invalidError(path) : incompleteError(path) };
  const next = Object.hasOwn(spec, first.name) ? spec[first.name] : undefined;
  if (!next) return { error: unexpectedError([...path, first.name]) };
  // One keyword per level: a sibling after the chosen sub-command is unexpected.
  if (second) return { error: unexpectedError([...path, second.name]) };
  if (node.text !== '') return { error: invalidError(path) };
  return walk(first, next, [...path, first.name]);
}

/** Parse `type=op&cmd=…`. Accepts `<x/>`, `<x />`, `<x></x>`, whitespace between elements and attributes in either quote style. */
export function parseOpCommand(cmd: string): OpCommand | { error: OpError } {
  if (cmd.length > MAX_CMD_LENGTH) return { error: tooLargeError() };
  const trimmed = cmd.trim();
  if (!trimmed.startsWith('<')) return { error: unexpectedError([]) };
  let doc: { elements: XmlElement[]; text: string };
  try {
    doc = parseXmlElements(trimmed);
  } catch (err) {
    if (err instanceof XmlSyntaxError) return { error: malformedError() };
    throw err;
  }
  const [root, extra] = doc.elements;
  // [unconfirmed] several top-level elements are treated as malformed, like any non-document.
  if (!root || extra || doc.text !== '') return { error: malformedError() };
  return walk({ name: '', attrs: {}, children: [root], text: '' }, GRAMMAR, []);
}

export function isOpError(r: OpCommand | { error: OpError }): r is { error: OpError } {
  return 'error' in r;
}

// ---- rendering (client side) ----

function nest(path: readonly string[], inner: string): string {
  return path.reduceRight((acc, name) => `<${name}>${acc}</${name}>`, inner);
}

const leafXml = (name: string) => `<${name}/>`;
const param = (name: string, value: string) => `<${name}>${escapeXml(value)}</${name}>`;

/** The `cmd` XML for a command, in the open/close form pan-python sends for parameters. */
export function renderOpCommand(cmd: OpCommand): string {
  if (isReadinessCommand(cmd)) return renderReadinessCommand(cmd);
  const words = cmd.kind.split('.');
  const parents = words.slice(0, -1);
  const last = words[words.length - 1] ?? '';
  switch (cmd.kind) {
    case 'show.routing.route': {
      let inner = '';
      if (cmd.virtualRouter !== undefined) inner += param('virtual-router', cmd.virtualRouter);
      if (cmd.type !== undefined) inner += param('type', cmd.type);
      return nest(parents, inner === '' ? leafXml(last) : `<${last}>${inner}</${last}>`);
    }
    case 'show.arp.entry':
      return nest(parents, `<entry name='${escapeXml(cmd.name)}'/>`);
    case 'request.system.software.download':
      return nest(words, param('sync-to-peer', cmd.syncToPeer ? 'yes' : 'no') + param('version', cmd.version));
    case 'request.system.software.install':
      return nest(words, (cmd.loadConfig !== undefined ? param('load-config', cmd.loadConfig) : '') + param('version', cmd.version));
    case 'show.jobs.id':
      return nest(parents, param('id', String(cmd.id)));
    case 'request.content.upgrade.download':
      return nest(
        words,
        '<latest/>' + (cmd.syncToPeer !== undefined ? param('sync-to-peer', cmd.syncToPeer ? 'yes' : 'no') : ''),
      );
    case 'request.content.upgrade.install':
      return nest(
        words,
        param('commit', cmd.commit ? 'yes' : 'no') + param('sync-to-peer', cmd.syncToPeer ? 'yes' : 'no') + param('version', cmd.version),
      );
    case 'show.clock':
      return nest(['show'], cmd.more ? '<clock><more/></clock>' : '<clock/>');
    default:
      return nest(parents, leafXml(last));
  }
}

export type CommandOf = Readonly<{ kind: string | null; version: string | null; jobId: number | null }>;
const NO_COMMAND: CommandOf = Object.freeze({ kind: null, version: null, jobId: null });

/**
 * The kind and version of a command (`request.system.software.install`, `10.1.0`), or nulls. A log holds
 * the same few dozen command texts over and over (`replay check` of a 1,000-device run reads some 90,000
 * calls, the live view's /metrics one per call made): each text is parsed once, its answer frozen.
 */
export function commandOf(command: string | null | undefined): CommandOf {
  if (!command || command.startsWith('keygen')) return NO_COMMAND;
  return commandOfText(command);
}

const commandOfText = boundedMemo(1024, (command: string): CommandOf => {
  const parsed = parseOpCommand(command);
  if (isOpError(parsed)) return NO_COMMAND;
  return Object.freeze({
    kind: parsed.kind,
    version: 'version' in parsed && typeof parsed.version === 'string' ? parsed.version : null,
    jobId: parsed.kind === 'show.jobs.id' ? parsed.id : null,
  });
});
