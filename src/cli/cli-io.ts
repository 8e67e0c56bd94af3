// The CLI's only contact with the outside world. Commands receive a CliIo and return an exit
// code, so tests drive them in-process with in-memory streams and files.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface CliIo {
  /** Rejects with a Node.js error (code ENOENT, EACCES, EISDIR, …) when the file can't be read. */
  readFile(path: string): Promise<string>;
  readStdin(): Promise<string>;
  /** The entries of a directory (a symlink counts as what it points at); rejects like readFile. */
  readDirectory?(path: string): Promise<DirectoryEntry[]>;
  writeStdout(text: string): void;
  writeStderr(text: string): void;
  /** True when stderr is a terminal (progress lines are shown there only then, unless asked). */
  readonly stderrIsTerminal?: boolean;
}

export interface DirectoryEntry {
  readonly name: string;
  readonly directory: boolean;
}

export async function readDirectoryEntries(path: string): Promise<DirectoryEntry[]> {
  const entries = await readdir(path, { withFileTypes: true });
  return Promise.all(
    entries.map(async (entry) => ({
      name: entry.name,
      directory: entry.isDirectory() || (entry.isSymbolicLink() && (await stat(join(path, entry.name)).catch(() => null))?.isDirectory() === true),
    })),
  );
}

export function createProcessIo(): CliIo {
  return {
    readFile: (path) => readFile(path, 'utf8'),
    readDirectory: readDirectoryEntries,
    async readStdin() {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) {
        chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
      }
      return Buffer.concat(chunks).toString('utf8');
    },
    writeStdout: (text) => {
      process.stdout.write(text);
    },
    writeStderr: (text) => {
      process.stderr.write(text);
    },
    stderrIsTerminal: process.stderr.isTTY === true,
  };
}
