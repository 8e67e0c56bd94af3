import { describe, expect, it } from '@jest/globals';
import { decideAdmission, INJECTED_ANNOTATION, type AdmissionDecision } from '../../src/engine/index.js';
import { applyPatch, deepClone, namespace, policyWith } from './engine-fixtures.js';

type Json = Record<string, unknown>;

function pod(spec: Json, metadata: Json = { name: 'p' }): Json {
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

function allowed(decision: AdmissionDecision): Extract<AdmissionDecision, { allowed: true }> {
  if (!decision.allowed) throw new Error(`expected allowed, got: ${decision.message}`);
  return decision;
}

/** Decides, checks the input was not modified, and returns the patched Pod. */
function harden(input: Json, policy = policyWith(), ns = namespace()): { out: Json; decision: Extract<AdmissionDecision, { allowed: true }> } {
  const before = deepClone(input);
  const decision = allowed(decideAdmission({ policy, namespace: ns, pod: input, target: 'pod' }));
  expect(input).toEqual(before);
  return { out: applyPatch(input, decision.patch), decision };
}

const RESTRICTED_CONTAINER = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
const POD_DEFAULTS = {
  runAsUser: 10000,
  runAsGroup: 10000,
  fsGroup: 10000,
  fsGroupChangePolicy: 'OnRootMismatch',
  runAsNonRoot: true,
  seccompProfile: { type: 'RuntimeDefault' },
};

describe('decideAdmission, fill mode, target pod', () => {
  it('fills a bare Pod with pod-level and container-level defaults', () => {
    const { out, decision } = harden(pod({ containers: [{ name: 'app', image: 'nginx' }], initContainers: [{ name: 'init', image: 'busybox' }] }));
    expect(out['spec']).toEqual({
      securityContext: POD_DEFAULTS,
      containers: [{ name: 'app', image: 'nginx', securityContext: RESTRICTED_CONTAINER }],
      initContainers: [{ name: 'init', image: 'busybox', securityContext: RESTRICTED_CONTAINER }],
    });
    expect(decision.injected).toContain('spec.containers[app].securityContext.allowPrivilegeEscalation');
    expect(decision.injected).toContain('spec.securityContext.runAsUser');
    expect((out['metadata'] as Json)['annotations']).toEqual({
      [INJECTED_ANNOTATION]:
        'pod: runAsUser, runAsGroup, fsGroup, fsGroupChangePolicy, runAsNonRoot, seccompProfile; containers: allowPrivilegeEscalation (2), capabilities.drop (2)',
    });
  });

  it('is idempotent: deciding on the patched Pod yields an empty patch', () => {
    const { out } = harden(pod({ containers: [{ name: 'app', image: 'nginx' }] }));
    expect(harden(out).decision.patch).toEqual([]);
  });
});
