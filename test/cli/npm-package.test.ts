// The CLI as a platform team gets it without a clone: `npm pack` of this repository (which builds
// it), the tarball installed into an empty folder, and the installed bin run from there.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { checkRestricted } from '../../src/engine/index.js';
import { fixture } from './in-process-cli.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
// The bin's `#!/usr/bin/env node` must find the project's Node (24), as it would on a user's PATH.
const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`, NODE_OPTIONS: '' };
let scratch = '';
let installDir = '';
let packageDir = '';

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'secure-defaults-pack-'));
  installDir = join(scratch, 'install');
  const packed = await run('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: REPO, env, maxBuffer: 16 * 1024 * 1024 });
  const [{ filename }] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as [{ filename: string }];
  // An empty folder: no clone and no workspace above it, only the tarball's install.
  mkdirSync(installDir);
  writeFileSync(join(installDir, 'package.json'), '{"name":"consumer","version":"1.0.0","private":true}\n');
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(scratch, filename)], { cwd: installDir, env, maxBuffer: 16 * 1024 * 1024 });
  packageDir = join(installDir, 'node_modules', 'secure-defaults');
}, 300_000);

afterAll(() => {
  if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
});

function bin(args: readonly string[]) {
  return run(join(installDir, 'node_modules', '.bin', 'secure-defaults'), [...args], { cwd: installDir, env }).then(
    (done) => ({ code: 0, stdout: done.stdout, stderr: done.stderr }),
    (failed: { code: number; stdout: string; stderr: string }) => ({ code: failed.code, stdout: failed.stdout, stderr: failed.stderr }),
  );
}

describe('the npm package', () => {
  it('ships the compiled CLI, the example policies, LICENSE and CHANGELOG, and no sources or tests', () => {
    expect(existsSync(join(packageDir, 'dist/src/cli/main.js'))).toBe(true);
    // Started by path at run time (new Worker), so nothing imports it: it must ship all the same.
    expect(existsSync(join(packageDir, 'dist/src/server/policy-parse-worker.js'))).toBe(true);
    expect(existsSync(join(packageDir, 'policies/default.yaml'))).toBe(true);
    expect(readFileSync(join(packageDir, 'LICENSE'), 'utf8')).toContain('Apache License');
    expect(existsSync(join(packageDir, 'CHANGELOG.md'))).toBe(true);
    for (const absent of ['src', 'test', 'bench', 'charts', 'dist/bench', 'node_modules/typescript']) {
      expect([absent, existsSync(join(packageDir, absent))]).toEqual([absent, false]);
    }
  });

  it('runs `secure-defaults mutate` from the install folder with the policy it ships', async () => {
    const result = await bin(['mutate', '-f', fixture('pod.yaml')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const pod = parse(result.stdout) as { spec: { securityContext: { runAsNonRoot: boolean } } };
    expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
    expect(checkRestricted(pod)).toEqual([]);
  });

  it('runs `secure-defaults check` with a policy file: exit 0 when hardening fixes everything, 1 when not', async () => {
    const fixed = await bin(['check', '-f', fixture('pod.yaml'), '--policy', fixture('policy.yaml')]);
    expect(fixed.code).toBe(0);
    const unfixable = await bin(['check', '-f', fixture('unfixable.yaml'), '--policy', fixture('policy.yaml')]);
    expect(unfixable.code).toBe(1);
    expect(unfixable.stdout).toContain('after   hostNamespaces');
  });

  it('prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(await bin(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});
