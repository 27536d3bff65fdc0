import pino, { type Logger } from 'pino';

/** The one redact list (STYLE.md §3): secrets never reach a log line. */
export const REDACT_PATHS = [
  'key',
  '*.key',
  'password',
  '*.password',
  '*.*.password',
  'apiKey',
  '*.apiKey',
  '*.*.apiKey',
  'api_key',
  '*.api_key',
  'token',
  '*.token',
  '*.*.token',
  'req.query.key',
  'req.headers["x-pan-key"]',
  'req.headers.authorization',
];

export interface LoggerOptions {
  level?: string;
  /** Write to this stream instead of stderr (tests). */
  destination?: NodeJS.WritableStream;
}

/** The root logger of a process; components take `log.child({ component })`. Logs go to stderr as JSON lines. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.PANOS_LOG_LEVEL ?? 'info';
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } },
    (options.destination as pino.DestinationStream | undefined) ?? pino.destination(2),
  );
}
