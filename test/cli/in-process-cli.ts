// Runs the real CLI program (real engine, real fixture files) in-process, with stdin, stdout and
// stderr in memory.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { checkRestricted, hardenManifest, parsePolicy } from '../../src/engine/index.js';
import { readDirectoryEntries, type CliIo } from '../../src/cli/cli-io.js';
import { createCliProgram } from '../../src/cli/program.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/cli/', import.meta.url));
export const fixture = (name: string): string => FIXTURES + name;

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly stdin?: string;
  /** Stands in for the package's policies/default.yaml. */
  readonly defaultPolicyPath?: string;
}

export async function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    readFile: (path) => readFile(path, 'utf8'),
    readDirectory: readDirectoryEntries,
    readStdin: () => Promise.resolve(options.stdin ?? ''),
    writeStdout: (text) => {
      stdout += text;
    },
    writeStderr: (text) => {
      stderr += text;
    },
  };
  const cli = createCliProgram(
    { io, engine: { parsePolicy, hardenManifest, checkRestricted }, defaultPolicyPath: options.defaultPolicyPath ?? fixture('policy.yaml') },
    '9.9.9',
  );
  const code = await cli.run(args);
  return { code, stdout, stderr };
}
