/**
 * A management REST error, rendered as `{ error: { code, message } }` by the app's error sink. In a
 * module of its own so that the app can name it without loading the management routes.
 */
export class MgmtError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}
