import { readdirSync, readFileSync } from 'node:fs';
import test from 'ava';
import { RESPONSE_ARRAY_PATHS } from '../../panos/parsers.ts';
import { parseXml, parseXmlOnePass, parseXmlReference, saxesRead, scanXml } from '../../panos/xml.ts';
import * as samples from './samples.ts';

const fixtureDir = new URL('./fixtures/readiness/', import.meta.url);
const fixtures: Array<[string, string]> = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.xml'))
  .map((f) => [f, readFileSync(new URL(f, fixtureDir), 'utf8')]);
const sampleDocs: Array<[string, string]> = Object.entries(samples).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].trim().startsWith('<'));

/** What a parse gives: the objects with their key order (JSON), or that it throws. */
function outcome(parse: () => unknown): string {
  try {
    return JSON.stringify(parse());
  } catch {
    return 'throws';
  }
}

const PATHS: ReadonlyArray<ReadonlySet<string>> = [new Set(), RESPONSE_ARRAY_PATHS];

test('parseXml: every fixture and sample answer is read in one pass into what fast-xml-parser made of it, key order included', (t) => {
  t.true(fixtures.length > 50);
  for (const [name, doc] of [...fixtures, ...sampleDocs]) {
    for (const paths of PATHS) {
      const ref = outcome(() => parseXmlReference(doc, paths));
      if (ref === 'throws') continue;
      const fast = parseXmlOnePass(doc, paths);
      if (doc.includes('&#')) continue;
      t.not(fast, undefined, `${name}: the one-pass path was not taken`);
      t.is(JSON.stringify(fast), ref, name);
    }
  }
});

// Each is read like fast-xml-parser reads it (in one pass or by falling back to it).
const EDGE_CASES: Record<string, string> = {
  'text and children mixed, trimmed in runs': '<r> a <b>x</b> c <b> y </b>d</r>',
  'a comment does not break a run of text': '<r> a <!-- c --> b </r>',
  'a processing instruction does': '<r> a <?pi x?> b </r>',
  'CDATA kept verbatim beside text': '<r> a <![CDATA[ <x> ]]> b <![CDATA[]]></r>',
  'attributes after the text and children': '<r k="v"><b>1</b>t<c/></r>',
  'attribute values trimmed, entities decoded': `<r a=" 1 " b='&amp;&lt;' c="x &gt; y"/>`,
  'an attribute value with a tab or line break': '<r a="x\ty" b="1\n2"/>',
  'a character reference at the edge of text': '<r>&#10;x&#32;<s>&#39;q&#39;</s></r>',
  'an HTML entity': '<r>a&nbsp;b&copy;</r>',
  'empty and self-closing elements': '<r><a/><b></b><c>  </c><d x="1"/></r>',
  'repeated names become arrays': '<r><e>1</e><f/><e>2</e><e><g>3</g></e></r>',
  'forced arrays of one': '<response status="success"><result><job><id>1</id></job></result></response>',
  'line endings normalised': '<r>a\r\nb\rc</r>',
  'declaration and top-level comments': '<?xml version="1.0" encoding="UTF-8"?>\n<!-- top --><r>1</r>\n',
  'names fast-xml-parser renames or refuses': '<r><toString>1</toString><valueOf/></r>',
  'constructor refused': '<r><constructor>1</constructor></r>',
  '__proto__ refused': '<r><__proto__><polluted>1</polluted></__proto__></r>',
  'an unclosed element': '<r><a>1</r>',
  'truncated': '<response status="success"><result><entry><name>x</na',
  'two roots': '<a/><b/>',
  'text outside the root': 'x<r/>',
  'a duplicate attribute': '<r a="1" a="2"/>',
  'a boolean attribute': '<r a/>',
  'an undefined entity': '<r>&bogus;</r>',
  'a control character': '<r>a\u0001b</r>',
  'a nested CDATA end in text': '<r>a]]>b</r>',
};

test('parseXml: edge cases come out as fast-xml-parser read them, refused or not', (t) => {
  for (const [name, doc] of Object.entries(EDGE_CASES)) {
    for (const paths of PATHS) t.is(outcome(() => parseXml(doc, paths)), outcome(() => parseXmlReference(doc, paths)), name);
  }
  t.not(parseXmlOnePass('<r> a <b>x</b> c </r>', new Set()), undefined);
  t.is(parseXmlOnePass('<r><a>1</r>', new Set()), undefined);
});

test('parseXml: damaged copies of the fixtures are accepted or refused, and read, as fast-xml-parser does', (t) => {
  const junk = ['<', '>', '&', '&amp;', '&nbsp;', ']]>', '<!-- c -->', '<![CDATA[ x ]]>', '<?pi x?>', ' a="1"', '</x>', '<y/>', '"', "'", '\r\n', '\t ', '\u0001'];
  let seed = 7;
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  let compared = 0;
  for (const [name, doc] of fixtures) {
    for (let i = 0; i < 12; i++) {
      const at = random(doc.length);
      const damaged = i < 9 ? doc.slice(0, at) + junk[random(junk.length)]! + doc.slice(at) : doc.slice(0, at);
      for (const paths of PATHS) {
        t.is(outcome(() => parseXml(damaged, paths)), outcome(() => parseXmlReference(damaged, paths)), `${name} damaged at ${at}`);
        compared++;
      }
    }
  }
  t.true(compared > 1000);
});

test('scanXml: every fixture and sample answer saxes reads is read by the scanner too, into the same objects', (t) => {
  let scanned = 0;
  for (const [name, doc] of [...fixtures, ...sampleDocs]) {
    for (const paths of PATHS) {
      const bySaxes = saxesRead(doc, paths);
      if (bySaxes === undefined || doc.includes('\r')) continue;
      const byScan = scanXml(doc, paths);
      t.is(JSON.stringify(byScan), JSON.stringify(bySaxes), name);
      scanned++;
    }
  }
  t.true(scanned > 100, `${scanned} documents scanned`);
});

test('scanXml: a damaged document is never accepted where saxes refuses it, and what both accept reads the same', (t) => {
  const junk = ['<', '>', '&', '&amp;', '&nbsp;', '&#x41;', ']]>', '<!-- c -->', '<!-- a -- b -->', '<!--->', '<![CDATA[ x ]]>', '<?pi x?>', '<?xml version="1.0"?>', '<?XML x?>', '<!DOCTYPE r>',
    ' a="1"', ' a="1"b="2"', ' a="1" a="2"', ' a=1', ' a', '\u00a0', '\u2028', '</x>', '<y/>', '< y/>', '</ y>', '<1a/>', '"', "'", '=', '/', '\t ', '\n', '\u0001', '\ufeff', 'é', '<é/>', '<a:b/>'];
  let seed = 11;
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  let refusedBySaxes = 0;
  let compared = 0;
  for (const [name, doc] of [...fixtures, ...sampleDocs]) {
    for (let i = 0; i < 30; i++) {
      const at = random(doc.length);
      const damaged = i < 26 ? doc.slice(0, at) + junk[random(junk.length)]! + doc.slice(at) : doc.slice(0, at);
      const bySaxes = saxesRead(damaged, PATHS[1]!);
      let byScan: ReturnType<typeof scanXml>;
      try {
        byScan = scanXml(damaged, PATHS[1]!);
      } catch {
        byScan = undefined;
      }
      if (bySaxes === undefined) {
        refusedBySaxes++;
        t.is(byScan, undefined, `${name} damaged at ${at}: the scanner accepted what saxes refuses: ${JSON.stringify(damaged.slice(Math.max(0, at - 20), at + 20))}`);
      } else if (byScan !== undefined && typeof byScan !== 'symbol') {
        t.is(JSON.stringify(byScan), JSON.stringify(bySaxes), `${name} damaged at ${at}`);
        compared++;
      }
    }
  }
  t.true(refusedBySaxes > 500, `${refusedBySaxes} refused`);
  t.true(compared > 500, `${compared} compared`);
});
