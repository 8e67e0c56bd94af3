// The slice of winston the server and the cluster adapters use. winston's Logger satisfies it;
// tests pass an array-backed fake and read what was logged. createJsonLineLogger is the one the
// serve command runs with: the same JSON lines winston's json() format writes, built with one
// JSON.stringify and one write, because the webhook logs every admission decision at info.

export type LogFields = Record<string, unknown>;

export interface Logger {
  error(message: string, fields?: LogFields): unknown;
  warn(message: string, fields?: LogFields): unknown;
  info(message: string, fields?: LogFields): unknown;
  debug(message: string, fields?: LogFields): unknown;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const SEVERITY: Readonly<Record<LogLevel, number>> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface JsonLineLoggerOptions {
  /** The most verbose level written; lines below it cost one comparison. */
  readonly level: LogLevel;
  /**
   * Receives complete lines, newline included (e.g. `(text) => process.stdout.write(text)`): all
   * the lines logged during one turn of the event loop in one call, at the end of that turn.
   */
  readonly write: (lines: string) => unknown;
  /** Wall-clock milliseconds for the timestamp field. */
  readonly now: () => number;
}

/** Keys the line itself sets; a field with one of these names is kept under "field.<name>". */
const RESERVED_KEYS = new Set(['level', 'message', 'timestamp']);

function needsRewrite(fields: LogFields): boolean {
  for (const key in fields) {
    if (RESERVED_KEYS.has(key)) return true;
    const value = fields[key];
    if (value instanceof Error) return true;
  }
  return false;
}

// JSON.stringify turns an Error into {}; the message is what a reader needs.
function rewriteFields(fields: LogFields): LogFields {
  const result: LogFields = {};
  for (const key in fields) {
    const value = fields[key];
    result[RESERVED_KEYS.has(key) ? `field.${key}` : key] = value instanceof Error ? value.message : value;
  }
  return result;
}

function unserializable(error: unknown): string {
  return `fields could not be written as JSON: ${error instanceof Error ? error.message : String(error)}`;
}

/** Lines buffered within one turn before they are written anyway. */
const MAX_PENDING_CHARS = 64 * 1024;

/**
 * One JSON object per line: {"level","message","timestamp", ...fields}. Never throws: fields that
 * cannot be serialized (a cycle, a BigInt) are replaced by a note saying so.
 *
 * Lines are written once per event-loop turn (setImmediate), not one by one: process.stdout is a
 * synchronous write(2) for files and pipes on Linux, and under load one write per admission cost
 * about as much as formatting the line. A process killed with SIGKILL loses at most that turn's lines.
 */
export function createJsonLineLogger(options: JsonLineLoggerOptions): Logger {
  const threshold = SEVERITY[options.level];
  const { now } = options;
  let pending = '';
  let flushScheduled = false;
  const flush = (): void => {
    flushScheduled = false;
    if (pending === '') return;
    const text = pending;
    pending = '';
    options.write(text);
  };
  const write = (text: string): void => {
    pending += text;
    if (pending.length >= MAX_PENDING_CHARS) flush();
    else if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };
  const line = (level: LogLevel, message: string, fields: LogFields | undefined): void => {
    if (SEVERITY[level] > threshold) return;
    const head = `{"level":"${level}","message":${JSON.stringify(String(message))},"timestamp":"${new Date(now()).toISOString()}"`;
    if (fields === undefined) {
      write(`${head}}\n`);
      return;
    }
    let body: string;
    try {
      body = JSON.stringify(needsRewrite(fields) ? rewriteFields(fields) : fields);
    } catch (error) {
      body = JSON.stringify({ logError: unserializable(error) });
    }
    // body is "{…}" (fields is an object): splice its members after the head's.
    write(body.length > 2 ? `${head},${body.slice(1)}\n` : `${head}}\n`);
  };
  return {
    error: (message, fields) => line('error', message, fields),
    warn: (message, fields) => line('warn', message, fields),
    info: (message, fields) => line('info', message, fields),
    debug: (message, fields) => line('debug', message, fields),
  };
}
