import { describe, expect, it } from '@jest/globals';
import { describePolicyErrors, POLICY_KEY, policyTextOfConfigMap } from '../../src/engine/policy-config-map.js';

describe('the policy in a ConfigMap', () => {
  const missing = (message: string) => ({ ok: false, error: { path: 'data.policy.yaml', message } });
  it.each<[string, unknown, unknown]>([
    ['a string under policy.yaml', { [POLICY_KEY]: 'spec: {}', other: 'x' }, { ok: true, text: 'spec: {}' }],
    ['no data at all', undefined, missing('missing (the ConfigMap has no data); put the policy document under the key "policy.yaml"')],
    ['other keys only', { 'policy.yml': 'x' }, missing('missing (its data keys are "policy.yml"); put the policy document under the key "policy.yaml"')],
    ['a map under policy.yaml', { [POLICY_KEY]: { spec: {} } }, missing('missing (its data keys are "policy.yaml"); put the policy document under the key "policy.yaml"')],
    ['data that is a list', ['x'], missing('missing (the ConfigMap has no data); put the policy document under the key "policy.yaml"')],
  ])('%s', (_name, data, expected) => {
    expect(policyTextOfConfigMap(data)).toEqual(expected);
  });

  it('names at most ten of the keys present, each cut, so a hostile ConfigMap cannot grow the message', () => {
    const data = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`${'k'.repeat(10_000)}${i}`, 'x']));
    const read = policyTextOfConfigMap(data);
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.error.message).toContain('and 4990 more');
    expect(read.error.message.length).toBeLessThan(2_000);
  });

  it('describes refused policies as "path: message", joined by "; "', () => {
    expect(describePolicyErrors([{ path: 'spec.mode', message: 'must be one of fill, warn, enforce' }, { path: 'spec.fallback', message: 'required' }])).toBe(
      'spec.mode: must be one of fill, warn, enforce; spec.fallback: required',
    );
  });
});
