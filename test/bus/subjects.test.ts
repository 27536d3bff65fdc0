import test from 'ava';
import { InvalidTokenError } from '../../bus/errors.ts';
import { COMMANDS, Subjects, assertToken, isToken } from '../../bus/subjects.ts';

const subjects = new Subjects();
const SERIAL = '007951000123456';

test('subjects: when an event of a device stream is named then its type loses the stream-kind prefix', (t) => {
  t.is(subjects.event(`device:${SERIAL}`, 'device.download.started'), `panos.evt.device.${SERIAL}.download.started`);
  t.is(subjects.event(`device:${SERIAL}`, 'device.ha-state.changed'), `panos.evt.device.${SERIAL}.ha-state.changed`);
  t.is(subjects.event('job:4f3c-9a1b', 'job.step.started'), 'panos.evt.job.4f3c-9a1b.step.started');
  t.is(subjects.event(`sim:${SERIAL}`, 'sim.reboot.completed'), `panos.evt.sim.${SERIAL}.reboot.completed`);
});

test('subjects: when a stream has no id then the id token is a dash', (t) => {
  t.is(subjects.event('api', 'api.call.recorded'), 'panos.evt.api.-.call.recorded');
});

test('subjects: when an event type does not start with the stream kind then it is kept whole', (t) => {
  t.is(subjects.event(`device:${SERIAL}`, 'job.step.started'), `panos.evt.device.${SERIAL}.job.step.started`);
  t.is(subjects.event(`device:${SERIAL}`, 'devicex.changed'), `panos.evt.device.${SERIAL}.devicex.changed`);
});

test('subjects: when a stream id or event type would break the grammar then event() throws InvalidTokenError', (t) => {
  const badStreams = ['device:a.b', 'device:a*', 'device:>', 'device:a b', 'device:\t', 'device:', ':0079', 'dev.ice:1', 'device:a\nb'];
  for (const stream of badStreams) {
    t.throws(() => subjects.event(stream, 'device.download.started'), { instanceOf: InvalidTokenError, code: 'INVALID_TOKEN' }, stream);
  }
  for (const type of ['', 'device.', 'device..started', 'device.download.*', 'device.>', 'device.down load']) {
    t.throws(() => subjects.event(`device:${SERIAL}`, type), { instanceOf: InvalidTokenError }, JSON.stringify(type));
  }
});

test('subjects: when a token is checked then dots, wildcards, whitespace and empty strings are rejected, not escaped', (t) => {
  for (const bad of ['', '.', 'a.b', '*', 'a*', '>', 'a>', ' ', 'a b', 'a\tb', 'a\nb', 'x'.repeat(201)]) {
    t.false(isToken(bad), JSON.stringify(bad));
    const error = t.throws(() => assertToken(bad), { instanceOf: InvalidTokenError });
    t.is(error?.token, bad);
  }
  for (const good of ['0079', 'PA-VM_01', '-', 'a:b', 'ha-state', 'x'.repeat(200)]) {
    t.true(isToken(good), good);
    t.is(assertToken(good), good);
  }
  t.false(isToken(42));
  t.false(isToken(undefined));
});

test('subjects: when command, wildcard and simulator subjects are built then every token position means the same thing', (t) => {
  t.is(subjects.cmd('job.submit'), 'panos.cmd.job.submit');
  t.is(subjects.cmd('download.queue-all'), 'panos.cmd.download.queue-all');
  t.is(subjects.allCommands(), 'panos.cmd.>');
  t.is(subjects.allEvents(), 'panos.evt.>');
  t.is(subjects.streamEvents('job', 'j1'), 'panos.evt.job.j1.>');
  t.is(subjects.streamEvents('device'), 'panos.evt.device.*.>');
  t.is(subjects.simOp(SERIAL), `panos.sim.${SERIAL}.op`);
  t.is(subjects.simOpAll(), 'panos.sim.*.op');
  t.is(subjects.simCtl(SERIAL, 'fail-next-op'), `panos.sim.ctl.${SERIAL}.fail-next-op`);
  t.is(subjects.simCtl('-', 'pause'), 'panos.sim.ctl.-.pause');
  t.is(subjects.simCtlAll(), 'panos.sim.ctl.>');
  t.throws(() => subjects.simOp('a.b'), { instanceOf: InvalidTokenError });
  t.throws(() => subjects.simCtl(SERIAL, 'a b'), { instanceOf: InvalidTokenError });
  t.throws(() => subjects.streamEvents('device', 'a.b'), { instanceOf: InvalidTokenError });
  t.throws(() => subjects.streamEvents('dev.ice'), { instanceOf: InvalidTokenError });
});

test('subjects: when built subjects are parsed back then the serial, action and command round-trip', (t) => {
  for (const prefix of ['panos', 'panos-t42', 'acme.lab.panos']) {
    const s = new Subjects(prefix);
    for (const name of COMMANDS) t.is(s.parseCmd(s.cmd(name)), name);
    for (const serial of [SERIAL, 'PA-VM_01', '-']) {
      t.is(s.parseSimOp(s.simOp(serial)), serial);
      t.deepEqual(s.parseSimCtl(s.simCtl(serial, 'drop-offline')), { serial, action: 'drop-offline' });
    }
  }
});

test('subjects: when a subject does not fit the grammar then the parse functions return undefined', (t) => {
  t.is(subjects.parseCmd('panos.cmd.job.explode'), undefined);
  t.is(subjects.parseCmd('other.cmd.job.submit'), undefined);
  t.is(subjects.parseCmd('panos.evt.job.submit'), undefined);
  t.is(subjects.parseSimOp(`panos.sim.${SERIAL}.ctl`), undefined);
  t.is(subjects.parseSimOp(`panos.sim.a.${SERIAL}.op`), undefined);
  t.is(subjects.parseSimOp('panos.sim.ctl.x.op'), undefined);
  t.is(subjects.parseSimOp(`other.sim.${SERIAL}.op`), undefined);
  t.is(subjects.parseSimCtl(`panos.sim.ctl.${SERIAL}`), undefined);
  t.is(subjects.parseSimCtl(`panos.sim.ctl.${SERIAL}.a.b`), undefined);
  t.is(subjects.parseSimCtl(`panos.sim.${SERIAL}.op`), undefined);
  t.is(new Subjects('panos-t1').parseCmd('panos.cmd.job.submit'), undefined);
});

test('subjects: when a custom prefix is given then every subject starts with it, and an invalid prefix is rejected', (t) => {
  const custom = new Subjects('acme.panos');
  t.is(custom.prefix, 'acme.panos');
  t.is(custom.cmd('job.submit'), 'acme.panos.cmd.job.submit');
  t.is(custom.event(`device:${SERIAL}`, 'device.download.started'), `acme.panos.evt.device.${SERIAL}.download.started`);
  t.is(custom.simOp(SERIAL), `acme.panos.sim.${SERIAL}.op`);
  t.is(custom.allEvents(), 'acme.panos.evt.>');
  t.is(new Subjects().prefix, 'panos');
  for (const prefix of ['', 'a..b', 'panos.', 'pa nos', 'panos.*', '>']) {
    t.throws(() => new Subjects(prefix), { instanceOf: InvalidTokenError }, JSON.stringify(prefix));
  }
});
