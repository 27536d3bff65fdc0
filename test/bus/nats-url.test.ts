import test from 'ava';
import { maskNatsUrl, natsUrlProblem } from '../../bus/nats-url.ts';

test('nats url: a URL with a user and password, or a token, is refused with them masked; one without is fine', (t) => {
  t.is(maskNatsUrl('nats://daemon:s3cret@nats.lab:4222,tls://t0ken@nats2.lab:4222,nats3.lab:4222'), 'nats://daemon:****@nats.lab:4222,tls://****@nats2.lab:4222,nats3.lab:4222');
  t.is(maskNatsUrl('daemon:s3cret@nats.lab'), 'daemon:****@nats.lab');
  const problem = natsUrlProblem('nats://nats.lab:4222, nats://daemon:s3cret@nats2.lab:4222');
  t.regex(problem ?? '', /^the NATS URL nats:\/\/nats\.lab:4222,nats:\/\/daemon:\*\*\*\*@nats2\.lab:4222 carries credentials: .*nats\.password_file/);
  t.false((problem ?? '').includes('s3cret'));
  for (const fine of ['nats://127.0.0.1:4222', 'tls://nats.lab:4222,nats://[::1]:4222', 'nats.lab', '']) t.is(natsUrlProblem(fine), undefined, fine);
});
