import type { IncomingMessage } from 'node:http';

/**
 * One parameter as sent. `value` is decoded as an HTML form does (`+` is a space); `plusKept` keeps a
 * raw `+`, because pan-python appends `key=` to its form body without encoding it and base64 keys
 * contain `+` (panos-xml-api.md §0).
 */
export interface RawParam {
  name: string;
  value: string;
  plusKept: string;
}

/** The parameters of one `/api/` call: the query string, then the form body; the first occurrence of a name wins. */
export class ApiParams {
  private readonly first = new Map<string, RawParam>();
  /** Names sent more than once. */
  readonly repeated: string[] = [];

  constructor(readonly all: readonly RawParam[]) {
    for (const p of all) {
      if (!this.first.has(p.name)) this.first.set(p.name, p);
      else if (!this.repeated.includes(p.name)) this.repeated.push(p.name);
    }
  }

  static parse(...sources: string[]): ApiParams {
    return new ApiParams(sources.flatMap(parsePairs));
  }

  get(name: string): string | undefined {
    return this.first.get(name)?.value;
  }

  has(name: string): boolean {
    return this.first.has(name);
  }

  /** Both readings of a value whose raw `+` may mean `+` (an unencoded base64 key) or a space (a form). */
  readings(name: string): string[] {
    const p = this.first.get(name);
    if (!p) return [];
    return p.plusKept === p.value ? [p.value] : [p.plusKept, p.value];
  }

  names(): string[] {
    return [...this.first.keys()];
  }
}

/** `a=1&b=2` → pairs; the name ends at the first `=` (base64 keys end in `=`), empty segments are skipped. */
function parsePairs(text: string): RawParam[] {
  const out: RawParam[] = [];
  if (text === '') return out;
  for (const segment of text.split('&')) {
    if (segment === '') continue;
    const eq = segment.indexOf('=');
    const rawName = eq < 0 ? segment : segment.slice(0, eq);
    const rawValue = eq < 0 ? '' : segment.slice(eq + 1);
    const value = percentDecode(rawValue, true);
    out.push({ name: percentDecode(rawName, true), value, plusKept: rawValue.includes('+') ? percentDecode(rawValue, false) : value });
  }
  return out;
}

/**
 * Decode `%XX` escapes to bytes and read the bytes as UTF-8. Lenient on purpose: a `%` without two hex
 * digits stays as it is, and invalid UTF-8 becomes U+FFFD instead of an exception. Characters above
 * U+00FF (a JS string built elsewhere) are kept as UTF-8.
 */
export function percentDecode(raw: string, plusIsSpace: boolean): string {
  if (NOT_ASCII.test(raw)) return percentDecodeBytes(raw, plusIsSpace);
  if (!raw.includes('%') && !(plusIsSpace && raw.includes('+'))) return raw;
  // ASCII whose escapes are well-formed UTF-8 (every client's `cmd=`): the engine's decoder gives the same
  // string; it refuses anything else (a lone `%`, invalid UTF-8), which the lenient decoder below handles.
  try {
    return decodeURIComponent(plusIsSpace ? raw.replaceAll('+', ' ') : raw);
  } catch {
    return percentDecodeBytes(raw, plusIsSpace);
  }
}

const NOT_ASCII = /[^\x00-\x7f]/;

function percentDecodeBytes(raw: string, plusIsSpace: boolean): string {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25 && i + 2 < raw.length && isHex(raw.charCodeAt(i + 1)) && isHex(raw.charCodeAt(i + 2))) {
      bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === 0x2b && plusIsSpace) {
      bytes.push(0x20);
    } else if (c <= 0xff) {
      bytes.push(c);
    } else {
      for (const b of Buffer.from(String.fromCodePoint(raw.codePointAt(i)!), 'utf8')) bytes.push(b);
      if (c >= 0xd800 && c <= 0xdbff) i++;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Characters XML 1.0 does not allow; anything a client sent is cleaned of them before it is echoed in XML. */
const NOT_XML_CHAR = /[^\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

export function xmlSafe(text: string): string {
  return text.replace(NOT_XML_CHAR, '\ufffd');
}

/** For echoing a client's value in a message: XML-safe and at most `max` characters. */
export function shown(text: string, max = 100): string {
  const safe = xmlSafe(text);
  return safe.length > max ? `${safe.slice(0, max)}…` : safe;
}

export type BodyResult = { kind: 'form'; text: string } | { kind: 'none' } | { kind: 'too-large'; limit: number } | { kind: 'multipart' };

/**
 * Read a POST body up to `limit` bytes. The bytes are kept one char per byte (latin1) so that
 * percent-decoding sees exactly what was sent; a larger body is drained and discarded so the
 * client still gets its error answer.
 */
export async function readFormBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const multipart = type.startsWith('multipart/');
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) over = true;
    if (!over && !multipart) chunks.push(chunk);
  }
  if (over) return { kind: 'too-large', limit };
  if (multipart) return { kind: 'multipart' };
  // A body of another type (JSON, XML) carries no form parameters; PAN-OS reads forms only.
  if (type !== '' && !type.startsWith('application/x-www-form-urlencoded') && !type.startsWith('text/plain')) return { kind: 'none' };
  return { kind: 'form', text: Buffer.concat(chunks).toString('latin1') };
}
