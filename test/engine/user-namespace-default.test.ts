// spec.defaults.hostUsers: false: Pods run in their own user namespace where they can, keep the
// node's where they cannot (with a warning naming why), and keep the namespace's UID range inside it.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { checkRestricted, decideAdmission, hardenManifest, parsePolicy, type AdmissionDecision } from '../../src/engine/index.js';
import { userNamespaceBlockers } from '../../src/engine/user-namespace-default.js';
import { applyPatch, namespace, policyWith } from './engine-fixtures.js';

type Json = Record<string, unknown>;

const USER_NAMESPACES = '  defaults:\n    hostUsers: false\n';

function decide(spec: Json, policyLines = USER_NAMESPACES): { out: Json; decision: Extract<AdmissionDecision, { allowed: true }> } {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec };
  const decision = decideAdmission({ policy: policyWith(policyLines), namespace: namespace(), pod, target: 'pod' });
  if (!decision.allowed) throw new Error(decision.message);
  return { out: applyPatch(pod, decision.patch), decision };
}

const APP = { name: 'app', image: 'nginx' };

describe('defaults.hostUsers: false', () => {
  it('adds hostUsers: false to a Pod that can run in a user namespace, and the namespace UID range still applies', () => {
    const { out, decision } = decide({ containers: [APP] });
    const spec = out['spec'] as Json;
    expect(spec['hostUsers']).toBe(false);
    expect(spec['securityContext']).toMatchObject({ runAsUser: 10000, runAsGroup: 10000, runAsNonRoot: true });
    expect(decision.injected).toContain('spec.hostUsers');
    expect((out['metadata'] as { annotations: Json }).annotations['secure-defaults.io/injected']).toMatch(/^pod: .*hostUsers/);
    expect(decision.patch).toContainEqual({ op: 'add', path: '/spec/hostUsers', value: false });
    expect(checkRestricted(out)).toEqual([]);
  });

  it('is off unless the policy turns it on', () => {
    expect((decide({ containers: [APP] }, '').out['spec'] as Json)['hostUsers']).toBeUndefined();
  });

  it.each([
    ['hostNetwork', { hostNetwork: true, containers: [APP] }, 'it sets hostNetwork: true (the API server refuses it with hostUsers: false)'],
    ['hostPID', { hostPID: true, containers: [APP] }, 'it sets hostPID: true'],
    ['hostIPC', { hostIPC: true, containers: [APP] }, 'it sets hostIPC: true'],
    ['a privileged container', { containers: [{ ...APP, securityContext: { privileged: true } }] }, 'container "app" privileged'],
    ['an added capability', { containers: [{ ...APP, securityContext: { capabilities: { add: ['NET_ADMIN'] } } }] }, 'container "app" add capabilities'],
    ['volumeDevices', { containers: [{ ...APP, volumeDevices: [{ name: 'd', devicePath: '/dev/xvda' }] }] }, 'container "app" use volumeDevices'],
    ['a hostPath volume', { containers: [APP], volumes: [{ name: 'logs', hostPath: { path: '/var/log' } }] }, 'hostPath volume "logs"'],
  ])('leaves it out for %s and says why', (_name, spec, reason) => {
    const { out, decision } = decide(spec);
    expect((out['spec'] as Json)['hostUsers']).toBeUndefined();
    expect(decision.injected).not.toContain('spec.hostUsers');
    const warning = decision.warnings.find((w) => w.startsWith('spec.hostUsers: false not added'));
    expect(warning).toContain(reason);
  });

  it('leaves it out where the namespace\'s range lies above 65535, which a Pod\'s user namespace cannot map', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [APP] } };
    // "other" matches no rule: the fallback range 100000-165535 applies.
    const decision = decideAdmission({ policy: policyWith(USER_NAMESPACES), namespace: namespace('other'), pod, target: 'pod' });
    expect(decision.allowed && decision.injected).not.toContain('spec.hostUsers');
    expect(decision.warnings).toContain(
      "spec.hostUsers: false not added, the Pod keeps the node's user namespace, because it would run as ID 100000 (spec.securityContext.runAsUser), above 65535, the highest ID inside a Pod's user namespace (give the namespace a UID/GID range within 1-65535)",
    );
  });

  it('and where a container asks for such an ID itself', () => {
    const { out, decision } = decide({ containers: [{ ...APP, securityContext: { runAsGroup: 70000 } }] });
    expect((out['spec'] as Json)['hostUsers']).toBeUndefined();
    expect(decision.warnings.join('\n')).toContain('it would run as ID 70000 (spec.containers[0].securityContext.runAsGroup)');
  });

  it('NET_BIND_SERVICE alone does not keep a Pod out (it works inside the Pod\'s user namespace)', () => {
    const { out } = decide({ containers: [{ ...APP, securityContext: { capabilities: { add: ['NET_BIND_SERVICE'] } } }] });
    expect((out['spec'] as Json)['hostUsers']).toBe(false);
  });

  it.each([true, false])('never changes a hostUsers the Pod set (%s)', (value) => {
    const { decision } = decide({ hostUsers: value, containers: [APP] });
    expect(decision.patch.some((operation) => operation.path === '/spec/hostUsers')).toBe(false);
    expect(decision.warnings.some((w) => w.includes('hostUsers'))).toBe(false);
  });

  it('Windows Pods are left alone', () => {
    const { out } = decide({ os: { name: 'windows' }, containers: [APP] });
    expect((out['spec'] as Json)['hostUsers']).toBeUndefined();
  });

  it('kubectl debug never touches hostUsers (immutable after create): only new ephemeral containers are hardened', () => {
    const policy = policyWith(USER_NAMESPACES);
    const pod = { metadata: { name: 'p' }, spec: { containers: [APP], ephemeralContainers: [{ name: 'debug', image: 'busybox' }] } };
    const decision = decideAdmission({ policy, namespace: namespace(), pod, target: 'ephemeralContainers' });
    expect(decision.allowed).toBe(true);
    expect(decision.allowed && decision.patch.length).toBeGreaterThan(0);
    expect(decision.allowed && decision.patch.some((operation) => operation.path === '/spec/hostUsers')).toBe(false);
  });

  it('a Deployment\'s Pod template gets it too (the CLI)', () => {
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { template: { spec: { containers: [APP] } } } };
    const result = hardenManifest(policyWith(USER_NAMESPACES), namespace(), deployment);
    expect(result.ok && result.injected).toContain('spec.template.spec.hostUsers');
  });

  it('the reason lists at most three names however many containers block it (bounded warnings)', () => {
    const containers = Array.from({ length: 10_000 }, (_, i) => ({ name: `c${i}`, image: 'x', securityContext: { privileged: true } }));
    const [reason] = userNamespaceBlockers({ containers });
    expect(reason).toBe('containers "c0", "c1", "c2" and 9997 more privileged (privilege would reach only the Pod\'s own user namespace)');
  });

  it('property: hostUsers: false is added exactly when nothing blocks it, and never to a Pod that set it', () => {
    const container = fc.record(
      {
        name: fc.constantFrom('a', 'b', 'c'),
        image: fc.constant('x'),
        securityContext: fc.record({ privileged: fc.boolean(), capabilities: fc.record({ add: fc.subarray(['NET_BIND_SERVICE', 'SYS_TIME']) }) }, { requiredKeys: [] }),
        volumeDevices: fc.constantFrom([], [{ name: 'd', devicePath: '/dev/x' }]),
      },
      { requiredKeys: ['name', 'image'] },
    );
    const spec = fc.record(
      {
        hostNetwork: fc.boolean(),
        hostPID: fc.boolean(),
        hostIPC: fc.boolean(),
        hostUsers: fc.boolean(),
        containers: fc.array(container, { minLength: 1, maxLength: 3 }),
        volumes: fc.constantFrom([], [{ name: 'h', hostPath: { path: '/' } }], [{ name: 'e', emptyDir: {} }]),
      },
      { requiredKeys: ['containers'] },
    );
    fc.assert(
      fc.property(spec, (input) => {
        const { out } = decide(input as Json);
        const added = (out['spec'] as Json)['hostUsers'];
        if (input.hostUsers !== undefined) return added === input.hostUsers;
        return (added === false) === (userNamespaceBlockers(input as Json).length === 0);
      }),
    );
  });
});

describe('policy: defaults.hostUsers', () => {
  it.each([
    ['true', 'spec.defaults.hostUsers', 'true is what Kubernetes does anyway'],
    ['"false"', 'spec.defaults.hostUsers', 'expected false (run Pods in their own user namespace), got'],
  ])('hostUsers: %s is refused with the fix', (value, path, message) => {
    const result = parsePolicy(`apiVersion: secure-defaults.io/v1alpha1\nkind: SecureDefaultsPolicy\nmetadata: { name: p }\nspec:\n  defaults:\n    hostUsers: ${value}\n`);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors).toEqual([expect.objectContaining({ path, message: expect.stringContaining(message) })]);
  });
});
