// `mutate` and `check` in the mode of the namespace rule that matches (spec.namespaces[].mode,
// spec.fallback.mode, else spec.mode), and `policy validate` on a wrong mode.
import { describe, expect, it } from '@jest/globals';
import { fixture, runCli } from './in-process-cli.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const POLICY = ['--policy', fixture('rollout-policy.yaml')];
const ROOT_POD = 'apiVersion: v1\nkind: Pod\nmetadata: {name: rooty}\nspec: {containers: [{name: app, image: x, securityContext: {runAsUser: 0}}]}\n';

describe('check in the mode of the matching rule', () => {
  // UID 5000 passes the restricted profile but lies outside every namespace's range.
  const outOfRange = 'apiVersion: v1\nkind: Pod\nmetadata: {name: stray}\nspec: {containers: [{name: app, image: x, securityContext: {runAsUser: 5000}}]}\n';
  it.each([
    ['default', 'fill', 0],
    ['trial', 'warn', 0],
    ['strict', 'enforce', 1],
  ])('namespace %s (mode %s) exits %i for a Pod with a UID outside its range', async (namespace, mode, code) => {
    const run = await runCli(['check', '-f', '-', ...POLICY, '-n', namespace, '-o', 'json'], { stdin: outOfRange });
    const [workload] = (JSON.parse(run.stdout) as Json)['workloads'] as Json[];
    expect([run.code, workload?.['mode'], workload?.['admitted'], workload?.['passesAfterHardening']]).toEqual([code, mode, mode !== 'enforce', true]);
    expect(workload?.['wouldDeny'].map((v: Json) => [v['path'], v['reason']])).toEqual([['spec.containers[0].securityContext.runAsUser', 'uidRange']]);
  });

  it('says in text that the webhook refuses the Pod in enforce mode', async () => {
    const run = await runCli(['check', '-f', '-', ...POLICY, '-n', 'strict'], { stdin: ROOT_POD });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Pod/rooty  (namespace strict, mode enforce)');
    expect(run.stdout).toContain('  denied  the webhook refuses its Pods (enforce mode)');
    expect(run.stdout).toContain('1 of 1 Pod templates would be refused by the webhook (enforce mode)');
  });
});

describe('mutate in the mode of the matching rule', () => {
  const runIn = (namespace: string) => runCli(['mutate', '-f', '-', ...POLICY, '-n', namespace], { stdin: ROOT_POD });
  const sentence = 'container "app": securityContext.runAsUser 0 is outside the range';

  it('warn mode: the denial\'s wording as a warning, and the Pod hardened', async () => {
    const run = await runIn('trial');
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`warning: Pod/rooty: policy "rollout" (warn mode) would deny this Pod in enforce mode: ${sentence} 30000-39999 allowed in namespace "trial" (spec.namespaces[1])`);
    expect(run.stdout).toContain('seccompProfile');
  });

  it('enforce mode: what the webhook would refuse', async () => {
    const run = await runIn('strict');
    expect(run.stderr).toContain(`warning: Pod/rooty: enforce mode would deny: ${sentence} 20000-29999`);
  });

  it('fill mode: nothing about enforce', async () => {
    const run = await runIn('default');
    expect(run.stderr).not.toMatch(/would deny/);
  });
});

describe('policy validate explains a wrong mode', () => {
  it.each([
    ['spec.namespaces[0].mode', '  namespaces:\n    - names: [a]\n      uidRange: "10000-19999"\n      mode: warning\n', 'the string "warning" is not allowed; did you mean "warn"?'],
    ['spec.fallback.mode', '  fallback:\n    uidRange: "10000-19999"\n    mode: Enforce\n', 'the string "Enforce" is not allowed; did you mean "enforce"?'],
    ['spec.mode', '  mode: audit\n', 'the string "audit" is not allowed; use one of "fill", "warn", "enforce"'],
  ])('%s', async (path, spec, message) => {
    const policy = `apiVersion: secure-defaults.io/v1alpha1\nkind: SecureDefaultsPolicy\nmetadata: {name: m}\nspec:\n${spec}`;
    const run = await runCli(['policy', 'validate', '-'], { stdin: policy });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`stdin: ${path}: ${message}`);
  });
});
