/** The shapes of the ids in command payloads, shared by their zod schemas (payloads.ts) and the CLI's argument parsers, which load no zod. */
export const SERIAL_PATTERN = /^[0-9A-Za-z]{1,32}$/;
export const JOB_ID_PATTERN = /^[0-9a-z-]{1,40}$/;
