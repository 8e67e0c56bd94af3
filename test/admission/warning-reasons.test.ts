// Each warning the engine writes comes with the reason it is counted under (the `reason` label of
// secure_defaults_warnings_total), named where the warning is written: one Pod per warning here,
// with the reasons it must get, in order, and a phrase of each text so that a reason pushed with
// the wrong text shows. Then: the reasons and texts stay paired for generated Pods, also after the
// answer's bounding.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { boundWarnings, MAX_WARNING_CHARS } from '../../src/admission/admission-responses.js';
import { decideAdmission, parsePolicy, WARNING_REASONS, type AdmissionDecision, type AdmissionTarget, type CompiledPolicy, type NamespaceInfo, type WarningReason } from '../../src/engine/index.js';
import { unableToJudge } from '../../src/admission/failure-policy.js';
import { reviewPolicyConfigMap } from '../../src/admission/policy-config-map-review.js';
import type { AdmissionRequest } from '../../src/admission/admission-review.js';
import { namespace, policyWith } from '../engine/engine-fixtures.js';
import { podArbitrary } from '../engine/pod-generators.js';

type Json = Record<string, unknown>;

const FILL = policyWith();
const WARN = policyWith('  mode: warn\n');
const USER_NAMESPACES = policyWith('  defaults:\n    hostUsers: false\n', { rules: false });
const ALLOCATING = policyWith('  allocation:\n    range: "1000000-1999999"\n    blockSize: 10000\n');

const PSA_RESTRICTED = namespace('payments', { 'pod-security.kubernetes.io/enforce': 'restricted' });
const PSA_UNREADABLE = namespace('payments', { 'pod-security.kubernetes.io/enforce': 'strict' });

/** A volume type restricted refuses that does not touch the node. */
const NFS_VOLUME = { name: 'shared', nfs: { server: 'nfs.example', path: '/exports' } };
const app = (securityContext: unknown, name = 'app'): Json => ({ name, image: 'busybox', securityContext });
const podOf = (spec: Json, metadata: Json = { name: 'p' }): Json => ({ apiVersion: 'v1', kind: 'Pod', metadata, spec });

interface Fixture {
  readonly pod: unknown;
  readonly policy?: CompiledPolicy;
  readonly namespace?: NamespaceInfo;
  readonly target?: AdmissionTarget;
  /** Each warning's reason, in order, with a phrase of its text. */
  readonly warnings: ReadonlyArray<readonly [WarningReason, string]>;
}

const FIXTURES: ReadonlyArray<readonly [string, Fixture]> = [
  ['a privileged container', { pod: podOf({ containers: [app({ privileged: true }), app({}, 'b')] }), warnings: [
    ['moved-to-containers', 'set on each container instead of the Pod'],
    ['privileged-container', 'allowPrivilegeEscalation: false not added to container "app" because it is privileged'],
    ['kept-requested-privileges', 'container "app" is privileged and keeps'],
  ] }],
  ['a privileged sidecar added after an earlier call put the IDs at Pod level (reinvocation)', {
    pod: podOf(
      { securityContext: { runAsUser: 10000, runAsGroup: 10000, runAsNonRoot: true }, containers: [app({ allowPrivilegeEscalation: false }), app({ privileged: true }, 'mesh')] },
      { name: 'p', annotations: { 'secure-defaults.io/injected': 'pod: runAsUser, runAsGroup, runAsNonRoot; containers: allowPrivilegeEscalation (1)' } },
    ),
    warnings: [
      ['reinvocation-moved-to-containers', 'runAsUser, runAsGroup, runAsNonRoot, added by an earlier call of this webhook, moved from the Pod to each container that does not set them, so that they do not reach container "mesh" (privileged)'],
      ['privileged-container', 'allowPrivilegeEscalation: false not added to container "mesh" because it is privileged'],
      ['kept-requested-privileges', 'container "mesh" is privileged and keeps'],
    ],
  }],
  ['two privileged containers, grouped', { pod: podOf({ containers: [app({ privileged: true }, 'a'), app({ privileged: true }, 'b')] }), warnings: [
    ['privileged-container', 'to containers "a", "b" because they are privileged'],
    ['kept-requested-privileges', 'containers "a", "b" are privileged'],
  ] }],
  ['containers that add SYS_ADMIN', { pod: podOf({ containers: [app({ capabilities: { add: ['SYS_ADMIN'] } }, 'a'), app({ capabilities: { add: ['CAP_SYS_ADMIN'] } }, 'b')] }), warnings: [
    ['sys-admin-capability', 'to containers "a", "b" because they add SYS_ADMIN'],
    ['kept-requested-privileges', 'containers "a", "b" add capabilities without a user of their own'],
  ] }],
  ['a container that runs as root', { pod: podOf({ containers: [app({ runAsUser: 0 }), app({}, 'b')] }), warnings: [
    ['container-runs-as-root', 'runAsNonRoot: true not added because "app" runs as UID 0'],
    ['kept-requested-privileges', 'runs as root'],
  ] }],
  ['a Pod that runs as root', { pod: podOf({ securityContext: { runAsUser: 0 }, containers: [app({})] }), warnings: [
    ['container-runs-as-root', 'the Pod runs as UID 0'],
    ['kept-requested-privileges', 'runs as root'],
  ] }],
  ['the legacy pod seccomp annotation', { pod: podOf({ containers: [app({})] }, { name: 'p', annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default' } }), warnings: [
    ['legacy-seccomp-annotation', 'seccompProfile not added because the legacy annotation seccomp.security.alpha.kubernetes.io/pod'],
  ] }],
  ['the legacy container seccomp annotation on a debug container', {
    pod: podOf({ containers: [app({})], ephemeralContainers: [app({}, 'debug')] }, { name: 'p', annotations: { 'container.seccomp.security.alpha.kubernetes.io/debug': 'runtime/default' } }),
    target: 'ephemeralContainers',
    warnings: [['legacy-seccomp-annotation', 'seccompProfile not added because the legacy annotation container.seccomp.security.alpha.kubernetes.io/debug']],
  }],
  ['the skip annotation without opt-out', { pod: podOf({ containers: [app({})] }, { name: 'p', annotations: { 'secure-defaults.io/skip': 'true' } }), warnings: [
    ['opt-out-not-allowed', 'does not allow Pods to opt out'],
  ] }],
  ['warn mode', { pod: podOf({ containers: [app({ runAsUser: 0, privileged: true })] }), policy: WARN, warnings: [
    ['would-deny', '(warn mode) would deny this Pod in enforce mode: '],
    ['would-deny', '(warn mode) would deny this Pod in enforce mode: '],
    ['container-runs-as-root', 'runAsNonRoot: true not added'],
    ['privileged-container', 'because it is privileged'],
    ['kept-requested-privileges', 'is privileged and keeps'],
  ] }],
  ['warn mode, more violations than are warned one by one', {
    pod: podOf({ containers: Array.from({ length: 25 }, (_, i) => app({ runAsUser: 0 }, `c${i}`)) }),
    policy: WARN,
    warnings: [
      ...Array.from({ length: 20 }, () => ['would-deny', '(warn mode) would deny this Pod in enforce mode: '] as const),
      ['would-deny', 'would deny this Pod in enforce mode: and 5 more violations'],
      ['container-runs-as-root', 'runAsNonRoot: true not added'],
      ['kept-requested-privileges', 'run as root'],
    ],
  }],
  ['a Pod that cannot run in its own user namespace', { pod: podOf({ containers: [{ ...app({}), volumeDevices: [{ name: 'disk', devicePath: '/dev/xvda' }] }] }), policy: USER_NAMESPACES, warnings: [
    ['user-namespace-not-added', 'hostUsers: false not added, the Pod keeps the node\'s user namespace, because container "app" use volumeDevices'],
  ] }],
  ['Pod Security will still refuse it', { pod: podOf({ volumes: [NFS_VOLUME], containers: [app({})] }), namespace: PSA_RESTRICTED, warnings: [
    ['pod-security-will-refuse', 'Pod Security "restricted:latest" (namespace "payments") will refuse this Pod: '],
  ] }],
  ['Pod Security will refuse it for more reasons than are warned one by one', {
    pod: podOf({ hostPID: true, hostIPC: true, hostNetwork: true, volumes: [{ name: 'h', hostPath: { path: '/' } }], containers: [app({ privileged: true, capabilities: { add: ['NET_ADMIN'] }, procMount: 'Unmasked' })] }),
    namespace: PSA_RESTRICTED,
    warnings: [
      ['privileged-container', 'because it is privileged'],
      ['kept-requested-privileges', 'is privileged and keeps'],
      ...Array.from({ length: 5 }, () => ['pod-security-will-refuse', 'Pod Security "restricted:latest" (namespace "payments") will refuse this Pod: '] as const),
      ['pod-security-will-refuse', 'Pod Security "restricted:latest" will also refuse it for'],
    ],
  }],
  ["an unreadable PSA label (a note on how it was read, counted as other)", { pod: podOf({ volumes: [NFS_VOLUME], containers: [app({})] }), namespace: PSA_UNREADABLE, warnings: [
    ['other', 'label pod-security.kubernetes.io/enforce: "strict" is not privileged, baseline or restricted'],
    ['pod-security-will-refuse', 'will refuse this Pod'],
  ] }],
  ['a malformed namespace range annotation', { pod: podOf({ containers: [app({})] }), policy: ALLOCATING, namespace: namespace('tenant', {}, { 'secure-defaults.io/uid-range': '0-9' }), warnings: [
    ['namespace-range-annotation-ignored', 'annotation secure-defaults.io/uid-range ignored'],
    ['namespace-range-annotation-ignored', 'using spec.fallback 100000-165535 instead'],
  ] }],
  ['a range annotation without spec.allocation', { pod: podOf({ containers: [app({})] }), namespace: namespace('tenant', {}, { 'secure-defaults.io/uid-range': '1000000-1009999' }), warnings: [
    ['namespace-range-annotation-ignored', 'has no spec.allocation'],
    ['namespace-range-annotation-ignored', 'using spec.fallback'],
  ] }],
  ['a securityContext that is not an object', { pod: podOf({ containers: [app('not an object')] }), warnings: [
    ['unreadable-pod-field', 'spec.containers[0].securityContext is not an object; that container was not hardened'],
  ] }],
  ['a container that is not an object', { pod: podOf({ containers: ['x', app({})] }), warnings: [
    ['unreadable-pod-field', 'spec.containers[0] is not an object'],
  ] }],
  ['a container list that is not a list', { pod: podOf({ containers: [app({})], initContainers: 'x' }), warnings: [
    ['unreadable-pod-field', 'spec.initContainers is not a list'],
  ] }],
  ['capabilities that are not an object, and a drop that is not a list', { pod: podOf({ containers: [app({ capabilities: 'x' }, 'a'), app({ capabilities: { drop: 'ALL' } }, 'b')] }), warnings: [
    ['unreadable-pod-field', 'spec.containers[0].securityContext.capabilities is not an object'],
    ['unreadable-pod-field', 'spec.containers[1].securityContext.capabilities.drop is not a list'],
  ] }],
  ['a pod securityContext that is not an object', { pod: podOf({ securityContext: 'x', containers: [app({})] }), warnings: [
    ['unreadable-pod-field', 'spec.securityContext is not an object; no pod-level defaults were added'],
  ] }],
  ['a spec that is not an object', { pod: { metadata: { name: 'p' }, spec: 'x' }, warnings: [['unreadable-pod-field', 'spec is not an object; nothing was hardened']] }],
  ['metadata that is not an object', { pod: { metadata: 'x', spec: { containers: [app({})] } }, warnings: [['unreadable-pod-field', 'metadata is not an object; the secure-defaults.io/injected annotation was not added']] }],
  ['annotations that are not an object', { pod: podOf({ containers: [app({})] }, { annotations: 'x' }), warnings: [['unreadable-pod-field', 'metadata.annotations is not an object']] }],
  ['an injected annotation in an unknown format', { pod: podOf({ containers: [app({})] }, { annotations: { 'secure-defaults.io/injected': 7 } }), warnings: [
    ['unreadable-pod-field', 'metadata.annotations.secure-defaults.io/injected was not in the expected format and was replaced'],
  ] }],
  ['an object that is not a Pod at all', { pod: 'x', warnings: [['unreadable-pod-field', 'the admitted object is not a JSON object']] }],
];

function decide(fixture: Fixture): AdmissionDecision {
  return decideAdmission({ policy: fixture.policy ?? FILL, namespace: fixture.namespace ?? namespace('payments'), pod: fixture.pod, target: fixture.target ?? 'pod' });
}

describe('the reason of each warning the engine writes', () => {
  it.each(FIXTURES)('%s', (_name, fixture) => {
    const decision = decide(fixture);
    expect(decision.warningReasons.map((reason, i) => [reason, decision.warnings[i]])).toEqual(
      fixture.warnings.map(([reason, phrase]) => [reason, expect.stringContaining(phrase)]),
    );
  });

  it('the fixtures cover every reason the engine gives (not-judged is the webhook\'s own)', () => {
    const given = new Set(FIXTURES.flatMap(([, fixture]) => decide(fixture).warningReasons));
    expect([...given].sort()).toEqual(WARNING_REASONS.filter((reason) => reason !== 'not-judged').sort());
  });

  it('a denial carries the reasons of its warnings too', () => {
    const decision = decideAdmission({
      policy: policyWith('  mode: enforce\n'),
      namespace: namespace('payments'),
      pod: podOf({ containers: [app({ runAsUser: 0 }), app({}, 'b')] }),
      target: 'pod',
    });
    expect(decision.allowed).toBe(false);
    expect(decision.warningReasons).toEqual(['container-runs-as-root', 'kept-requested-privileges']);
    expect(decision.warnings).toHaveLength(2);
  });
});

describe('the reason of each warning the webhook writes itself', () => {
  it('a request that could not be judged, admitted unhardened (failure policy open)', () => {
    const { response, warningReasons } = unableToJudge('u', 'open', 503, 'no valid policy has been loaded yet');
    expect(response.warnings).toEqual(['secure-defaults did not harden this request: no valid policy has been loaded yet']);
    expect(warningReasons).toEqual(['not-judged']);
  });

  it('a request refused because it could not be judged has no warnings to count', () => {
    expect(unableToJudge('u', 'closed', 503, 'no valid policy has been loaded yet')).toMatchObject({ response: { allowed: false }, warningReasons: [] });
  });

  const ref = { namespace: 'secure-defaults', name: 'policy' };
  const configMapRequest = (operation: string, object: unknown): AdmissionRequest => ({
    uid: 'c',
    kind: { group: '', version: 'v1', kind: 'ConfigMap' },
    resource: { group: '', version: 'v1', resource: 'configmaps' },
    subResource: '',
    namespace: ref.namespace,
    name: ref.name,
    operation,
    object,
    oldObject: null,
    dryRun: false,
    username: 'u',
  });

  it("the policy ConfigMap's notes on a valid policy, and its deletion, are counted as other", async () => {
    const text = 'apiVersion: secure-defaults.io/v1alpha1\nkind: SecureDefaultsPolicy\nmetadata: { name: p }\nspec:\n  defaults: { runAsNonRoot: false }\n';
    const deps = { configMap: ref, parsePolicy, failurePolicy: 'open' as const };
    const reviewed = await reviewPolicyConfigMap(configMapRequest('UPDATE', { data: { 'policy.yaml': text } }), deps);
    expect(reviewed.response.warnings?.length).toBeGreaterThan(0);
    expect(reviewed.warningReasons).toEqual(reviewed.response.warnings?.map(() => 'other'));
    const deleted = await reviewPolicyConfigMap(configMapRequest('DELETE', null), deps);
    expect(deleted.response.warnings).toEqual([expect.stringContaining('deleting ConfigMap secure-defaults/policy')]);
    expect(deleted.warningReasons).toEqual(['other']);
  });
});

describe('warnings and their reasons stay paired', () => {
  const policies = [FILL, WARN, USER_NAMESPACES, ALLOCATING, policyWith('  mode: enforce\n'), policyWith('  defaults:\n    keepRequestedPrivileges: false\n')];
  const namespaces = [namespace('payments'), PSA_RESTRICTED, PSA_UNREADABLE, namespace('tenant', {}, { 'secure-defaults.io/uid-range': '0-9' })];
  // Generated Pods, some with one field broken, so that the unreadable-field warnings come too.
  const broken = fc.constantFrom<unknown>(undefined, 'x', 5, [], null);
  const pods = fc.tuple(podArbitrary({ windows: true, node: true }), broken, fc.nat(5)).map(([pod, value, where]) => {
    if (value === undefined) return pod;
    const copy = structuredClone(pod) as { metadata: Json; spec: Json & { containers: Json[] } };
    if (where === 0) copy.metadata = value as Json;
    if (where === 1) copy.metadata['annotations'] = value;
    if (where === 2) copy.spec['securityContext'] = value;
    if (where === 3) copy.spec.containers[0]!['securityContext'] = value;
    if (where === 4) copy.spec.containers[0]!['securityContext'] = { capabilities: value };
    if (where === 5) copy.spec['initContainers'] = value;
    return copy;
  });

  it('one reason per warning, and after the answer cuts them each kept warning keeps its own', () => {
    fc.assert(
      fc.property(pods, fc.nat(policies.length - 1), fc.nat(namespaces.length - 1), fc.constantFrom<AdmissionTarget>('pod', 'ephemeralContainers'), (pod, p, n, target) => {
        const decision = decideAdmission({ policy: policies[p]!, namespace: namespaces[n]!, pod, target });
        expect(decision.warningReasons).toHaveLength(decision.warnings.length);
        expect(pairedAfterBounding(decision.warnings, decision.warningReasons)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('bounding keeps each warning with its reason: empty ones dropped, long ones cut, the rest counted as "other"', () => {
    const text = fc.oneof(fc.constant(''), fc.string({ maxLength: 40 }), fc.string({ minLength: 1, maxLength: 3 }).map((s) => s.repeat(900)));
    const warnings = fc.array(fc.tuple(fc.constantFrom(...WARNING_REASONS), text), { maxLength: 60 });
    fc.assert(
      fc.property(warnings, (pairs) => {
        expect(pairedAfterBounding(pairs.map(([, t]) => t), pairs.map(([r]) => r))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

/**
 * boundWarnings keeps the non-empty warnings in order, each cut to MAX_WARNING_CHARS, and may end
 * with one line counting those it left out: every kept text must sit beside its own reason.
 */
function pairedAfterBounding(texts: readonly string[], reasons: readonly WarningReason[]): boolean {
  const bounded = boundWarnings({ texts, reasons });
  const kept = texts.flatMap((t, i) => (t.length > 0 ? [{ text: t, reason: reasons[i]! }] : []));
  if (bounded.texts.length !== bounded.reasons.length) return false;
  const summed = bounded.texts.length > 0 && bounded.texts.length - 1 < kept.length && /^and \d+ more warnings? like these$/.test(bounded.texts.at(-1)!);
  const whole = summed ? bounded.texts.length - 1 : bounded.texts.length;
  if (!summed && whole !== kept.length) return false;
  if (summed && bounded.texts.at(-1)!.split(' ')[1] !== String(kept.length - whole)) return false;
  for (let i = 0; i < whole; i++) {
    if (!bounded.texts[i]!.startsWith(kept[i]!.text.slice(0, MAX_WARNING_CHARS))) return false;
    if (bounded.reasons[i] !== kept[i]!.reason) return false;
  }
  return !summed || bounded.reasons.at(-1) === 'other';
}
