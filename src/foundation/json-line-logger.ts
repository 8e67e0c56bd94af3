// The winston logger the serve command runs with: JSON lines built with one JSON.stringify and
// written once per event-loop turn, because the webhook logs every admission decision at info.

import { Writable } from 'node:stream';
import winston from 'winston';
import type { LogFields, Logger, LogLevel } from './logger.js';

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
  /** The timestamp field's name: "timestamp" (serve's lines), or "time" (the allocator process's). */
  readonly timeKey?: 'timestamp' | 'time';
  /** Fields every line carries after level, message and the timestamp (a process's identity). */
  readonly fields?: LogFields;
}

/** What every line of one logger starts with, and the keys a field may not take over. */
interface LineHead {
  readonly timeKey: string;
  /** The constant fields as JSON members, "" or `,"identity":"a"`. */
  readonly constant: string;
  /** Keys the line itself sets; a field with one of these names is kept under "field.<name>". */
  readonly reserved: ReadonlySet<string>;
}

function lineHead(options: JsonLineLoggerOptions): LineHead {
  const timeKey = options.timeKey ?? 'timestamp';
  const constant = options.fields === undefined ? '{}' : JSON.stringify(options.fields);
  return {
    timeKey,
    constant: constant.length > 2 ? `,${constant.slice(1, -1)}` : '',
    reserved: new Set(['level', 'message', timeKey, ...Object.keys(options.fields ?? {})]),
  };
}

function needsRewrite(fields: LogFields, reserved: ReadonlySet<string>): boolean {
  for (const key in fields) {
    if (reserved.has(key)) return true;
    const value = fields[key];
    if (value instanceof Error) return true;
  }
  return false;
}

// JSON.stringify turns an Error into {}; the message is what a reader needs.
function rewriteFields(fields: LogFields, reserved: ReadonlySet<string>): LogFields {
  const result: LogFields = {};
  for (const key in fields) {
    const value = fields[key];
    result[reserved.has(key) ? `field.${key}` : key] = value instanceof Error ? value.message : value;
  }
  return result;
}

function unserializable(error: unknown): string {
  return `fields could not be written as JSON: ${error instanceof Error ? error.message : String(error)}`;
}

/** Lines buffered within one turn before they are written anyway. */
const MAX_PENDING_CHARS = 64 * 1024;

/** Where winston's info object carries the caller's fields, untouched by winston's own meta merging. */
const FIELDS = Symbol('secure-defaults.fields');
const MESSAGE = Symbol.for('message');

interface LineInfo {
  level: string;
  message: unknown;
  [FIELDS]?: LogFields;
  [MESSAGE]?: string;
}

function formatLine(info: LineInfo, now: () => number, line: LineHead): string {
  const head = `{"level":"${info.level}","message":${JSON.stringify(String(info.message))},"${line.timeKey}":"${new Date(now()).toISOString()}"${line.constant}`;
  const fields = info[FIELDS];
  if (fields === undefined) return `${head}}`;
  let body: string;
  try {
    body = JSON.stringify(needsRewrite(fields, line.reserved) ? rewriteFields(fields, line.reserved) : fields);
  } catch (error) {
    body = JSON.stringify({ logError: unserializable(error) });
  }
  // body is "{…}" (fields is an object): splice its members after the head's.
  return body.length > 2 ? `${head},${body.slice(1)}` : `${head}}`;
}

/**
 * Collects the lines of one event-loop turn and hands them to `write` in one call at the end of
 * the turn (or earlier past MAX_PENDING_CHARS, so a busy turn cannot buffer without bound).
 */
function turnBatchingStream(write: (lines: string) => unknown): Writable {
  let pending = '';
  let flushScheduled = false;
  const flush = (): void => {
    flushScheduled = false;
    if (pending === '') return;
    const text = pending;
    pending = '';
    write(text);
  };
  return new Writable({
    decodeStrings: false,
    write(chunk: string, _encoding, done) {
      pending += chunk;
      if (pending.length >= MAX_PENDING_CHARS) flush();
      else if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
      done();
    },
  });
}

/**
 * A winston logger writing one JSON object per line: {"level","message","timestamp", ...constant
 * fields, ...fields}. Never throws: fields that cannot be serialized (a cycle, a BigInt) are
 * replaced by a note saying so; a field named level, message, timestamp or like a constant field
 * is kept as "field.<name>".
 *
 * Lines are written once per event-loop turn, not one by one: process.stdout is a synchronous
 * write(2) for files and pipes on Linux, and under load one write per admission cost about as much
 * as the rest of logging. A process killed with SIGKILL loses at most that turn's lines. The line
 * is formatted here rather than by winston's json() + timestamp() formats, which cost twice as
 * much per line (bench/README.md, "Logging"), and every admission logs one at info.
 */
export function createJsonLineLogger(options: JsonLineLoggerOptions): Logger {
  const { now } = options;
  const head = lineHead(options);
  const lineFormat = winston.format((info) => {
    (info as LineInfo)[MESSAGE] = formatLine(info as LineInfo, now, head);
    return info;
  });
  const logger = winston.createLogger({
    level: options.level,
    levels: SEVERITY,
    format: lineFormat(),
    transports: [new winston.transports.Stream({ stream: turnBatchingStream(options.write) })],
  });
  const line = (level: LogLevel, message: string, fields: LogFields | undefined): void => {
    if (SEVERITY[level] > SEVERITY[options.level]) return;
    logger.log({ level, message, ...(fields === undefined ? {} : { [FIELDS]: fields }) } as winston.LogEntry);
  };
  return {
    error: (message, fields) => line('error', message, fields),
    warn: (message, fields) => line('warn', message, fields),
    info: (message, fields) => line('info', message, fields),
    debug: (message, fields) => line('debug', message, fields),
  };
}
