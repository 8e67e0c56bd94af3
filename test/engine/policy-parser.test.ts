import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parsePolicy, type CompiledPolicy, type NamespaceInfo, type PolicyParseResult } from '../../src/engine/index.js';

const HEADER = 'apiVersion: secure-defaults.io/v1alpha1\nkind: SecureDefaultsPolicy\n';

function ns(name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): NamespaceInfo {
  return { name, labels, annotations };
}

function errorsOf(result: PolicyParseResult): string[] {
  return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`);
}

function compiled(yamlText: string): CompiledPolicy {
  const result = parsePolicy(yamlText);
  if (!result.ok) throw new Error(`expected a valid policy, got:\n${errorsOf(result).join('\n')}`);
  return result.policy;
}

describe('parsePolicy: the default policy', () => {
  it('compiles policies/default.yaml with the documented defaults', () => {
    const policy = compiled(readFileSync(new URL('../../policies/default.yaml', import.meta.url), 'utf8'));
    expect(policy.name).toBe('cluster-defaults');
    expect(policy.mode).toBe('fill');
    expect(policy.defaults).toEqual({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
      dropCapabilities: ['ALL'],
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: false,
      fsGroupChangePolicy: 'OnRootMismatch',
    });
    expect(policy.resolveIdDefaults(ns('anything'))).toEqual({
      uidRange: { min: 100000, max: 165535 },
      gidRange: { min: 100000, max: 165535 },
      fsGroup: 100000,
      source: 'spec.fallback',
    });
  });

  it('fills every optional field with its default when spec is nearly empty', () => {
    const policy = compiled(`${HEADER}spec:\n  mode: fill\n`);
    expect(policy.name).toBe('unnamed');
    expect(policy.allowPodOptOut).toBe(false);
    expect(policy.allocation).toBeNull();
    expect(policy.defaults.dropCapabilities).toEqual(['ALL']);
    expect(policy.resolveIdDefaults(ns('x'))).toBeNull();
  });
});

describe('parsePolicy: namespace rules', () => {
  const policy = compiled(`${HEADER}spec:
  namespaces:
    - names: ["payments", "team-*"]
      uidRange: "10000-19999"
      gidRange: "30000-30999"
      fsGroup: 30005
    - selector:
        matchLabels: { tier: batch }
      uidRange: "20000-29999"
    - selector:
        matchExpressions:
          - { key: env, operator: In, values: [prod, staging] }
          - { key: legacy, operator: DoesNotExist }
      uidRange: "40000-49999"
  fallback:
    uidRange: "100000-165535"
`);

  it.each([
    ['payments', {}, 'spec.namespaces[0]', 10000, 30000, 30005],
    ['team-blue', {}, 'spec.namespaces[0]', 10000, 30000, 30005],
    ['batch-jobs', { tier: 'batch' }, 'spec.namespaces[1]', 20000, 20000, 20000],
    ['web', { env: 'prod' }, 'spec.namespaces[2]', 40000, 40000, 40000],
    ['web-old', { env: 'prod', legacy: 'yes' }, 'spec.fallback', 100000, 100000, 100000],
    ['teamless', {}, 'spec.fallback', 100000, 100000, 100000],
  ] as const)('namespace %s with labels %j resolves to %s', (name, labels, source, uid, gid, fsGroup) => {
    const ids = policy.resolveIdDefaults(ns(name, labels));
    expect(ids?.source).toBe(source);
    expect(ids?.uidRange.min).toBe(uid);
    expect(ids?.gidRange.min).toBe(gid);
    expect(ids?.fsGroup).toBe(fsGroup);
  });

  it('the first matching rule wins', () => {
    expect(policy.resolveIdDefaults(ns('team-x', { tier: 'batch' }))?.source).toBe('spec.namespaces[0]');
  });
});

describe('parsePolicy: mistakes are refused with path and fix', () => {
  it.each([
    ['a misspelled field', 'spec:\n  defaults:\n    runAsNonroot: true\n', 'spec.defaults.runAsNonroot: unknown field; did you mean "runAsNonRoot"?'],
    ['min above max', 'spec:\n  namespaces:\n    - names: [a]\n      uidRange: "20000-1999"\n', 'spec.namespaces[0].uidRange: "20000-1999": min is greater than max'],
    ['a range with root', 'spec:\n  fallback: {uidRange: "0-100"}\n', 'spec.fallback.uidRange: "0-100": includes 0 (root)'],
    ['an unknown mode', 'spec:\n  mode: enforcing\n', 'spec.mode: the string "enforcing" is not allowed; did you mean "enforce"?'],
  ])('%s', (_label, body, expected) => {
    const errors = errorsOf(parsePolicy(`${HEADER}${body}`));
    expect(errors.some((error) => error.startsWith(expected))).toBe(true);
  });
});
