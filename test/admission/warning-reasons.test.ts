// Every warning the real engine and server send falls into a named reason (not "other"), so the
// warnings counter says what happened; a change of wording that breaks a pattern fails here.
import { describe, expect, it } from '@jest/globals';
import { decideAdmission, parsePolicy } from '../../src/engine/index.js';
import type { CompiledPolicy, NamespaceInfo } from '../../src/engine/model.js';
import { unableToJudge } from '../../src/admission/failure-policy.js';
import { OTHER_WARNING_REASON, WARNING_REASON_LABELS, warningReason } from '../../src/admission/warning-reasons.js';

function policy(extra = ''): CompiledPolicy {
  const parsed = parsePolicy(`apiVersion: secure-defaults.io/v1alpha1
kind: SecureDefaultsPolicy
metadata: { name: reasons }
spec:
  mode: fill
${extra}  fallback: { uidRange: "100000-165535" }
`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.policy;
}

const namespace: NamespaceInfo = { name: 'team-a', labels: {}, annotations: {} };

function warningsFor(pod: unknown, options: { policy?: CompiledPolicy; namespace?: NamespaceInfo } = {}): readonly string[] {
  return decideAdmission({ policy: options.policy ?? policy(), namespace: options.namespace ?? namespace, pod, target: 'pod' }).warnings;
}

const container = (securityContext: unknown) => ({ name: 'app', image: 'busybox', securityContext });

describe('warning reasons', () => {
  it.each([
    ['privileged-container', { spec: { containers: [container({ privileged: true })] } }],
    ['sys-admin-capability', { spec: { containers: [container({ capabilities: { add: ['SYS_ADMIN'] } })] } }],
    ['container-runs-as-root', { spec: { containers: [container({ runAsUser: 0 }), { name: 'b', image: 'busybox' }] } }],
    ['legacy-seccomp-annotation', { metadata: { annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default' } }, spec: { containers: [container({})] } }],
    ['opt-out-not-allowed', { metadata: { annotations: { 'secure-defaults.io/skip': 'true' } }, spec: { containers: [container({})] } }],
    ['unreadable-pod-field', { spec: { containers: [container('not an object')] } }],
  ])('names the engine warning for %s', (reason, pod) => {
    const warnings = warningsFor(pod);
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.map(warningReason)).toContain(reason);
    expect(warnings.map(warningReason)).not.toContain(OTHER_WARNING_REASON);
  });

  it('names an ignored namespace UID annotation, and the fallback used instead', () => {
    const annotated: NamespaceInfo = { ...namespace, annotations: { 'secure-defaults.io/uid-range': '0-9' } };
    const warnings = warningsFor({ spec: { containers: [container({})] } }, { namespace: annotated });
    expect(warnings.length).toBe(2);
    expect(new Set(warnings.map(warningReason))).toEqual(new Set(['namespace-range-annotation-ignored']));
  });

  // Also the wording of a grouped warning (several containers) and of the engine before it grouped them.
  it.each([
    ['would-deny', 'policy "p" (warn mode) would deny this Pod in enforce mode: spec.containers[0] runs as UID 0'],
    ['user-namespace-not-added', "spec.hostUsers: false not added, the Pod keeps the node's user namespace, because it uses hostNetwork"],
    ['pod-security-will-refuse', 'Pod Security "restricted:v1.35" (namespace "team-a") will refuse this Pod: privileged at spec.containers[0]: privileged'],
    ['pod-security-will-refuse', 'Pod Security "restricted:v1.35" will also refuse it for 3 more reasons (secure-defaults check --pss-version v1.35 lists them all)'],
    ['kept-requested-privileges', 'spec: container "agent" is privileged: runAsUser, runAsGroup not added (spec.defaults.keepRequestedPrivileges)'],
    ['moved-to-containers', 'spec.securityContext: runAsUser, runAsGroup set on each container instead of the Pod, so that they do not reach the containers that keep their own'],
    ['privileged-container', 'spec: allowPrivilegeEscalation: false not added to containers "a", "b" because they are privileged (the API server refuses that combination)'],
    ['privileged-container', 'spec.containers[app]: allowPrivilegeEscalation: false not added because the container is privileged (the API server refuses that combination)'],
    ['sys-admin-capability', 'spec: allowPrivilegeEscalation: false not added to containers "a", "b" because they add SYS_ADMIN (the API server refuses that combination)'],
  ])('names %s', (reason, warning) => {
    expect(warningReason(warning)).toBe(reason);
  });

  it('names the fail-open warning of a request that could not be judged', () => {
    const { warnings } = unableToJudge('u', 'open', 503, 'no valid policy has been loaded yet');
    expect(warnings?.map(warningReason)).toEqual(['not-judged']);
  });

  it('counts unknown wording as "other", and every reason is in the exported label list', () => {
    expect(warningReason('something new')).toBe(OTHER_WARNING_REASON);
    expect(WARNING_REASON_LABELS).toContain(OTHER_WARNING_REASON);
    expect(new Set(WARNING_REASON_LABELS).size).toBe(WARNING_REASON_LABELS.length);
  });

  it('looks at a bounded prefix: a 1 MB warning is classified at once', () => {
    const started = process.hrtime.bigint();
    expect(warningReason(`${'annotation secure-defaults.io/uid-range '.repeat(30_000)}x`)).toBe(OTHER_WARNING_REASON);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1000);
  });
});
