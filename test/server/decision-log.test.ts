// "Why did my Pod get UID 100000?" answered by one log line: the real engine behind the real
// server, and the log line it writes naming the rule, the range, the values and the Pod's owner.
import { describe, expect, it } from '@jest/globals';
import { decideAdmission, parsePolicy } from '../../src/engine/index.js';
import { injectedLogEntries } from '../../src/admission/pod-admission.js';
import { podOwner } from '../../src/admission/pod-log-names.js';
import { inMemoryNamespaces, staticPolicySource } from '../../src/ports/standalone-ports.js';
import { podReview, startTestWebhook } from './webhook-harness.js';

const POLICY = `apiVersion: secure-defaults.io/v1alpha1
kind: SecureDefaultsPolicy
metadata: { name: log-test }
spec:
  mode: fill
  namespaces:
    - names: ["payments"]
      uidRange: "10000-19999"
  allocation: { range: "1000000000-1999999999", blockSize: 10000 }
  fallback: { uidRange: "100000-165535" }
`;

describe('podOwner', () => {
  it.each([
    ['the controller among several owners', { ownerReferences: [{ kind: 'ConfigMap', name: 'x' }, { kind: 'ReplicaSet', name: 'web-7d9f', controller: true }] }, 'ReplicaSet/web-7d9f'],
    ['the first owner when none is the controller', { ownerReferences: [{ kind: 'Job', name: 'nightly' }] }, 'Job/nightly'],
    ['generateName when there is no owner', { generateName: 'web-' }, 'web-*'],
    ['nothing for a bare named Pod', { name: 'p' }, ''],
    ['nothing for garbage owner references', { ownerReferences: 'nope' }, ''],
    ['a bounded string for a huge owner name', { ownerReferences: [{ kind: 'ReplicaSet', name: 'x'.repeat(1_000_000), controller: true }] }, expect.stringMatching(/^ReplicaSet\/x{300,}…$/)],
  ])('names %s', (_what, metadata, owner) => {
    const result = podOwner({ metadata });
    expect(result).toEqual(owner);
    expect(result.length).toBeLessThanOrEqual(320);
  });

  it('scans a hostile list of 200,000 owner references in bounded time', () => {
    const ownerReferences = Array.from({ length: 200_000 }, (_, i) => ({ kind: 'Thing', name: `t${i}` }));
    const started = process.hrtime.bigint();
    expect(podOwner({ metadata: { ownerReferences } })).toBe('Thing/t0');
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2000);
  });
});

describe('the decision log line with the real engine', () => {
  const parsed = parsePolicy(POLICY);
  if (!parsed.ok) throw new Error('test policy does not parse');
  const namespaces = inMemoryNamespaces([
    { name: 'payments', labels: { 'secure-defaults.io/inject': 'enabled' }, annotations: {} },
    { name: 'team-b', labels: { 'secure-defaults.io/inject': 'enabled' }, annotations: {} },
    { name: 'team-c', labels: { 'secure-defaults.io/inject': 'enabled' }, annotations: { 'secure-defaults.io/uid-range': '1000010000-1000019999' } },
  ]);
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'web-7d9f-', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f', uid: 'r', controller: true }] },
    spec: { containers: [{ name: 'app', image: 'nginx' }] },
  };

  it.each([
    ['payments', 'spec.namespaces[0]', '10000-19999', 10000],
    ['team-b', 'spec.fallback', '100000-165535', 100000],
    ['team-c', 'namespace annotation secure-defaults.io/uid-range', '1000010000-1000019999', 1000010000],
  ])('in %s names rule %s, the range, the values injected and the owner', async (namespace, rule, uidRange, uid) => {
    const hook = await startTestWebhook({ policySource: staticPolicySource(parsed.policy), namespaces, decideAdmission });
    try {
      await hook.post('/mutate', podReview({ uid: `log-${namespace}`, namespace, object: pod }));
      const [line] = hook.logger.decisions();
      expect(line?.fields).toMatchObject({ uid: `log-${namespace}`, result: 'patched', rule, uidRange, owner: 'ReplicaSet/web-7d9f', name: 'web-7d9f-*' });
      expect(line?.fields['injected']).toEqual(
        expect.arrayContaining([
          `spec.securityContext.runAsUser=${uid}`,
          `spec.securityContext.fsGroup=${uid}`,
          'spec.securityContext.seccompProfile={"type":"RuntimeDefault"}',
          'spec.containers[0].securityContext.capabilities.drop=["ALL"]',
        ]),
      );
    } finally {
      await hook.stop();
    }
  });

  it('keeps plain paths for an engine that reports no values', () => {
    expect(injectedLogEntries(['a.b'], undefined)).toEqual(['a.b']);
    expect(injectedLogEntries(['a.b', 'c'], [{ path: 'a.b', value: 1 }, { path: 'c', value: ['ALL'] }])).toEqual(['a.b=1', 'c=["ALL"]']);
  });
});
