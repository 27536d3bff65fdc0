/**
 * `panos-upgrade config list | head -1`: once the reader has gone, writing to stdout fails with EPIPE.
 * That is the reader's choice, not a failure: end at once, quietly, with status 0 (as `cat` or `git log` do).
 */
export function endQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
}
