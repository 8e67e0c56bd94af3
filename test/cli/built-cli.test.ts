// The real bin, compiled and spawned as a user would run it: a package laid out as installed
// (package.json, dist/src/cli/main.js, policies/), run from an unrelated working directory.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { checkRestricted } from '../../src/engine/index.js';
import { fixture } from './in-process-cli.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
let packageDir = '';
let workDir = '';

const RECORD_LOADED_MODULES = fileURLToPath(new URL('./hooks/record-loaded-modules.mjs', import.meta.url));

function runBin(args: readonly string[], stdin = '', nodeFlags: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, join(packageDir, 'dist/src/cli/main.js'), ...args], { cwd: workDir, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

beforeAll(async () => {
  packageDir = mkdtempSync(join(tmpdir(), 'secure-defaults-bin-'));
  workDir = mkdtempSync(join(tmpdir(), 'secure-defaults-cwd-'));
  const tsconfig = {
    extends: join(REPO, 'tsconfig.json'),
    compilerOptions: { rootDir: REPO, outDir: join(packageDir, 'dist'), types: ['node'], sourceMap: false },
    // The policy parse worker is started by URL, outside main.ts's import graph.
    files: [join(REPO, 'src/cli/main.ts'), join(REPO, 'src/server/policy-parse-worker.ts')],
    include: [],
  };
  writeFileSync(join(packageDir, 'tsconfig.json'), JSON.stringify(tsconfig));
  symlinkSync(join(REPO, 'node_modules'), join(packageDir, 'node_modules'));
  await promisify(execFile)(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(packageDir, 'tsconfig.json')]);
  cpSync(join(REPO, 'package.json'), join(packageDir, 'package.json'));
  if (existsSync(join(REPO, 'policies'))) {
    cpSync(join(REPO, 'policies'), join(packageDir, 'policies'), { recursive: true });
  } else {
    mkdirSync(join(packageDir, 'policies'));
  }
}, 180_000);

afterAll(() => {
  for (const dir of [packageDir, workDir]) {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  }
});

describe('the built secure-defaults bin', () => {
  it('mutates stdin with the policy shipped in the package, from any working directory', async () => {
    const pod = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: busybox}]}\n';
    const run = await runBin(['mutate', '-f', '-'], pod);
    expect(run.stderr).not.toMatch(/cannot read policy/);
    expect(run.code).toBe(0);
    expect(checkRestricted(parse(run.stdout))).toEqual([]);
  });

  it('exits 1 from check when hardening leaves something refused', async () => {
    const run = await runBin(['check', '-f', fixture('unfixable.yaml'), '--policy', fixture('policy.yaml')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('after   hostNamespaces');
  });

  it('prints one error line and exits 2 for a missing file, without a stack trace', async () => {
    const run = await runBin(['mutate', '-f', 'missing.yaml', '--policy', fixture('policy.yaml')]);
    expect(run).toEqual({ code: 2, stdout: '', stderr: 'error: cannot read manifests "missing.yaml": no such file\n' });
  });

  // --help loads every command, the Kubernetes client with them: seconds on a busy machine.
  it('lists serve, allocations and audit beside the offline commands', async () => {
    const run = await runBin(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\s+serve\b/m);
    expect(run.stdout).toMatch(/^\s+allocations\b/m);
    expect(run.stdout).toMatch(/^\s+audit\b/m);
    expect(run.stdout).toMatch(/^\s+mutate\b/m);
  }, 30_000);

  it('audit --help documents --fail-on and the exit statuses', async () => {
    const run = await runBin(['audit', '--help']);
    expect(run.code).toBe(0);
    for (const text of ['--fail-on', 'deny', 'change', 'never', '--assume-opted-in', '--only-changed', '--policy-configmap', '--context', 'Exit status: 0']) expect(run.stdout).toContain(text);
  }, 30_000);

  /** The module URLs the bin resolved while running `args` (from the preloaded recording hook). */
  async function modulesLoadedBy(args: readonly string[]): Promise<{ stdout: string; modules: string[] }> {
    const record = join(workDir, `loaded-modules-${args.join('_')}.json`);
    const run = await runBin(args, '', ['--import', RECORD_LOADED_MODULES], { SECURE_DEFAULTS_LOADED_MODULES: record });
    expect(run.code).toBe(0);
    return { stdout: run.stdout, modules: JSON.parse(readFileSync(record, 'utf8')) as string[] };
  }
  const kubernetesClient = (url: string): boolean => url.includes('/@kubernetes/client-node/');

  it.each([[['--version']], [['version']]])('%j prints the package version without loading the Kubernetes client, winston or prom-client', async (args) => {
    const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    const { stdout, modules } = await modulesLoadedBy(args);
    expect(stdout).toBe(`${version}\n`);
    expect(modules.filter((url) => kubernetesClient(url) || url.includes('/winston/') || url.includes('/prom-client/'))).toEqual([]);
  });

  it('does load the Kubernetes client for --help (which lists allocations), so the recording sees it', async () => {
    const { modules } = await modulesLoadedBy(['--help']);
    expect(modules.some(kubernetesClient)).toBe(true);
  });

  describe('serve and signals', () => {
    /** Starts `serve` with a 60 s shutdown delay and resolves once it listens. */
    function startServing() {
      const child = spawn(process.execPath, [join(packageDir, 'dist/src/cli/main.js'), 'serve', '--policy', join(packageDir, 'policies/default.yaml'), '--port', '0', '--host', '127.0.0.1', '--shutdown-delay', '60'], { cwd: workDir });
      let stdout = '';
      const seen = (text: string) => new Promise<void>((resolve) => {
        const look = () => (stdout.includes(text) ? resolve() : child.stdout.once('data', look));
        look();
      });
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
      return { child, seen, exited, output: () => stdout };
    }

    it('a second Ctrl-C exits at once instead of waiting out the shutdown delay', async () => {
      const serving = startServing();
      await serving.seen('webhook server listening');
      serving.child.kill('SIGINT');
      await serving.seen('signal received; shutting down');
      serving.child.kill('SIGINT');
      // Bounds a hang, measures nothing: the first signal alone would keep it alive for 60 s.
      const result = await Promise.race([serving.exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 15_000))]);
      if (result === 'still running') serving.child.kill('SIGKILL');
      expect(result).toEqual({ code: 130, signal: null });
      expect(serving.output()).toContain('second signal received; exiting without draining');
    }, 30_000);

    it('one signal alone starts the graceful shutdown and keeps serving meanwhile', async () => {
      const serving = startServing();
      await serving.seen('webhook server listening');
      serving.child.kill('SIGTERM');
      await serving.seen('signal received; shutting down');
      const early = await Promise.race([serving.exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 1_000))]);
      serving.child.kill('SIGKILL');
      expect(early).toBe('still running');
    }, 30_000);
  });

  it('validates a policy', async () => {
    const run = await runBin(['policy', 'validate', fixture('invalid-policy.yaml')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('spec.mode:');
  });
});
