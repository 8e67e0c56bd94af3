// The policies shipped in policies/: each parses without errors or warnings and means what its
// comments say.
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decideAdmission, parsePolicy, type CompiledPolicy } from '../../src/engine/index.js';
import { namespace } from './engine-fixtures.js';

const POLICIES = fileURLToPath(new URL('../../policies/', import.meta.url));

function load(file: string): CompiledPolicy {
  const result = parsePolicy(readFileSync(`${POLICIES}${file}`, 'utf8'));
  if (!result.ok) throw new Error(`${file}:\n${result.errors.map((e) => `${e.path}: ${e.message}`).join('\n')}`);
  expect(result.warnings).toEqual([]);
  return result.policy;
}

describe('policies/', () => {
  it('ships the default and the three examples', () => {
    expect(readdirSync(POLICIES).filter((f) => f.endsWith('.yaml')).sort()).toEqual(['batch.yaml', 'default.yaml', 'enforce.yaml', 'multi-tenant.yaml']);
  });

  it.each(['default.yaml', 'multi-tenant.yaml', 'batch.yaml', 'enforce.yaml'])('%s parses without errors or warnings', (file) => {
    expect(load(file).name).toBe(file === 'default.yaml' ? 'cluster-defaults' : file.replace('.yaml', ''));
  });

  it('the reference in policies/README.md parses and states the real defaults', () => {
    const readme = readFileSync(`${POLICIES}README.md`, 'utf8');
    const reference = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const result = parsePolicy(reference);
    if (!result.ok) throw new Error(result.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
    const bare = parsePolicy('apiVersion: secure-defaults.io/v1alpha1\nkind: SecureDefaultsPolicy\nspec: {}\n');
    expect(bare.ok && bare.policy.defaults).toEqual(result.policy.defaults);
    expect(bare.ok && [bare.policy.mode, bare.policy.allowPodOptOut, bare.policy.allocation]).toEqual([result.policy.mode, result.policy.allowPodOptOut, null]);
  });

  it('multi-tenant.yaml gives each tenant its own range', () => {
    const policy = load('multi-tenant.yaml');
    const uidOf = (name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}) =>
      policy.resolveIdDefaults(namespace(name, labels, annotations))?.uidRange.min;
    expect(uidOf('payments-eu')).toBe(200000);
    expect(policy.resolveIdDefaults(namespace('payments'))?.fsGroup).toBe(210000);
    expect(uidOf('anything', { team: 'search' })).toBe(220000);
    expect(uidOf('pr-123', { purpose: 'preview' })).toBe(230000);
    expect(uidOf('pr-124', { purpose: 'preview', 'ci-isolation': 'dedicated' })).toBe(100000);
    expect(uidOf('tenant-a', {}, { 'secure-defaults.io/uid-range': '1000020000-1000029999' })).toBe(1000020000);
  });

  it('batch.yaml allows opting out and makes root filesystems read-only', () => {
    const policy = load('batch.yaml');
    expect(policy.allowPodOptOut).toBe(true);
    expect(policy.defaults).toMatchObject({ readOnlyRootFilesystem: true, fsGroupChangePolicy: 'Always' });
    expect(policy.resolveIdDefaults(namespace('etl', { tier: 'batch' }))?.fsGroup).toBe(300500);
    expect(policy.resolveIdDefaults(namespace('unrelated'))).toBeNull();
  });

  it('enforce.yaml denies root and injects the Localhost seccomp profile', () => {
    const policy = load('enforce.yaml');
    const pod = (sc: object) => ({ metadata: { name: 'p' }, spec: { containers: [{ name: 'app', securityContext: sc }] } });
    const denied = decideAdmission({ policy, namespace: namespace('web-shop'), pod: pod({ runAsUser: 0 }), target: 'pod' });
    expect(denied.allowed).toBe(false);
    const allowed = decideAdmission({ policy, namespace: namespace('web-shop'), pod: pod({}), target: 'pod' });
    expect(allowed.allowed && allowed.patch).toContainEqual({
      op: 'add',
      path: '/spec/securityContext',
      value: expect.objectContaining({ runAsUser: 400000, seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/restricted-web.json' } }),
    });
  });
});
