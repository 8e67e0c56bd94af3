import { describe, expect, it } from '@jest/globals';
import { fixture, runCli } from './in-process-cli.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const POLICY = ['--policy', fixture('policy.yaml')];

describe('check', () => {
  it('exits 0 when hardening fixes everything, listing what the restricted profile refused before', async () => {
    const run = await runCli(['check', '-f', fixture('pod.yaml'), ...POLICY]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        'Pod/single  (namespace payments, mode fill)',
        '  before  allowPrivilegeEscalation  container "app" must set securityContext.allowPrivilegeEscalation=false',
        '  before  capabilities              container "app" must set securityContext.capabilities.drop=["ALL"]',
        '  before  runAsNonRoot              pod or container "app" must set securityContext.runAsNonRoot=true',
        '  before  seccompProfile            pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"',
        '  after   passes restricted',
        '',
        '1 of 1 Pod templates pass the restricted profile after hardening.',
        '',
      ].join('\n'),
    );
  });

  it('exits 1 when something remains after hardening, naming the fields to fix', async () => {
    const run = await runCli(['check', '-f', fixture('unfixable.yaml'), ...POLICY]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('  after   hostNamespaces            pod must not set hostNetwork=true  [spec.hostNetwork]');
    expect(run.stdout).toContain(
      '  after   privileged                container "app" must not set securityContext.privileged=true  [spec.containers[0].securityContext.privileged]',
    );
    expect(run.stdout).toContain('CronJob/nightly  (namespace default, mode fill)');
    expect(run.stdout).toMatch(/1 of 2 Pod templates still fail the restricted profile after hardening/);
  });

  it('-o json gives each workload its findings with paths from the object root', async () => {
    const run = await runCli(['check', '-f', fixture('unfixable.yaml'), ...POLICY, '-o', 'json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Json;
    expect(report['passed']).toBe(false);
    const [pod, cronJob] = report['workloads'] as Json[];
    expect(pod).toMatchObject({ kind: 'Pod', name: 'host-net', passesAfterHardening: false });
    // Hardening fills in missing fields; it never turns off what the manifest asked for.
    expect(pod?.['after'].map((f: Json) => f['check'])).toEqual(expect.arrayContaining(['hostNamespaces', 'privileged']));
    expect(pod?.['after'][0]).toMatchObject({ check: 'hostNamespaces', path: 'spec.hostNetwork', paths: ['spec.hostNetwork'] });
    expect(cronJob).toMatchObject({ kind: 'CronJob', name: 'nightly', passesAfterHardening: true, after: [] });
    expect(cronJob?.['before'].map((f: Json) => f['path'])).toContain(
      'spec.jobTemplate.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation',
    );
    expect(cronJob?.['injected'].length).toBeGreaterThan(0);
  });

  it('--pss-version checks against that policy version: root in a user namespace passes from v1.35 only', async () => {
    const latest = await runCli(['check', '-f', fixture('user-namespace-root.yaml'), ...POLICY]);
    expect([latest.code, latest.stdout]).toEqual([0, expect.stringContaining('  after   passes restricted\n')]);
    const pinned = await runCli(['check', '-f', fixture('user-namespace-root.yaml'), ...POLICY, '--pss-version', 'v1.35']);
    expect([pinned.code, pinned.stdout]).toEqual([0, expect.stringContaining('1 of 1 Pod templates pass the restricted:v1.35 profile after hardening.')]);
    const before = await runCli(['check', '-f', fixture('user-namespace-root.yaml'), ...POLICY, '--pss-version', 'v1.34', '-o', 'json']);
    expect(before.code).toBe(1);
    const report = JSON.parse(before.stdout) as Json;
    expect(report['pssVersion']).toBe('v1.34');
    expect(report['workloads'][0]['after'].map((f: Json) => f['check'])).toEqual(expect.arrayContaining(['runAsUser']));
  });

  it('--pss-version refuses what is not a policy version, naming the forms accepted', async () => {
    const run = await runCli(['check', '-f', fixture('pod.yaml'), ...POLICY, '--pss-version', '1.35']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--pss-version: "1.35" is not a Pod Security Standards version: use "latest" or "v1.<minor>", e.g. "v1.35"');
  });

  it('skips the kinds without a Pod template and says so', async () => {
    const run = await runCli(['check', '-f', fixture('helm-stream.yaml'), ...POLICY]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Deployment/web  (namespace default, mode fill)');
    expect(run.stdout).toContain('(2 other objects skipped: not workloads)');
  });

  it('says when the engine left a Pod alone (a Windows Pod)', async () => {
    const pod = 'apiVersion: v1\nkind: Pod\nmetadata: {name: win}\nspec: {os: {name: windows}, containers: [{name: c, image: x}]}\n';
    const run = await runCli(['check', '-f', '-', ...POLICY], { stdin: pod });
    expect(run.stdout).toMatch(/  note    left unchanged: .+/);
  });

  it('exits 2 when there is no workload at all', async () => {
    const run = await runCli(['check', '-f', '-', ...POLICY], { stdin: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n' });
    expect(run).toEqual({ code: 2, stdout: '', stderr: 'error: stdin: no Pods or workloads to check (found only ConfigMap)\n' });
  });

  it('exits 2 on bad YAML', async () => {
    const run = await runCli(['check', '-f', fixture('bad-yaml.yaml'), ...POLICY]);
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')).toHaveLength(2);
  });
});
