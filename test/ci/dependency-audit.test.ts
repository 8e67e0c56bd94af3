// The dependency advisory check (.ci/dependency-audit.ts, `npm run audit:deps`): what it decides from
// npm audit's JSON, and the real script run against a stand-in `npm` that prints recorded outputs,
// so no network is used. Fixtures: test/ci/fixtures/npm-audit/README.md says which are recorded.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { judgeAudit, type NpmAuditRun } from '../../.ci/dependency-audit.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(REPO, 'test/ci/fixtures/npm-audit');

function recorded(name: string, exitCode: number): NpmAuditRun {
  const read = (suffix: string): string => {
    try {
      return readFileSync(join(FIXTURES, `${name}.${suffix}`), 'utf8');
    } catch {
      return '';
    }
  };
  return { exitCode, stdout: read('stdout.json'), stderr: read('stderr.txt') };
}

describe('judgeAudit on npm audit outputs', () => {
  it.each([
    // name, npm's exit code, verdict, exit code, a piece of the first line
    ['critical-transitive', 1, 'fail', 1, 'dependency audit FAILED: 2 high/critical advisories affect 176 shipped dependencies (2 critical, 1 low)'],
    ['high-no-fix', 1, 'fail', 1, 'dependency audit FAILED: 1 high/critical advisories'],
    ['moderate-and-low', 0, 'pass', 0, 'no high or critical advisory affects 176 shipped dependencies (below the bar: 2 moderate, 1 low)'],
    ['clean', 0, 'pass', 0, 'dependency audit passed: the advisory database answered; no high or critical advisory affects 176 shipped dependencies'],
    ['405-bulk-endpoint', 1, 'not-checked', 2, 'dependency audit NOT CHECKED: the npm advisory database could not be reached (405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk)'],
    ['connection-refused', 1, 'not-checked', 2, 'could not be reached (request to http://127.0.0.1:9/-/npm/v1/security/advisories/bulk failed, reason: connect ECONNREFUSED'],
    ['no-lockfile', 1, 'fail', 1, 'dependency audit could not run: This command requires an existing lockfile.'],
  ] as const)('%s (npm exit %d) -> %s, exit %d', (name, npmExit, verdict, exitCode, firstLine) => {
    const decision = judgeAudit(recorded(name, npmExit));
    expect(decision.verdict).toBe(verdict);
    expect(decision.exitCode).toBe(exitCode);
    expect(decision.lines[0]).toContain(firstLine);
  });

  it('names each high/critical package with its advisory, its range and the fix', () => {
    const { lines } = judgeAudit(recorded('critical-transitive', 1));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}CRITICAL jsonpath-plus <10\.3\.0: critical JSONPath Plus allows Remote Code Execution https:\/\/github\.com\/advisories\/GHSA-hw8r-x6gr-5gjp \(fix: @kubernetes\/client-node@1\.1\.2\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}CRITICAL @kubernetes\/client-node 0\.18\.0 - 1\.0\.0: through jsonpath-plus/));
    expect(lines.join('\n')).not.toContain('qs');
    expect(judgeAudit(recorded('high-no-fix', 1)).lines[1]).toMatch(/HIGH ws .*GHSA-96hv-2xvq-fx4p \(no fixed version published\)$/);
  });

  it('a report is judged by its counts, whatever npm exit code came with it', () => {
    expect(judgeAudit({ ...recorded('critical-transitive', 1), exitCode: 0 }).verdict).toBe('fail');
    expect(judgeAudit({ ...recorded('clean', 0), exitCode: 1 }).verdict).toBe('pass');
  });

  it('the 405 answer never reads as a pass or as "0 vulnerabilities"', () => {
    const { lines } = judgeAudit(recorded('405-bulk-endpoint', 1));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/no advisory was checked, this is not a pass$/);
    expect(lines[0]).not.toMatch(/0 vulnerabilities|passed/);
  });

  it('a timeout, an unparsable report or a report without counts is not a pass', () => {
    expect(judgeAudit({ exitCode: null, stdout: '', stderr: '', timedOut: true })).toMatchObject({ verdict: 'not-checked', exitCode: 2 });
    expect(judgeAudit({ exitCode: 0, stdout: '{"auditReportVersion":2,"vulnerabilities":{}', stderr: '' }).verdict).toBe('not-checked');
    expect(judgeAudit({ exitCode: 0, stdout: '{"auditReportVersion":2,"vulnerabilities":{},"metadata":{}}', stderr: '' }).verdict).not.toBe('pass');
    expect(judgeAudit({ exitCode: null, stdout: '', stderr: '', spawnError: 'spawn npm ENOENT' })).toMatchObject({ verdict: 'fail', exitCode: 1 });
  });

  it('property: a report fails exactly when it counts a high or critical advisory', () => {
    const count = fc.nat({ max: 50 });
    fc.assert(fc.property(count, count, count, count, count, (info, low, moderate, high, critical) => {
      const report = {
        auditReportVersion: 2,
        vulnerabilities: {},
        metadata: { vulnerabilities: { info, low, moderate, high, critical, total: info + low + moderate + high + critical } },
      };
      const decision = judgeAudit({ exitCode: 1, stdout: JSON.stringify(report), stderr: '' });
      expect(decision.verdict).toBe(high + critical > 0 ? 'fail' : 'pass');
    }));
  });

  it('property: output that is not an audit report is never a pass', () => {
    const notAReport = fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v)));
    fc.assert(fc.property(notAReport, fc.string(), fc.option(fc.integer({ min: 0, max: 255 }), { nil: null }), (stdout, stderr, exitCode) => {
      expect(judgeAudit({ exitCode, stdout, stderr }).verdict).not.toBe('pass');
    }));
  });
});

describe('.ci/dependency-audit.ts run as a process, with a stand-in npm', () => {
  function runScript(fixture: string, npmExit: number, args: readonly string[] = []): Promise<{ code: number | null; stdout: string; stderr: string; npmArgs: string }> {
    const bin = mkdtempSync(join(tmpdir(), 'fake-npm-'));
    const argsFile = join(bin, 'args');
    const files = (suffix: string): string => join(FIXTURES, `${fixture}.${suffix}`);
    writeFileSync(join(bin, 'npm'), [
      '#!/bin/sh',
      `echo "$@" > '${argsFile}'`,
      `[ -f '${files('stdout.json')}' ] && cat '${files('stdout.json')}'`,
      `[ -f '${files('stderr.txt')}' ] && cat '${files('stderr.txt')}' >&2`,
      `exit ${npmExit}`,
      '',
    ].join('\n'));
    chmodSync(join(bin, 'npm'), 0o755);
    return new Promise((resolve) => {
      execFile(process.execPath, [join(REPO, '.ci/dependency-audit.ts'), ...args],
        { cwd: REPO, env: { PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin` } },
        (error, stdout, stderr) => {
          let npmArgs = '';
          try {
            npmArgs = readFileSync(argsFile, 'utf8').trim();
          } catch {
            // npm was not run (a bad argument is refused first)
          }
          rmSync(bin, { recursive: true, force: true });
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr, npmArgs });
        });
    });
  }

  it('asks npm for the shipped dependencies only, as JSON', async () => {
    const { npmArgs } = await runScript('clean', 0);
    expect(npmArgs).toBe('audit --omit=dev --audit-level=high --json');
  });

  it.each([
    ['critical-transitive', 1, 1, /^dependency audit FAILED/],
    ['moderate-and-low', 0, 0, /^dependency audit passed/],
    ['405-bulk-endpoint', 1, 2, /^dependency audit NOT CHECKED: the npm advisory database could not be reached \(405 Method Not Allowed/],
  ] as const)('%s (npm exit %d): exits %d', async (fixture, npmExit, exitCode, line) => {
    const result = await runScript(fixture, npmExit);
    expect(result.code).toBe(exitCode);
    expect(exitCode === 0 ? result.stdout : result.stderr).toMatch(line);
    // npm's own JSON is decided on, not passed through.
    expect(result.stdout + result.stderr).not.toContain('auditReportVersion');
  });

  it('--allow-not-checked (CI) lets an unreachable database through, still saying NOT CHECKED', async () => {
    const unreachable = await runScript('405-bulk-endpoint', 1, ['--allow-not-checked']);
    expect(unreachable.code).toBe(0);
    expect(unreachable.stderr).toMatch(/^dependency audit NOT CHECKED: .* this is not a pass\n$/);
    // ...but never a real finding, nor an audit that could not run for this project's own reason.
    expect((await runScript('critical-transitive', 1, ['--allow-not-checked'])).code).toBe(1);
    expect((await runScript('no-lockfile', 1, ['--allow-not-checked'])).code).toBe(1);
  });

  it('refuses an unknown argument without running npm', async () => {
    const result = await runScript('clean', 0, ['--level=low']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unknown argument --level=low');
    expect(result.npmArgs).toBe('');
  });
});
