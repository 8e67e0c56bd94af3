// The slice of a logger the allocator uses; winston's Logger and the server's Logger satisfy it.
export interface AllocationLogger {
  error(message: string, fields?: Record<string, unknown>): unknown;
  warn(message: string, fields?: Record<string, unknown>): unknown;
  info(message: string, fields?: Record<string, unknown>): unknown;
}
