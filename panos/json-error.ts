/**
 * Where JSON.parse stopped, without its quote of the text (a config or connection file may hold a
 * secret): `line 4, column 3` from the position V8 names, else the first words of its message.
 */
export function jsonErrorPlace(text: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const at = /at position (\d+)/.exec(message);
  if (at) {
    const before = text.slice(0, Number(at[1]));
    return `line ${before.split('\n').length}, column ${before.length - before.lastIndexOf('\n')}`;
  }
  return message.split(/["'`]/)[0]!.trim().replace(/[,:]$/, '') || 'malformed';
}
