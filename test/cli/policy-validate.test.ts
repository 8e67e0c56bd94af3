import { describe, expect, it } from '@jest/globals';
import { fixture, runCli } from './in-process-cli.js';

describe('policy validate', () => {
  it('prints one OK line and exits 0 for a valid policy', async () => {
    const run = await runCli(['policy', 'validate', fixture('policy.yaml')]);
    expect(run).toEqual({ code: 0, stdout: `${fixture('policy.yaml')}: OK: policy "cli-test" is valid\n`, stderr: '' });
  });

  it('prints every error with its path and exits 1', async () => {
    const run = await runCli(['policy', 'validate', fixture('invalid-policy.yaml')]);
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/invalid-policy\.yaml: spec\.mode: .*"fil" is not allowed; did you mean "fill"\?/);
    expect(lines[1]).toMatch(/invalid-policy\.yaml: spec\.namespaces\[0\]\.uidRange: /);
    expect(run.stderr).toMatch(/: 2 errors\n$/);
  });

  it('prints warnings before the OK line', async () => {
    const policy = [
      'apiVersion: secure-defaults.io/v1alpha1',
      'kind: SecureDefaultsPolicy',
      'metadata: {name: warned}',
      'spec:',
      '  namespaces:',
      '    - selector: {}',
      '      uidRange: "10000-19999"',
    ].join('\n');
    const run = await runCli(['policy', 'validate', '-'], { stdin: policy });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^stdin: warning: spec\.namespaces\[0\]\.selector is empty/);
    expect(run.stdout).toMatch(/stdin: OK: policy "warned" is valid with 1 warning\n$/);
  });

  it.each([
    ['a missing file', ['policy', 'validate', 'missing.yaml'], 'error: cannot read policy "missing.yaml": no such file\n'],
    ['no file argument', ['policy', 'validate'], "error: missing required argument 'file'\n"],
  ])('exits 2 for %s', async (_label, args, stderr) => {
    expect(await runCli(args)).toEqual({ code: 2, stdout: '', stderr });
  });
});
