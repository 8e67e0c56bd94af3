import { describe, expect, it } from '@jest/globals';
import { parse, parseAllDocuments } from 'yaml';
import { checkRestricted } from '../../src/engine/index.js';
import { fixture, runCli } from './in-process-cli.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const POLICY = ['--policy', fixture('policy.yaml')];

function documents(yamlText: string): Json[] {
  return parseAllDocuments(yamlText).map((doc) => doc.toJS() as Json);
}

describe('mutate', () => {
  it('hardens the workload of a helm stream and passes the rest through in order, comments kept', async () => {
    const run = await runCli(['mutate', '-f', fixture('helm-stream.yaml'), ...POLICY]);
    expect(run.code).toBe(0);
    const docs = documents(run.stdout);
    expect(docs.map((doc) => `${doc['kind']}/${doc['metadata']['name']}`)).toEqual(['Service/web', 'Deployment/web', 'ConfigMap/web-config']);
    expect(run.stdout).toContain('- port: 80 # http');
    expect(run.stdout).toContain('# Source: web/templates/deployment.yaml');
    const template = docs[1]?.['spec']['template'];
    expect(template['spec']['securityContext']['runAsUser']).toBe(10000);
    expect(checkRestricted(template)).toEqual([]);
    expect(run.stderr).toContain('note: Service/web: passed through unchanged (not a workload)');
    expect(run.stderr).toContain('note: ConfigMap/web-config: passed through unchanged (not a workload)');
  });

  it.each([
    ['the object namespace picks its rule', ['-f', fixture('pod.yaml')], 20000],
    ['--namespace overrides it', ['-f', fixture('pod.yaml'), '-n', 'elsewhere'], 10000],
    ['--namespace-labels feed selector rules', ['-f', fixture('pod.yaml'), '-n', 'search', '--namespace-labels', 'team=search,tier=web'], 30000],
  ])('%s', async (_label, args, uid) => {
    const run = await runCli(['mutate', ...args, ...POLICY, '-o', 'json']);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as Json)['spec']['securityContext']['runAsUser']).toBe(uid);
  });

  it('warns when --namespace differs from the object namespace', async () => {
    const run = await runCli(['mutate', '-f', fixture('pod.yaml'), '-n', 'elsewhere', ...POLICY]);
    expect(run.code).toBe(0);
    expect(run.stderr.split('\n').filter((line) => line.startsWith('warning: '))).toEqual(['warning: Pod/single: metadata.namespace is "payments" but --namespace is "elsewhere"; hardened for "elsewhere"']);
  });

  it('reads stdin for -f -', async () => {
    const run = await runCli(['mutate', '-f', '-', ...POLICY], { stdin: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x}]}\n' });
    expect(run.code).toBe(0);
    expect(checkRestricted(parse(run.stdout))).toEqual([]);
  });

  it('uses the default policy path it is given when --policy is absent', async () => {
    const run = await runCli(['mutate', '-f', fixture('pod.yaml'), '-o', 'json']);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as Json)['spec']['securityContext']['runAsUser']).toBe(20000);
  });

  it('-o json writes a v1 List for several objects', async () => {
    const run = await runCli(['mutate', '-f', fixture('helm-stream.yaml'), ...POLICY, '-o', 'json']);
    const list = JSON.parse(run.stdout) as Json;
    expect(list['kind']).toBe('List');
    expect(list['items'].map((item: Json) => item['kind'])).toEqual(['Service', 'Deployment', 'ConfigMap']);
  });

  it('handles a v1 List: items hardened or passed through, the List kept', async () => {
    const run = await runCli(['mutate', '-f', fixture('list.json'), ...POLICY]);
    expect(run.code).toBe(0);
    const list = parse(run.stdout) as Json;
    expect(list['kind']).toBe('List');
    expect(list['items'][0]['spec']['securityContext']['runAsNonRoot']).toBe(true);
    expect(list['items'][1]).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: {} });
    expect(run.stderr).toContain('note: Secret/s: passed through unchanged');
  });

  it('-o patch prints the RFC 6902 patch per workload, which turns the input into the hardened object', async () => {
    const run = await runCli(['mutate', '-f', fixture('helm-stream.yaml'), ...POLICY, '-o', 'patch']);
    expect(run.code).toBe(0);
    const patches = JSON.parse(run.stdout) as Json[];
    expect(patches).toHaveLength(1);
    expect(patches[0]).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'default' });
    const { applyPatch } = await import('fast-json-patch');
    const original = documents((await import('node:fs')).readFileSync(fixture('helm-stream.yaml'), 'utf8'))[1];
    const patched = applyPatch(original, patches[0]?.['patch'], true, false).newDocument as Json;
    expect(checkRestricted(patched['spec']['template'])).toEqual([]);
  });

  it('prints nothing on stdout when one document is bad (no half-written stream)', async () => {
    const run = await runCli(['mutate', '-f', fixture('no-kind.yaml'), ...POLICY]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`error: ${fixture('no-kind.yaml')}: document 2: not a Kubernetes object (it has no "kind")\n`);
  });

  it.each([
    ['a missing file', ['-f', 'no/such/file.yaml'], /^error: cannot read manifests "no\/such\/file.yaml": no such file\n$/],
    ['a directory with a bad file', ['-f', fixture('')], /^error: .*bad-yaml.yaml: document 1: invalid YAML at line 8, column 1: .+\n$/],
    ['bad YAML, quoting the line', ['-f', fixture('bad-yaml.yaml')], /^error: .*bad-yaml.yaml: document 1: invalid YAML at line 8, column 1: [^\n]+: "     image: busybox"\n$/],
    ['a missing apiVersion', ['-f', '-'], /^error: stdin: document 1: Pod "p" has no "apiVersion" \(e.g. apiVersion: v1\); every Kubernetes object needs one\n$/],
    ['stdin twice', ['-f', '-', '-f', '-'], /^error: -f - \(stdin\) given more than once/],
    ['a missing policy', ['-f', fixture('pod.yaml'), '--policy', 'nope.yaml'], /^error: cannot read policy "nope.yaml": no such file\n$/],
    ['a bad --namespace-labels', ['-f', fixture('pod.yaml'), '--namespace-labels', 'team'], /^error: --namespace-labels: "team" is not key=value/],
    ['an unknown output', ['-f', fixture('pod.yaml'), '-o', 'xml'], /^error: option '-o, --output <format>' argument 'xml' is invalid/],
    ['an unknown option', ['-f', fixture('pod.yaml'), '--frobnicate'], /^error: unknown option '--frobnicate'/],
    ['no -f', [], /^error: no input: give -f FILE, -f DIRECTORY or -f - \(stdin\); -f may be repeated\n$/],
  ])('exits 2 with one error line for %s', async (_label, args, stderr) => {
    const run = await runCli(['mutate', ...args, ...(args.includes('--policy') ? [] : POLICY)], { stdin: 'kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x}]}\n' });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(stderr);
    expect(run.stderr).not.toMatch(/\n {4}at /);
  });

  it('lists every policy error when the policy is invalid', async () => {
    const run = await runCli(['mutate', '-f', fixture('pod.yaml'), '--policy', fixture('invalid-policy.yaml')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: policy ".*invalid-policy.yaml" is invalid/);
    expect(run.stderr).toContain('spec.mode:');
    expect(run.stderr).toContain('spec.namespaces[0].uidRange:');
  });
});
