import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the operator token of a data dir lives (mode 0600, like config.json). */
export function operatorTokenPath(dataDir: string): string {
  return join(dataDir, 'ui-operator-token');
}

/**
 * The token that lets a browser act (cancel, resume, …) on the fleet view: made on first use, kept in
 * the data dir so that whoever can read the data dir is an operator and anyone else only looks.
 */
export function loadOperatorToken(dataDir: string): string {
  const file = operatorTokenPath(dataDir);
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 16) {
      // Whoever reads it is an operator: kept to its owner, whatever its mode became.
      chmodSync(file, 0o600);
      return token;
    }
  }
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, token + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

/** Constant-time comparison of a presented token with the operator's. */
export function isOperatorToken(presented: string | undefined, token: string): boolean {
  if (!presented) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
