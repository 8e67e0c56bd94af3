// The allocator's view of a real policy parsed by the engine: which namespaces get a block, and
// spec.allocation.releaseAfter.
import { describe, expect, it } from '@jest/globals';
import { allocatorPolicyFrom, awaitsAllocatedBlock } from '../../src/allocation/allocator-policy.js';
import { parsePolicy, type CompiledPolicy, type NamespaceInfo } from '../../src/engine/index.js';

function policy(allocation: string): CompiledPolicy {
  const parsed = parsePolicy(`
apiVersion: secure-defaults.io/v1alpha1
kind: SecureDefaultsPolicy
metadata: { name: test }
spec:
  namespaces:
    - names: [payments]
      uidRange: "50000-59999"
${allocation}
`);
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
  return parsed.policy;
}

const ns = (name: string, labels: Record<string, string> = { 'secure-defaults.io/inject': 'enabled' }, annotations: Record<string, string> = {}): NamespaceInfo => ({
  name,
  labels,
  annotations,
});

describe('allocatorPolicyFrom', () => {
  it('is null without spec.allocation', () => {
    expect(allocatorPolicyFrom(policy(''))).toBeNull();
  });

  it('wants a block for opted-in namespaces no rule matches', () => {
    const view = allocatorPolicyFrom(policy('  allocation: { range: "1000000000-1999999999", blockSize: 10000 }'))!;
    expect(view.settings).toEqual({ pool: { min: 1_000_000_000, max: 1_999_999_999 }, blockSize: 10_000, releaseAfterMs: null });
    expect(view.wantsBlock(ns('team-a'))).toBe(true);
    expect(view.wantsBlock(ns('payments'))).toBe(false);
    expect(view.wantsBlock(ns('team-b', {}))).toBe(false);
    expect(view.wantsBlock(ns('team-c', { 'secure-defaults.io/inject': 'disabled' }))).toBe(false);
  });

  it('passes on why the engine would ignore a hand-set annotation', () => {
    const view = allocatorPolicyFrom(policy('  allocation: { range: "1000000000-1999999999", blockSize: 10000 }'))!;
    expect(view.annotationRejection(ns('team-a', undefined, { 'secure-defaults.io/uid-range': '1000000000-1000009999' }))).toBeNull();
    expect(view.annotationRejection(ns('team-a', undefined, { 'secure-defaults.io/uid-range': '55000-55999' }))).toMatch(/overlaps the uid range 50000-59999/);
  });

  it.each([
    ['720h', 720 * 3_600_000],
    ['1h30m', 90 * 60_000],
    ['45s', 45_000],
  ])('reads releaseAfter %s', (text, ms) => {
    const view = allocatorPolicyFrom(policy(`  allocation: { range: "1000000000-1999999999", blockSize: 10000, releaseAfter: "${text}" }`))!;
    expect(view.settings.releaseAfterMs).toBe(ms);
  });

  it.each(['30d', '720', '1.5h', 'soon'])('refuses releaseAfter %j with the path and an example', (text) => {
    const parsed = parsePolicy(`
apiVersion: secure-defaults.io/v1alpha1
kind: SecureDefaultsPolicy
metadata: { name: test }
spec:
  allocation: { range: "1000000000-1999999999", releaseAfter: "${text}" }
`);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors).toEqual([{ path: 'spec.allocation.releaseAfter', message: expect.stringMatching(/duration such as "720h"/) }]);
  });
});

describe('awaitsAllocatedBlock', () => {
  const withAllocation = policy('  allocation: { range: "1000000000-1999999999", blockSize: 10000 }');
  it.each([
    ['an opted-in namespace without annotation', withAllocation, ns('team-a'), true],
    ['a namespace that already has its block', withAllocation, ns('team-a', undefined, { 'secure-defaults.io/uid-range': '1000000000-1000009999' }), false],
    ['a namespace a rule covers', withAllocation, ns('payments'), false],
    ['a namespace not opted in', withAllocation, ns('team-a', {}), false],
    ['any namespace when allocation is off', policy(''), ns('team-a'), false],
  ])('%s: %s', (_name, p, namespace, expected) => {
    expect(awaitsAllocatedBlock(p, namespace)).toBe(expected);
  });
});
