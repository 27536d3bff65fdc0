import test from 'ava';
import { createHash } from 'node:crypto';
import { ApiParams, percentDecode, xmlSafe } from '../../gateway/api-params.ts';
import { KeyRing, parseBasic } from '../../gateway/auth.ts';
import { envelopeOf, redactKeys } from '../../gateway/api-recorder.ts';

test('api params: when a raw base64 key carries + / = then both readings are kept and other values decode as a form', (t) => {
  const p = ApiParams.parse('type=op&cmd=%3Cshow%2F%3E+x', 'key=LUFRPT1+ab/c==&cmd=ignored');
  t.deepEqual(p.readings('key'), ['LUFRPT1+ab/c==', 'LUFRPT1 ab/c==']);
  t.is(p.get('cmd'), '<show/> x');
  t.deepEqual(p.repeated, ['cmd']);
  t.deepEqual(p.names(), ['type', 'cmd', 'key']);
  t.deepEqual(ApiParams.parse('key=abc%2B%3D').readings('key'), ['abc+=']);
});

test('api params: when percent escapes are broken or not UTF-8 then decoding keeps going and yields U+FFFD', (t) => {
  t.is(percentDecode('%zz%4', true), '%zz%4');
  t.is(percentDecode('%ff%fe', true), '\ufffd\ufffd');
  t.is(percentDecode('%c3%a9+%e2%82%ac', true), 'é €');
  t.is(percentDecode('a+b', false), 'a+b');
  // A POST body is read one char per byte: raw UTF-8 bytes decode, a lone latin1 byte does not.
  t.is(percentDecode(Buffer.from('é').toString('latin1'), true), 'é');
  t.is(percentDecode('\u00e9', true), '\ufffd');
  t.is(xmlSafe('a\u0000b\u0001c\ufffed'), 'a\ufffdb\ufffdc\ufffdd');
  t.is(ApiParams.parse('=&&type&x=1=2').get('x'), '1=2');
  t.is(ApiParams.parse('=&&type&x=1=2').get('type'), '');
});

test('auth: when keys are checked then any matching reading passes and nothing else does', (t) => {
  const ring = new KeyRing([createHash('sha256').update('k1+/=').digest('hex'), createHash('sha256').update('k2').digest('hex')]);
  t.true(ring.accepts(['k1+/=', 'k1 /=']));
  t.true(ring.accepts(['k2']));
  t.false(ring.accepts(['k3', '']));
  t.false(ring.accepts([]));
  t.deepEqual(parseBasic(`Basic ${Buffer.from('admin:pa:ss').toString('base64')}`), { user: 'admin', password: 'pa:ss' });
  t.is(parseBasic('Basic !!!'), undefined);
  t.is(parseBasic('Bearer x'), undefined);
});

test('api recorder: when a body is recorded then its envelope is read in both quoting styles and keys are redacted', (t) => {
  t.deepEqual(envelopeOf(`<response status = 'error' code = '403'><result/></response>`), { panosStatus: 'error', panosCode: '403' });
  t.deepEqual(envelopeOf('<?xml version="1.0"?>\n<response status="success"><result/></response>'), { panosStatus: 'success', panosCode: null });
  t.deepEqual(envelopeOf('<html><body>booting</body></html>'), { panosStatus: null, panosCode: null });
  t.is(redactKeys(`<response status = 'success'><result><key>LUFRPT==</key></result></response>`), `<response status = 'success'><result><key>[redacted]</key></result></response>`);
});
