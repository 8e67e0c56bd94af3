import { describe, expect, it } from '@jest/globals';
import { runCli } from './in-process-cli.js';

describe('the secure-defaults program', () => {
  it.each([
    [['--help'], ['mutate', 'check', 'policy']],
    [['mutate', '--help'], ['--filename', '--policy', '--namespace', '--namespace-labels', '--output', 'yaml', 'json', 'patch']],
    [['check', '--help'], ['--filename', '--policy', '--namespace', 'text', 'json', 'Exit status 1']],
    [['policy', 'validate', '--help'], ['<file>', 'field path']],
  ])('%j prints help on stdout and exits 0', async (args, mentions) => {
    const run = await runCli(args);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^Usage: secure-defaults/);
    for (const mention of mentions) {
      expect(run.stdout).toContain(mention);
    }
  });

  it.each([[['--version']], [['-V']], [['version']]])('%j prints the version', async (args) => {
    expect(await runCli(args)).toEqual({ code: 0, stdout: '9.9.9\n', stderr: '' });
  });

  it('exits 2 for an unknown command, suggesting the closest one', async () => {
    const run = await runCli(['mutat']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("error: unknown command 'mutat'\n(Did you mean mutate?)\n");
  });

  it('exits 2 with usage on stderr when no command is given', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^Usage: secure-defaults/);
  });
});
