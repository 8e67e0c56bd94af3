// The policy worker compiled as it ships (tsc of src/server/policy-parse-worker.ts and what it
// imports) into a temp folder laid out like the package, so tests running from TypeScript sources
// start the real worker thread: a worker must be JavaScript.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface CompiledPolicyWorker {
  readonly url: URL;
  remove(): Promise<void>;
}

export async function compilePolicyWorker(): Promise<CompiledPolicyWorker> {
  const root = await mkdtemp(join(tmpdir(), 'secure-defaults-policy-worker-'));
  const tsconfig = {
    extends: join(REPO_ROOT, 'tsconfig.json'),
    compilerOptions: { rootDir: REPO_ROOT, outDir: join(root, 'dist'), types: ['node'], sourceMap: false, noCheck: true },
    files: [join(REPO_ROOT, 'src/server/policy-parse-worker.ts')],
    include: [],
  };
  try {
    await writeFile(join(root, 'tsconfig.json'), JSON.stringify(tsconfig));
    await symlink(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
    await new Promise<void>((done, fail) => {
      execFile(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], (error, stdout, stderr) =>
        error ? fail(new Error(`tsc of the policy worker failed: ${stdout}${stderr}`)) : done(),
      );
    });
    await cp(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  return { url: pathToFileURL(join(root, 'dist/src/server/policy-parse-worker.js')), remove: () => rm(root, { recursive: true, force: true }) };
}

/** A worker script of test/server/fixtures/ (plain JavaScript: a worker that misbehaves on purpose). */
export function fixtureWorker(name: string): URL {
  return new URL(`./fixtures/${name}`, import.meta.url);
}
