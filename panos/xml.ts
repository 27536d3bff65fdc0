/**
 * The one place that parses XML, plus the string helpers the simulator renders responses with.
 * Rendering uses template strings (not XMLBuilder) so CDATA placement, self-closing tags and the odd
 * single-quoted envelope come out exactly as PAN-OS writes them.
 *
 * `parseXml` reads a document in one pass into the objects fast-xml-parser made of it: plain PAN-OS XML
 * by a scanner (`scanXml`), anything else by saxes (a strict, well-formedness-checking SAX parser); a
 * document saxes refuses goes through fast-xml-parser's validator and parser as before, so what was
 * accepted or refused, and with which message, is unchanged.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { SaxesParser, type SaxesTagPlain } from 'saxes';

/** A parsed node: text, or an object of children (`@_attr`, `#text`, `__cdata` keys), or an array of those. */
export type XmlValue = string | XmlObject | XmlValue[];
export interface XmlObject {
  [key: string]: XmlValue;
}

/** An element in document order, for walking op commands. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Text and CDATA directly inside the element, concatenated and trimmed. */
  text: string;
}

export const ATTR_PREFIX = '@_';
export const TEXT_KEY = '#text';
export const CDATA_KEY = '__cdata';

const BASE_OPTIONS = {
  ignoreAttributes: false,
  attributeNamePrefix: ATTR_PREFIX,
  textNodeName: TEXT_KEY,
  cdataPropName: CDATA_KEY,
  // Versions like `10.1` and serials like `0079…` must stay strings.
  parseTagValue: false,
  parseAttributeValue: false,
  // Trims `<time>… 2019\n</time>`; CDATA content is kept verbatim (` show -> foo  is unexpected`).
  trimValues: true,
  // Decodes numeric references (`&#39;`) as well as the five XML entities.
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
} as const;

const parsers = new WeakMap<ReadonlySet<string>, XMLParser>();
const NO_ARRAYS: ReadonlySet<string> = new Set();

function parserFor(arrayPaths: ReadonlySet<string>): XMLParser {
  let p = parsers.get(arrayPaths);
  if (!p) {
    // The path is asked for only when the element's name ends one of `arrayPaths`: with `jPath: false` the
    // parser hands a matcher instead of building the dotted path string for every element (half its time).
    const lastNames = new Set([...arrayPaths].map((path) => path.slice(path.lastIndexOf('.') + 1)));
    p = new XMLParser({
      ...BASE_OPTIONS,
      jPath: false,
      isArray: (name, jpath, _leaf, isAttribute) => !isAttribute && lastNames.has(name) && arrayPaths.has(String(jpath)),
    });
    parsers.set(arrayPaths, p);
  }
  return p;
}

const orderedParser = new XMLParser({ ...BASE_OPTIONS, preserveOrder: true });

export class XmlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line?: number,
    readonly col?: number,
  ) {
    super(message);
    this.name = 'XmlSyntaxError';
  }
}

/** Throws XmlSyntaxError unless `text` is well-formed XML. */
export function validateXml(text: string): void {
  const v = XMLValidator.validate(text);
  if (v !== true) throw new XmlSyntaxError(v.err.msg, v.err.line, v.err.col);
}

/**
 * Parse a whole document into plain objects. `arrayPaths` are dotted element paths
 * (`response.result.job`) that always come back as arrays, even with one element.
 * Throws XmlSyntaxError for malformed input.
 */
export function parseXml(text: string, arrayPaths: ReadonlySet<string> = NO_ARRAYS): XmlObject {
  return parseXmlOnePass(text, arrayPaths) ?? parseXmlReference(text, arrayPaths);
}

/**
 * As `parseXml`, through fast-xml-parser's validator and parser (about six times slower on a large
 * table): what `parseXml` falls back to, and the reference its tests compare it with.
 */
export function parseXmlReference(text: string, arrayPaths: ReadonlySet<string> = NO_ARRAYS): XmlObject {
  validateXml(text);
  try {
    return parserFor(arrayPaths).parse(text) as XmlObject;
  } catch (err) {
    // The parser refuses some names the validator accepts (`constructor`), and deep nesting.
    throw new XmlSyntaxError(err instanceof Error ? err.message : String(err));
  }
}

/** An element being read: its children so far, its text so far, and the text since its last child or CDATA. */
interface Frame {
  name: string;
  parent: Frame | undefined;
  children: XmlObject;
  attrs: Record<string, string> | undefined;
  text: string | undefined;
  pending: string;
}

/**
 * Element names fast-xml-parser refuses (`constructor`) or renames (`toString` becomes `__toString`):
 * a document with one goes to its path, so that it is refused or renamed as before.
 */
const UNSAFE_NAMES = new Set(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__']);

class Unsupported extends Error {}

/**
 * fast-xml-parser's shape with the options above (`BASE_OPTIONS`), built from a document's events in
 * order: an element with neither children nor attributes is its text ('' when empty); otherwise an object
 * of its children (repeated names, and `arrayPaths`, as arrays) in the order they first appear, then
 * `#text`, then the attributes as `@_name`. Text is trimmed in runs between child elements, CDATA sections
 * and processing instructions (a comment does not break a run) and the runs joined; a CDATA section is a
 * `__cdata` child, verbatim. A name in UNSAFE_NAMES throws Unsupported.
 */
class TreeBuilder {
  private readonly root: Frame = { name: '', parent: undefined, children: {}, attrs: undefined, text: undefined, pending: '' };
  private top: Frame = this.root;
  private readonly lastNames: ReadonlySet<string>;

  constructor(private readonly arrayPaths: ReadonlySet<string>) {
    this.lastNames = arrayLastNames(arrayPaths);
  }

  get result(): XmlObject {
    return this.root.children;
  }

  /** No text waits in the element being read (white space alone would be trimmed away). */
  get nothingWaits(): boolean {
    return this.top.pending === '';
  }

  /** The name of the element being read ('' outside the root). */
  get openName(): string {
    return this.top.name;
  }

  /** Whether an element is open (the root element has been opened and not yet closed). */
  get inside(): boolean {
    return this.top !== this.root;
  }

  /** `attrs` as they are kept: `@_name` keys, trimmed values. */
  open(name: string, attrs: Record<string, string> | undefined): void {
    this.flushText(this.top);
    if (UNSAFE_NAMES.has(name)) throw new Unsupported(name);
    this.top = { name, parent: this.top, children: {}, attrs, text: undefined, pending: '' };
  }

  text(t: string): void {
    this.top.pending += t;
  }

  /** A processing instruction ends a run of text (and is dropped); a comment does not. */
  instruction(): void {
    this.flushText(this.top);
  }

  cdata(c: string): void {
    this.flushText(this.top);
    this.add(this.top, CDATA_KEY, c);
  }

  close(): void {
    const f = this.top;
    this.flushText(f);
    this.top = f.parent!;
    let value: XmlValue;
    let hasChildren = false;
    for (const _ in f.children) {
      hasChildren = true;
      break;
    }
    if (!hasChildren && f.attrs === undefined) {
      value = f.text ?? '';
    } else {
      value = f.children;
      if (f.text !== undefined) value[TEXT_KEY] = f.text;
      if (f.attrs !== undefined) Object.assign(value, f.attrs);
    }
    this.add(this.top, f.name, value);
  }

  private flushText(f: Frame): void {
    if (f.pending === '') return;
    const t = f.pending.trim();
    f.pending = '';
    // Text outside the root element is not kept (saxes refuses any but white space there).
    if (t !== '' && f !== this.root) f.text = f.text === undefined ? t : f.text + t;
  }

  private add(parent: Frame, name: string, value: XmlValue): void {
    const siblings = parent.children;
    if (Object.hasOwn(siblings, name)) {
      const existing = siblings[name]!;
      if (Array.isArray(existing)) existing.push(value);
      else siblings[name] = [existing, value];
    } else {
      siblings[name] = this.lastNames.has(name) && this.arrayPaths.has(this.pathOf(parent, name)) ? [value] : value;
    }
  }

  /** The dotted path of an element, made only when its name ends one of `arrayPaths` (most elements: never). */
  private pathOf(f: Frame, name: string): string {
    let path = name;
    for (let p: Frame | undefined = f; p !== undefined && p !== this.root; p = p.parent) path = `${p.name}.${path}`;
    return path;
  }
}

/**
 * The document read in one pass (see TreeBuilder for the shape): by the scanner below when the document
 * keeps to the plain XML PAN-OS writes, else by saxes. Undefined when saxes refuses the document, or
 * fast-xml-parser would read it otherwise (`fastPathFits`, `UNSAFE_NAMES`): the caller takes
 * fast-xml-parser's path then.
 */
export function parseXmlOnePass(text: string, arrayPaths: ReadonlySet<string>): XmlObject | undefined {
  if (!fastPathFits(text)) return undefined;
  const scanned = scanXml(text, arrayPaths);
  if (scanned !== undefined) return scanned === UNSUPPORTED ? undefined : scanned;
  return saxesRead(text, arrayPaths);
}

/** The document through saxes (a strict, well-formedness-checking SAX parser); undefined when it refuses it. */
export function saxesRead(text: string, arrayPaths: ReadonlySet<string>): XmlObject | undefined {
  const tree = new TreeBuilder(arrayPaths);
  const parser = new SaxesParser<{ xmlns: false; position: false }>({ xmlns: false, position: false });
  parser.on('opentag', (tag: SaxesTagPlain) => {
    let attrs: Record<string, string> | undefined;
    for (const key in tag.attributes) {
      (attrs ??= {})[ATTR_PREFIX + key] = tag.attributes[key]!.trim();
    }
    tree.open(tag.name, attrs);
  });
  parser.on('text', (t: string) => tree.text(t));
  parser.on('processinginstruction', () => tree.instruction());
  parser.on('cdata', (c: string) => tree.cdata(c));
  parser.on('closetag', () => tree.close());
  try {
    parser.write(text).close();
  } catch {
    return undefined;
  }
  return tree.result;
}

const UNSUPPORTED = Symbol('unsupported');

/** Characters the scanner leaves to saxes: those XML refuses, surrogates, and carriage returns (which saxes normalises). */
const SCAN_REFUSED_CHARS = /[\x00-\x08\x0b\x0c\x0e-\x1f\r\ud800-\udfff\ufffe\uffff]/;
/** A start tag from its name on: ASCII names, quoted attribute values without `<`, tab or line feed (saxes turns those into spaces); `/` for an empty element. White space is XML's (space, tab, line feed), not JavaScript's `\s`. */
const START_TAG = /([A-Za-z_:][A-Za-z0-9_.:-]*)((?:[ \t\n]+[A-Za-z_:][A-Za-z0-9_.:-]*[ \t\n]*=[ \t\n]*(?:"[^"<\t\n]*"|'[^'<\t\n]*'))*)[ \t\n]*(\/?)>/y;
const ATTRIBUTE = /([A-Za-z_:][A-Za-z0-9_.:-]*)[ \t\n]*=[ \t\n]*(?:"([^"<\t\n]*)"|'([^'<\t\n]*)')/g;
const END_TAG_NAME = /^[A-Za-z_:][A-Za-z0-9_.:-]*[ \t\n]*$/;
const XML_DECLARATION = /^<\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(["'])1\.[0-9]+\1(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(["'])[A-Za-z][A-Za-z0-9._-]*\2)?(?:[ \t\n]+standalone[ \t\n]*=[ \t\n]*(["'])(?:yes|no)\3)?[ \t\n]*\?>/;

/** Where the ASCII name starting at `from` ends (`from` itself when none starts there), as START_TAG reads names. */
function endOfName(text: string, from: number): number {
  let k = from;
  const first = text.charCodeAt(k);
  if (!((first >= 0x61 && first <= 0x7a) || (first >= 0x41 && first <= 0x5a) || first === 0x5f || first === 0x3a)) return from;
  for (k++; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x3a || c === 0x2e || c === 0x2d)) break;
  }
  return k;
}

/** Whether `text` from `from` to `to` is XML white space only (space, tab, line feed; a carriage return never gets here). */
function isWhiteSpace(text: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k);
    if (c !== 0x20 && c !== 0x0a && c !== 0x09) return false;
  }
  return true;
}

/** An ampersand that does not start one of the five XML entities. */
const OTHER_AMPERSAND = /&(?!(?:lt|gt|amp|quot|apos);)/;
const ENTITY = /&(lt|gt|amp|quot|apos);/g;
const ENTITY_TEXT: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Text with the five XML entities decoded; undefined for any other `&`, or a `]]>`, both left to saxes. */
function decodedText(t: string): string | undefined {
  if (t.includes(']]>')) return undefined;
  if (!t.includes('&')) return t;
  if (OTHER_AMPERSAND.test(t)) return undefined;
  return t.replace(ENTITY, (_, name: string) => ENTITY_TEXT[name]!);
}

/**
 * The plain XML PAN-OS writes, read with indexOf and a few anchored expressions, several times faster than
 * saxes reads it character by character (the daemon parses route and FIB tables of hundreds of kilobytes).
 * It reads elements, attributes, text with the five XML entities, CDATA, comments, processing
 * instructions and an XML declaration, into the same TreeBuilder as saxes. Anything else, or anything
 * it is unsure is well-formed (another entity, a DOCTYPE, a non-ASCII name, a mismatched or unclosed
 * tag, a second root, a character XML refuses), gives undefined: saxes reads the document then, and
 * accepts or refuses it with its own checks. UNSUPPORTED for a name fast-xml-parser treats otherwise.
 */
export function scanXml(text: string, arrayPaths: ReadonlySet<string>): XmlObject | typeof UNSUPPORTED | undefined {
  if (SCAN_REFUSED_CHARS.test(text)) return undefined;
  const tree = new TreeBuilder(arrayPaths);
  const n = text.length;
  let i = 0;
  let rootSeen = false;
  if (text.startsWith('<?xml')) {
    const decl = XML_DECLARATION.exec(text);
    if (!decl) return undefined;
    i = decl[0].length;
  }
  try {
    while (i < n) {
      const lt = text.indexOf('<', i);
      const end = lt < 0 ? n : lt;
      // White space alone (the indentation between elements, most of the text of a pretty-printed table)
      // changes nothing where no text waits: a run is trimmed, and outside the root it is not kept.
      if (end > i && !(isWhiteSpace(text, i, end) && (!tree.inside || tree.nothingWaits))) {
        if (!tree.inside) return undefined;
        const decoded = decodedText(text.slice(i, end));
        if (decoded === undefined) return undefined;
        tree.text(decoded);
      }
      if (lt < 0) break;
      const next = text.charCodeAt(lt + 1);
      if (next === 0x2f /* / */) {
        if (!tree.inside) return undefined;
        const open = tree.openName;
        let gt = lt + 2 + open.length;
        // `</name>` as it nearly always is; else `</name  >`, or a mismatch left to saxes.
        if (!text.startsWith(open, lt + 2) || text.charCodeAt(gt) !== 0x3e) {
          gt = text.indexOf('>', lt + 2);
          if (gt < 0) return undefined;
          const name = text.slice(lt + 2, gt);
          if (!END_TAG_NAME.test(name) || name.trimEnd() !== open) return undefined;
        }
        tree.close();
        i = gt + 1;
        continue;
      }
      if (next === 0x21 /* ! */) {
        if (text.startsWith('<![CDATA[', lt)) {
          const close = text.indexOf(']]>', lt + 9);
          if (close < 0 || !tree.inside) return undefined;
          tree.cdata(text.slice(lt + 9, close));
          i = close + 3;
          continue;
        }
        if (text.startsWith('<!--', lt)) {
          const close = text.indexOf('-->', lt + 4);
          if (close < 0 || text.slice(lt + 4, close).includes('--') || text.charCodeAt(close - 1) === 0x2d) return undefined;
          i = close + 3;
          continue;
        }
        return undefined;
      }
      if (next === 0x3f /* ? */) {
        const close = text.indexOf('?>', lt + 2);
        if (close < 0) return undefined;
        // A processing instruction needs a target that is not `xml` (the declaration comes first or not at all).
        const instruction = text.slice(lt + 2, close);
        if (!/^[A-Za-z_][A-Za-z0-9_.-]*(?:[ \t\n]|$)/.test(instruction) || /^xml(?:[ \t\n]|$)/i.test(instruction)) return undefined;
        if (tree.inside) tree.instruction();
        i = close + 2;
        continue;
      }
      if (!tree.inside) {
        if (rootSeen) return undefined;
        rootSeen = true;
      }
      // `<name>` and `<name/>`, most tags, without the expression.
      const nameEnd = endOfName(text, lt + 1);
      const after = text.charCodeAt(nameEnd);
      if (nameEnd > lt + 1 && (after === 0x3e || (after === 0x2f && text.charCodeAt(nameEnd + 1) === 0x3e))) {
        tree.open(text.slice(lt + 1, nameEnd), undefined);
        if (after === 0x2f) tree.close();
        i = nameEnd + (after === 0x2f ? 2 : 1);
        continue;
      }
      START_TAG.lastIndex = lt + 1;
      const tag = START_TAG.exec(text);
      if (!tag) return undefined;
      let attrs: Record<string, string> | undefined;
      const rawAttrs = tag[2]!;
      if (rawAttrs !== '') {
        attrs = {};
        ATTRIBUTE.lastIndex = 0;
        for (let a = ATTRIBUTE.exec(rawAttrs); a !== null; a = ATTRIBUTE.exec(rawAttrs)) {
          const key = ATTR_PREFIX + a[1]!;
          const value = decodedText(a[2] ?? a[3]!);
          if (value === undefined || Object.hasOwn(attrs, key)) return undefined;
          attrs[key] = value.trim();
        }
      }
      tree.open(tag[1]!, attrs);
      if (tag[3] === '/') tree.close();
      i = START_TAG.lastIndex;
    }
  } catch (err) {
    if (err instanceof Unsupported) return UNSUPPORTED;
    throw err;
  }
  return !tree.inside && rootSeen ? tree.result : undefined;
}

/**
 * What saxes would read otherwise than fast-xml-parser, left to the old path: a character reference
 * (fast-xml-parser trims text before it decodes `&#10;`, saxes hands it decoded) and white space other
 * than a space inside what may be an attribute value (saxes normalises it to spaces, as XML says, where
 * fast-xml-parser keeps it). Both are rare in PAN-OS answers; a false alarm only costs the slower path.
 */
function fastPathFits(text: string): boolean {
  return !text.includes('&#') && !ATTR_WITH_WHITESPACE.test(text);
}

/** A quote after `=` and a tab or line break before the next quote: linear, no backtracking. */
const ATTR_WITH_WHITESPACE = /=\s*(?:"[^"\t\n\r]*[\t\n\r]|'[^'\t\n\r]*[\t\n\r])/;

const lastNamesOf = new WeakMap<ReadonlySet<string>, ReadonlySet<string>>();

function arrayLastNames(arrayPaths: ReadonlySet<string>): ReadonlySet<string> {
  let names = lastNamesOf.get(arrayPaths);
  if (!names) {
    names = new Set([...arrayPaths].map((path) => path.slice(path.lastIndexOf('.') + 1)));
    lastNamesOf.set(arrayPaths, names);
  }
  return names;
}

type Ordered = Record<string, unknown>;

function toElement(node: Ordered): XmlElement | string | undefined {
  for (const key of Object.keys(node)) {
    if (key === ':@') continue;
    const value = node[key];
    if (key === TEXT_KEY) return String(value ?? '');
    if (key === CDATA_KEY) return (value as Ordered[]).map((n) => String(n[TEXT_KEY] ?? '')).join('');
    const attrs: Record<string, string> = {};
    const rawAttrs = node[':@'] as Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(rawAttrs ?? {})) attrs[k.slice(ATTR_PREFIX.length)] = String(v);
    const children: XmlElement[] = [];
    let text = '';
    for (const c of (value as Ordered[]) ?? []) {
      const e = toElement(c);
      if (typeof e === 'string') text += e;
      else if (e) children.push(e);
    }
    return { name: key, attrs, children, text: text.trim() };
  }
  return undefined;
}

/** Parse into elements in document order; top-level text (if any) is returned in `text`. */
export function parseXmlElements(text: string): { elements: XmlElement[]; text: string } {
  validateXml(text);
  let raw: Ordered[];
  try {
    raw = orderedParser.parse(text) as Ordered[];
  } catch (err) {
    throw new XmlSyntaxError(err instanceof Error ? err.message : String(err));
  }
  const elements: XmlElement[] = [];
  let topText = '';
  for (const n of raw) {
    const e = toElement(n);
    if (typeof e === 'string') topText += e;
    else if (e) elements.push(e);
  }
  return { elements, text: topText.trim() };
}

// ---- reading parsed objects ----

export function isXmlObject(v: unknown): v is XmlObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The text of a node: plain text and CDATA concatenated; '' for missing or empty elements. */
export function textOf(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(textOf).join('');
  if (isXmlObject(v)) return textOf(v[TEXT_KEY]) + textOf(v[CDATA_KEY]);
  return '';
}

/** First child named `name` (arrays collapse to their first element). */
export function child(v: unknown, name: string): XmlValue | undefined {
  if (Array.isArray(v)) return child(v[0], name);
  if (!isXmlObject(v)) return undefined;
  const c = v[name];
  return Array.isArray(c) ? c[0] : c;
}

/** All children named `name`, whether the parser produced one or many. */
export function children(v: unknown, name: string): XmlValue[] {
  if (Array.isArray(v)) return children(v[0], name);
  if (!isXmlObject(v)) return [];
  const c = v[name];
  if (c === undefined) return [];
  return Array.isArray(c) ? c : [c];
}

/** Follow a path of child names. */
export function at(v: unknown, ...path: string[]): XmlValue | undefined {
  let cur: unknown = v;
  for (const p of path) {
    cur = child(cur, p);
    if (cur === undefined) return undefined;
  }
  return cur as XmlValue;
}

/** The text at a path, trimmed; undefined when the element is absent. */
export function textAt(v: unknown, ...path: string[]): string | undefined {
  const n = at(v, ...path);
  return n === undefined ? undefined : textOf(n).trim();
}

export function attrOf(v: unknown, name: string): string | undefined {
  if (Array.isArray(v)) return attrOf(v[0], name);
  if (!isXmlObject(v)) return undefined;
  const a = v[ATTR_PREFIX + name];
  return typeof a === 'string' ? a : undefined;
}

// ---- rendering ----

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

const NEEDS_ESCAPE = /[&<>"']/;

/** Escape text for element content or a double- or single-quoted attribute. */
export function escapeXml(text: string | number): string {
  const s = typeof text === 'string' ? text : String(text);
  // Most values (addresses, names, numbers) have nothing to escape: a test is about half the cost of a replace.
  return NEEDS_ESCAPE.test(s) ? s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c) : s;
}

/** A CDATA section; a `]]>` inside the text is split across two sections. */
export function cdata(text: string): string {
  return `<![CDATA[${text.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;
}

function renderAttrs(attrs: Record<string, string | number> | undefined): string {
  if (!attrs) return '';
  let s = '';
  for (const [k, v] of Object.entries(attrs)) s += ` ${k}="${escapeXml(v)}"`;
  return s;
}

/**
 * The same text, stored as one piece. A string built with `+` is a tree of its pieces, which V8 copies
 * into one each time the string is measured or written, and a string built from cached pieces copies the
 * cached trees again on every use; a string made once and used many times is flattened here, once.
 * (Reading it as a number makes V8 flatten it in place; the value read is not used.)
 */
export function flattened(text: string): string {
  Number(text);
  return text;
}

/** `<name>escaped text</name>`, or `<name/>` when the text is empty or missing. */
export function el(name: string, text?: string | number | null, attrs?: Record<string, string | number>): string {
  const t = text === undefined || text === null ? '' : String(text);
  return t === '' ? `<${name}${renderAttrs(attrs)}/>` : `<${name}${renderAttrs(attrs)}>${escapeXml(t)}</${name}>`;
}

/** `<name>inner</name>` where `inner` is already XML, or `<name/>` when it is empty. */
export function elXml(name: string, inner: string, attrs?: Record<string, string | number>): string {
  return inner === '' ? `<${name}${renderAttrs(attrs)}/>` : `<${name}${renderAttrs(attrs)}>${inner}</${name}>`;
}

/** `<name><![CDATA[text]]></name>`. */
export function elCdata(name: string, text: string): string {
  return `<${name}>${cdata(text)}</${name}>`;
}

export function yesNo(value: boolean): 'yes' | 'no' {
  return value ? 'yes' : 'no';
}
