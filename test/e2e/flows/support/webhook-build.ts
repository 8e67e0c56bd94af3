// Compiles the `secure-defaults` bin for the flow suites into a private folder, so the process
// under test is the real CLI entry point (`main.js serve`) without racing other engineers' or
// suites' `npm run build` writing dist/ at the same moment. flock serialises the flow suites
// among themselves; --incremental makes the second and later compiles quick.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
// Under the repository, so the bin's findPackageRoot() still walks up to our package.json.
const OUT_DIR = join(REPO_ROOT, 'node_modules/.cache/secure-defaults-e2e-flows');
export const WEBHOOK_ENTRY = join(OUT_DIR, 'src/cli/main.js');

function run(command: string, args: readonly string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise) => {
    execFile(command, [...args], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60 * 1000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolvePromise({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** Compiles src/cli/main.ts (and what it imports) and the policy parse worker; returns the path of main.js. */
export async function buildWebhookBin(): Promise<string> {
  await mkdir(OUT_DIR, { recursive: true });
  const tsc = join(REPO_ROOT, 'node_modules/.bin/tsc');
  const { code, output } = await run('flock', [
    join(OUT_DIR, '.lock'),
    tsc,
    '--ignoreConfig',
    '--outDir', OUT_DIR,
    '--rootDir', REPO_ROOT,
    '--module', 'nodenext',
    '--moduleResolution', 'nodenext',
    '--target', 'ES2022',
    '--types', 'node',
    '--strict',
    '--skipLibCheck',
    '--sourceMap',
    '--incremental',
    '--tsBuildInfoFile', join(OUT_DIR, '.tsbuildinfo'),
    join(REPO_ROOT, 'src/cli/main.ts'),
    // Started by URL (new Worker), so not in main.ts's import graph: named here or it is missing.
    join(REPO_ROOT, 'src/server/policy-parse-worker.ts'),
  ]);
  if (code !== 0) {
    // tsc still emits on type errors; those usually sit in a file another engineer is editing right
    // now. Run what was emitted and let the behaviour be judged, but say so.
    if (!existsSync(WEBHOOK_ENTRY)) throw new Error(`compiling src/cli/main.ts failed and emitted nothing:\n${output.slice(-4000)}`);
    console.warn(`tsc reported errors compiling src/cli/main.ts; running what it emitted:\n${output.slice(-2000)}`);
  }
  return WEBHOOK_ENTRY;
}
