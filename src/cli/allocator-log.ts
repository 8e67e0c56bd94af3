// The allocator process's log: the floor's JSON-line logger, with the fields operators of the
// standalone allocator read on every line: level, message, time and the replica's identity.
import { createJsonLineLogger } from '../foundation/json-line-logger.js';
import type { Logger } from '../foundation/logger.js';

/** Where the lines go: process.stdout, or a test's fake. */
export interface LineSink {
  write(text: string): unknown;
}

export function createAllocatorLogger(identity: string, sink: LineSink, now: () => number): Logger {
  // Every level: the allocator logs little, and its debug lines are what a failover is read from.
  return createJsonLineLogger({ level: 'debug', write: (lines) => sink.write(lines), now, timeKey: 'time', fields: { identity } });
}
