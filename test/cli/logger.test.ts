import test from 'ava';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../cli/logger.ts';

test('logger: a secret is redacted at the top, one and two levels down (a config logged whole), and the rest is kept', async (t) => {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (c: Buffer) => chunks.push(c.toString()));
  const log = createLogger({ destination: out, level: 'info' });
  log.info(
    {
      apiKey: 'LUFRPT1top',
      token: 't0ken-top',
      panorama: { host: 'pano.lab', apiKey: 'LUFRPT1one', password: 'pw-one' },
      config: { panorama: { host: 'pano.lab', apiKey: 'LUFRPT1two', password: 'pw-two' }, web: { token: 't0ken-two' } },
    },
    'configured',
  );
  await new Promise((r) => setImmediate(r));
  const line = chunks.join('');
  for (const secret of ['LUFRPT1top', 't0ken-top', 'LUFRPT1one', 'pw-one', 'LUFRPT1two', 'pw-two', 't0ken-two']) t.false(line.includes(secret), `${secret} in ${line}`);
  const parsed = JSON.parse(line) as { config: { panorama: { host: string; apiKey: string } } };
  t.is(parsed.config.panorama.host, 'pano.lab');
  t.is(parsed.config.panorama.apiKey, '[redacted]');
});
