// The slice of winston the server and the cluster adapters use. winston's Logger satisfies it;
// tests pass an array-backed fake and read what was logged.

export type LogFields = Record<string, unknown>;

export interface Logger {
  error(message: string, fields?: LogFields): unknown;
  warn(message: string, fields?: LogFields): unknown;
  info(message: string, fields?: LogFields): unknown;
  debug(message: string, fields?: LogFields): unknown;
}
