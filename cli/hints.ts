/**
 * Suggested next commands repeat the global options the user gave (`--data-dir`, `--nats-url`), so that
 * copying a hint reaches the same daemon and data dir. main.ts records them once from the command line.
 */
let given = '';

function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The global options on `args` (the command line after `node script`), in the order given. */
export function globalOptionsOf(args: readonly string[]): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = /^(--data-dir|--nats-url)=(.*)$/s.exec(a);
    if (eq) found.push([eq[1]!, eq[2]!]);
    else if ((a === '--data-dir' || a === '--nats-url') && args[i + 1] !== undefined) found.push([a, args[++i]!]);
  }
  return found;
}

export function rememberGlobalOptions(args: readonly string[]): void {
  given = globalOptionsOf(args)
    .map(([k, v]) => `${k} ${shellWord(v)}`)
    .join(' ');
}

/**
 * `text` with the remembered global options put into every `panos-upgrade <command>` it suggests,
 * including those in messages that came from the daemon: `panos-upgrade --data-dir D job status ID`.
 */
export function withGlobalOptions(text: string): string {
  if (given === '') return text;
  // "panos-upgrade job …" is a command; "a panos-upgrade daemon" is a thing, "panos-upgrade demo: …" a title.
  return text.replace(/(?<!\ba )\bpanos-upgrade (?=[a-z])(?![a-z-]+:)/g, `panos-upgrade ${given} `);
}

/** A suggested command: `hint('job list')` → `panos-upgrade [global options] job list`. */
export function hint(command: string): string {
  return withGlobalOptions(`panos-upgrade ${command}`);
}
