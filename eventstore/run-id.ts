import { randomBytes } from 'node:crypto';

/** A run id: sortable by time, unique enough for one machine (`r20261122T041500-3fa2`). */
export function newRunId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
  return `r${t}-${randomBytes(2).toString('hex')}`;
}
