// The logger every layer is handed (never imported as a singleton): tests pass an array-backed
// fake and read what was logged; `serve` passes the JSON-line logger (json-line-logger.ts).

export type LogFields = Record<string, unknown>;

export interface Logger {
  error(message: string, fields?: LogFields): unknown;
  warn(message: string, fields?: LogFields): unknown;
  info(message: string, fields?: LogFields): unknown;
  debug(message: string, fields?: LogFields): unknown;
}

/** Most severe first; a logger set to one level writes it and those before it. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
