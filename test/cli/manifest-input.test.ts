// Whatever arrives on stdin, mutate and check answer with output and exit 0/1, or one error
// report and exit 2: never an exception, never half a stream on stdout.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { fixture, runCli } from './in-process-cli.js';

const POLICY = ['--policy', fixture('policy.yaml')];

function expectCleanOutcome(run: { code: number; stdout: string; stderr: string }): void {
  expect([0, 1, 2]).toContain(run.code);
  if (run.code === 2) {
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: /);
  }
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

const podish = fc.record(
  {
    apiVersion: fc.constantFrom('v1', 'apps/v1', 'batch/v1', 'example.com/v1'),
    kind: fc.constantFrom('Pod', 'Deployment', 'CronJob', 'Service', 'List', 'Job'),
    metadata: fc.oneof(fc.anything(), fc.record({ name: fc.string(), namespace: fc.string() })),
    spec: fc.anything(),
    items: fc.anything(),
  },
  { requiredKeys: [] },
);

describe('manifest input', () => {
  it('never throws on arbitrary text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => {
        expectCleanOutcome(await runCli(['mutate', '-f', '-', ...POLICY], { stdin: text }));
      }),
      { numRuns: 150 },
    );
  });

  it('never throws on arbitrary Kubernetes-shaped documents, for mutate and check', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(podish, { minLength: 1, maxLength: 3 }), fc.constantFrom('mutate', 'check'), async (objects, command) => {
        const stream = objects.map((object) => stringify(object)).join('---\n');
        expectCleanOutcome(await runCli([command, '-f', '-', ...POLICY], { stdin: stream }));
      }),
      { numRuns: 150 },
    );
  });

  it('refuses an alias bomb with one error line', async () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]'].join('\n');
    const run = await runCli(['mutate', '-f', '-', ...POLICY], { stdin: bomb });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: stdin: document 1: invalid YAML: .*alias/i);
  });
});
