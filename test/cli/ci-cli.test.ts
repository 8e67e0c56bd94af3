// The offline CLI as a CI gate: every input read or reported, the policy as its ConfigMap,
// refusals counted apart from restricted failures, what offline cannot know said on stderr, and
// manifests edited in place so a diff shows only what hardening adds.
import { describe, expect, it } from '@jest/globals';
import { applyPatch as applyTextPatch, diffLines } from 'diff';
import fc from 'fast-check';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { podArbitrary } from '../engine/pod-generators.js';
import { fixture, runCli } from './in-process-cli.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const POLICY = ['--policy', fixture('policy.yaml')];
const names = (yamlText: string): string[] => parseAllDocuments(yamlText).map((d) => `${(d.toJS() as Json)['kind']}/${(d.toJS() as Json)['metadata']['name']}`);

describe('input like kubectl', () => {
  it('-f may be repeated: every file is in the output, in order', async () => {
    const run = await runCli(['mutate', '-f', fixture('pod.yaml'), '-f', fixture('helm-stream.yaml'), ...POLICY]);
    expect(run.code).toBe(0);
    expect(names(run.stdout)).toEqual(['Pod/single', 'Service/web', 'Deployment/web', 'ConfigMap/web-config']);
  });

  it('a directory gives its manifest files; what it skips is said on stderr; -R descends', async () => {
    const flat = await runCli(['mutate', '-f', fixture('tree'), ...POLICY]);
    expect(flat.code).toBe(0);
    expect(names(flat.stdout)).toEqual(['Pod/tree-a', 'Service/tree-b']);
    expect(flat.stderr).toContain(`note: ${fixture('tree')}/notes.txt: skipped (not .yaml, .yml or .json)`);
    expect(flat.stderr).toContain(`note: ${fixture('tree')}/sub: directory skipped (use -R to read subdirectories)`);
    const deep = await runCli(['mutate', '-R', '-f', fixture('tree'), ...POLICY]);
    expect(names(deep.stdout)).toEqual(['Pod/tree-a', 'Service/tree-b', 'Job/tree-c']);
    expect(deep.stderr).not.toContain('directory skipped');
  });

  it('- reads stdin among files', async () => {
    const run = await runCli(['mutate', '-f', fixture('pod.yaml'), '-f', '-', ...POLICY, '-o', 'json'], { stdin: 'apiVersion: v1\nkind: Pod\nmetadata: {name: from-stdin}\nspec: {containers: [{name: c, image: x}]}\n' });
    expect(JSON.parse(run.stdout).items.map((item: Json) => item['metadata']['name'])).toEqual(['single', 'from-stdin']);
  });
});

describe('the policy as the ConfigMap that holds it', () => {
  it('policy validate reads its policy.yaml key and says so', async () => {
    const run = await runCli(['policy', 'validate', fixture('policy-configmap.yaml')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${fixture('policy-configmap.yaml')} (ConfigMap secure-defaults/secure-defaults-policy, key policy.yaml): OK: policy "from-configmap" is valid\n`);
  });

  it('--policy reads it too, with a note', async () => {
    const run = await runCli(['check', '-f', fixture('pod.yaml'), '--policy', fixture('policy-configmap.yaml')]);
    expect(run.stderr).toContain(`note: --policy ${fixture('policy-configmap.yaml')}: read the policy from ConfigMap secure-defaults/secure-defaults-policy, key policy.yaml`);
  });

  it('a ConfigMap without policy.yaml is one error line, exit 2', async () => {
    const run = await runCli(['policy', 'validate', '-'], { stdin: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p, namespace: ops}\ndata: {other.yaml: x}\n' });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: stdin: ConfigMap ops/p: data.policy.yaml: missing (its data keys are "other.yaml"); put the policy document under the key "policy.yaml"\n');
  });
});

describe('check counts restricted failures and refusals apart', () => {
  // runAsUser 5 passes restricted (it is not root) but is outside payments' 20000-29999.
  const outsideRange = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: payments}\nspec:\n  securityContext: {runAsUser: 5}\n  containers: [{name: c, image: x}]\n';

  it('enforce mode: a template that passes restricted but would be denied exits 1', async () => {
    const run = await runCli(['check', '-f', '-', '--policy', fixture('policy-configmap.yaml'), '-o', 'json'], { stdin: outsideRange });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.counts).toEqual({ failRestricted: 0, denied: 1, warned: 0 });
    expect(report.passed).toBe(false);
    expect(report.workloads[0]).toMatchObject({ mode: 'enforce', admitted: false, wouldDeny: [expect.objectContaining({ path: 'spec.securityContext.runAsUser' })] });
    const text = await runCli(['check', '-f', '-', '--policy', fixture('policy-configmap.yaml')], { stdin: outsideRange });
    expect(text.stdout).toContain('1 of 1 Pod templates pass the restricted profile after hardening.');
    expect(text.stdout).toContain('1 of 1 Pod templates would be refused by the webhook (enforce mode)');
  });

  it.each([
    ['strict', 'enforce', 1, { failRestricted: 0, denied: 1, warned: 0 }],
    ['trial', 'warn', 0, { failRestricted: 0, denied: 0, warned: 1 }],
    ['default', 'fill', 0, { failRestricted: 0, denied: 0, warned: 0 }],
  ])('a rule in its own mode (%s, %s): exit %i, counted as %j', async (namespace, _mode, code, counts) => {
    const stdin = 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsUser: 5}\n  containers: [{name: c, image: x}]\n';
    const run = await runCli(['check', '-f', '-', '--policy', fixture('rollout-policy.yaml'), '-n', namespace, '-o', 'json'], { stdin });
    expect(run.code).toBe(code);
    expect(JSON.parse(run.stdout).counts).toEqual(counts);
    if (namespace === 'trial') {
      const text = await runCli(['check', '-f', '-', '--policy', fixture('rollout-policy.yaml'), '-n', namespace], { stdin });
      expect(text.stdout).toContain('1 of 1 Pod templates would be admitted with a warning (warn mode): enforce mode would refuse them.');
    }
  });

  it('fill mode: the same template is all clear, exit 0', async () => {
    const run = await runCli(['check', '-f', '-', ...POLICY, '-o', 'json'], { stdin: outsideRange });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).counts).toEqual({ failRestricted: 0, denied: 0, warned: 0 });
  });
});

describe('what offline cannot know, on stderr', () => {
  it('a selector rule without --namespace-labels is reported, and not with them', async () => {
    const without = await runCli(['mutate', '-f', fixture('pod.yaml'), ...POLICY]);
    expect(without.stderr).toContain('note: spec.namespaces[1] selects namespaces by label, and no --namespace-labels were given');
    const withLabels = await runCli(['mutate', '-f', fixture('pod.yaml'), ...POLICY, '--namespace-labels', 'team=web']);
    expect(withLabels.stderr).not.toContain('selects namespaces by label');
  });

  it('allocation is not simulated offline, for a namespace no rule covers', async () => {
    const policy = 'apiVersion: secure-defaults.io/v1alpha1\nkind: SecureDefaultsPolicy\nmetadata: {name: alloc}\nspec:\n  allocation: {range: "1000000000-1999999999", blockSize: 10000}\n  fallback: {uidRange: "100000-165535"}\n';
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(await mkdtemp(join(tmpdir(), 'cli-')), 'alloc.yaml');
    await writeFile(file, policy);
    const run = await runCli(['mutate', '-f', fixture('pod.yaml'), '--policy', file]);
    expect(run.stderr).toContain('note: allocation is not simulated offline: namespace "payments" gets spec.fallback (100000-165535) here, but in a cluster its own block');
    const given = await runCli(['mutate', '-f', fixture('pod.yaml'), '--policy', file, '--namespace-annotations', 'secure-defaults.io/uid-range=1000010000-1000019999']);
    expect(given.stderr).not.toContain('allocation is not simulated');
  });
});

describe('mutate edits each document in place', () => {
  it('keeps comments, key order, quoting, flow style and anchors: the diff to the input only adds lines', async () => {
    const input = (await import('node:fs/promises')).readFile(fixture('layout.yaml'), 'utf8');
    const run = await runCli(['mutate', '-f', fixture('layout.yaml'), ...POLICY]);
    expect(run.code).toBe(0);
    const changes = diffLines(await input, run.stdout);
    // The one line that changes is a one-line flow mapping the hardening adds members to.
    expect(changes.filter((c) => c.removed).map((c) => c.value)).toEqual(['        securityContext: {readOnlyRootFilesystem: true}\n']);
    expect(run.stdout).toContain('        securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n');
    expect(run.stdout).toContain('  name: "web"   # the name, double-quoted\n');
    expect(changes.filter((c) => c.added).map((c) => c.value).join('')).toContain('runAsUser: 10000'); // no namespace: "default", the fallback
    expect(run.stdout).toContain('note: &shared-note \'single-quoted, with: a colon\'');
    expect(run.stdout).toContain('copied: *shared-note');
    expect(run.stdout).toContain('- {name: MODE, value: "prod"}   # flow mapping in a block list');
    // The YAML output is the same objects as the JSON output.
    const json = JSON.parse((await runCli(['mutate', '-f', fixture('layout.yaml'), ...POLICY, '-o', 'json'])).stdout);
    expect(parseAllDocuments(run.stdout).map((d) => d.toJS())).toEqual(json.items);
  });

  it('-o diff: a unified diff per changed document, which turns the input into the output', async () => {
    const run = await runCli(['mutate', '-f', fixture('layout.yaml'), ...POLICY, '-o', 'diff']);
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith(`--- a/${fixture('layout.yaml')} (document 1)\n+++ b/${fixture('layout.yaml')} (document 1)\n@@ `)).toBe(true);
    expect(run.stdout).not.toContain('(document 2)'); // the Service is unchanged
    const input = await (await import('node:fs/promises')).readFile(fixture('layout.yaml'), 'utf8');
    const firstDocument = input.split('---\n')[0]!;
    const yaml = (await runCli(['mutate', '-f', fixture('layout.yaml'), ...POLICY])).stdout.split('---\n')[0];
    expect(applyTextPatch(firstDocument, run.stdout)).toBe(yaml);
  });

  it('-o diff applies to the file as it is, even when its layout could not be kept line for line', async () => {
    const stdin = 'apiVersion: v1\nkind: Pod\nmetadata:\n    name: odd   # four spaces\nspec:\n    containers:\n        -   name: app\n            image: nginx\n';
    const diff = await runCli(['mutate', '-f', '-', ...POLICY, '-o', 'diff'], { stdin });
    const yaml = await runCli(['mutate', '-f', '-', ...POLICY], { stdin });
    expect(applyTextPatch(stdin, diff.stdout)).toBe(yaml.stdout);
  });

  it('a field supplied by a merge key: the document is written anew, correctly, and that is said', async () => {
    const stdin = 'base: &base\n  containers: [{name: c, image: x}]\napiVersion: v1\nkind: Pod\nmetadata: {name: merged}\nspec:\n  <<: *base\n';
    const run = await runCli(['mutate', '-f', '-', ...POLICY], { stdin });
    expect(run.code).toBe(0);
    const json = JSON.parse((await runCli(['mutate', '-f', '-', ...POLICY, '-o', 'json'], { stdin })).stdout);
    expect(parse(run.stdout, { merge: true })).toEqual(json);
    expect(run.stderr).toContain('note: stdin: document 1 was written anew');
  });

  it('for generated Pods, the YAML output holds exactly the hardened objects', async () => {
    await fc.assert(
      fc.asyncProperty(podArbitrary(), fc.boolean(), async (pod, flow) => {
        const stdin = stringify(pod, flow ? { collectionStyle: 'flow' } : {});
        const yaml = await runCli(['mutate', '-f', '-', ...POLICY], { stdin });
        const json = await runCli(['mutate', '-f', '-', ...POLICY, '-o', 'json'], { stdin });
        expect(yaml.code).toBe(json.code);
        if (yaml.code !== 0) return;
        expect(parse(yaml.stdout)).toEqual(JSON.parse(json.stdout));
        expect(yaml.stderr).not.toContain('written anew');
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
