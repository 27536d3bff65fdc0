import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';

/** A place in a YAML (or JSON) document: keys and list indexes. */
export type YamlPath = ReadonlyArray<string | number>;

/** A YAML text that cannot be read: the line of the first problem and what it is. */
export class YamlSyntaxError extends Error {
  constructor(
    readonly line: number | undefined,
    readonly problem: string,
  ) {
    super(problem);
    this.name = 'YamlSyntaxError';
  }
}

/** A YAML text read with the line of each place, so that a schema's error can name file:line and field. */
export interface YamlText {
  value: unknown;
  /** The line of the key (or list item) at `path`, or of the nearest place above it that exists. */
  lineOf(path: YamlPath): number | undefined;
}

/** Read a YAML text (JSON is YAML); a syntax error (or warning, such as a duplicate key) is a YamlSyntaxError with its line. */
export function readYamlText(text: string): YamlText {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw new YamlSyntaxError(lc.linePos(problem.pos[0]).line, problem.message.split('\n')[0] ?? 'invalid YAML');
  return { value: doc.toJS() as unknown, lineOf: (path) => lineOfPath(doc, lc, path) };
}

function lineOfPath(doc: Document, lc: LineCounter, path: YamlPath): number | undefined {
  let node: unknown = doc.contents;
  let best: number | undefined = (node as { range?: number[] } | null)?.range?.[0];
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      best = (pair.key as { range?: number[] }).range?.[0] ?? best;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
      node = node.items[seg];
      best = (node as { range?: number[] }).range?.[0] ?? best;
    } else break;
  }
  return best === undefined ? undefined : lc.linePos(best).line;
}

/** A place as a reader writes it: `checks.ha.severity`, `waves[1].size`, `upgrade_paths["10.0.2"][1]`. */
export function formatYamlPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(String(seg))) out += out ? `.${String(seg)}` : String(seg);
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}
