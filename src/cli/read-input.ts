import type { CliIo } from './cli-io.js';
import { UserError } from './user-error.js';

const READ_FAILURES: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
};

/** The text of FILE, or of stdin when FILE is "-"; a UserError naming the file when unreadable. */
export async function readInput(io: CliIo, file: string, what: string): Promise<string> {
  if (file === '-') {
    return io.readStdin();
  }
  try {
    return await io.readFile(file);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const reason = typeof code === 'string' ? (READ_FAILURES[code] ?? code) : 'unreadable';
    throw new UserError(`cannot read ${what} ${JSON.stringify(file)}: ${reason}`);
  }
}
