// The CLI's only contact with the outside world. Commands receive a CliIo and return an exit
// code, so tests drive them in-process with in-memory streams and files.
import { readFile } from 'node:fs/promises';

export interface CliIo {
  /** Rejects with a Node.js error (code ENOENT, EACCES, EISDIR, …) when the file can't be read. */
  readFile(path: string): Promise<string>;
  readStdin(): Promise<string>;
  writeStdout(text: string): void;
  writeStderr(text: string): void;
  /** True when stderr is a terminal (progress lines are shown there only then, unless asked). */
  readonly stderrIsTerminal?: boolean;
}

export function createProcessIo(): CliIo {
  return {
    readFile: (path) => readFile(path, 'utf8'),
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
