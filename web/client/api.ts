const TOKEN_KEY = 'panos-upgrade.operator-token';

export function operatorToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function setOperatorToken(token: string): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/** Whether the stored token is the operator's (the server decides). */
export async function isOperator(): Promise<boolean> {
  const token = operatorToken();
  if (!token) return false;
  const res = await fetch('/api/session', { headers: { authorization: `Bearer ${token}` } });
  return res.ok && ((await res.json()) as { operator: boolean }).operator;
}

/** An operator action on a job; resolves with the error message, or undefined when it was accepted. */
export async function jobAction(jobId: string, action: string, kind: 'jobs' | 'campaigns' = 'jobs'): Promise<string | undefined> {
  const res = await fetch(`/api/${kind}/${encodeURIComponent(jobId)}/${action}`, { method: 'POST', headers: { authorization: `Bearer ${operatorToken()}` } });
  if (res.ok) return undefined;
  const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
  return body.error?.message ?? `HTTP ${res.status}`;
}
