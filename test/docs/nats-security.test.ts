import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { READ_ONLY_COMMANDS, userPermissions } from '../../bus/auth.ts';
import { COMMANDS } from '../../bus/subjects.ts';
import { repoRoot } from '../helpers/index.ts';

const doc = readFileSync(join(repoRoot, 'docs/nats-security.md'), 'utf8');

test('docs/nats-security.md: the reader row of the users table names exactly the read-only commands the server allows', (t) => {
  const row = doc.split('\n').find((l) => l.startsWith('| `reader` |'));
  t.truthy(row);
  const named = [...(row ?? '').matchAll(/`panos\.cmd\.([a-z.-]+)`/g)].map((m) => m[1]);
  t.deepEqual(named.sort(), [...READ_ONLY_COMMANDS].sort());
  const allowed = userPermissions('panos').reader.publish.filter((s) => s.startsWith('panos.cmd.')).map((s) => s.slice('panos.cmd.'.length));
  t.deepEqual(allowed.sort(), [...READ_ONLY_COMMANDS].sort());
});

test('docs/nats-security.md: every command that is not read-only is listed as needing the operator', (t) => {
  const para = doc.split('\n- ').find((p) => p.includes('need the operator')) ?? '';
  const missing = COMMANDS.filter((c) => !(READ_ONLY_COMMANDS as readonly string[]).includes(c)).filter((c) => {
    const [kind, verb] = c.split('.');
    return !para.includes(`\`${c}\``) && !new RegExp(`\`${kind}\\.[a-z|-]*\\b${verb}\\b`).test(para);
  });
  t.deepEqual(missing, []);
});
