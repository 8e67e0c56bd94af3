// The secure-defaults CLI compiled as it ships (tsc -p tsconfig.build.json) into a temp folder
// laid out like the installed package (package.json, policies/, dist/, node_modules), so e2e
// tests run the real `secure-defaults serve` process rather than importing its modules.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface CompiledCli {
  /** Folder standing in for the installed package. */
  readonly root: string;
  /** dist/src/cli/main.js inside root. */
  readonly mainJs: string;
  remove(): Promise<void>;
}

export interface CompileOptions {
  /**
   * false: emit only (`tsc --noCheck`), about half the time; the JavaScript is the same, and
   * `npm run typecheck` checks the types. For suites that must stay short.
   */
  readonly typeCheck?: boolean;
}

export async function compileCli(options: CompileOptions = {}): Promise<CompiledCli> {
  const root = await mkdtemp(join(tmpdir(), 'secure-defaults-cli-'));
  try {
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await new Promise<void>((resolvePromise, reject) => {
      execFile(process.execPath, [tsc, '-p', join(REPO_ROOT, 'tsconfig.build.json'), '--outDir', join(root, 'dist'), ...(options.typeCheck === false ? ['--noCheck'] : [])], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
        error ? reject(new Error(`tsc -p tsconfig.build.json failed: ${stdout}${stderr}`)) : resolvePromise(),
      );
    });
    await cp(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
    await cp(join(REPO_ROOT, 'policies'), join(root, 'policies'), { recursive: true });
    await symlink(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  return { root, mainJs: join(root, 'dist', 'src', 'cli', 'main.js'), remove: () => rm(root, { recursive: true, force: true }) };
}
