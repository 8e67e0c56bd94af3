// Invariants of reinvocation over generated Pods: our first call hardens a Pod, a later webhook
// adds a sidecar (privileged, root, adding capabilities, mounting the node, or plain), and we are
// called again. And of a first call on a Pod whose author wrote our annotation, claiming its own
// Pod-level values as ours.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decideAdmission, INJECTED_ANNOTATION, type AdmissionDecision, type CompiledPolicy } from '../../src/engine/index.js';
import { applyPatch, deepClone, namespace, policyWith } from './engine-fixtures.js';
import { changedLeaves } from './json-leaves.js';
import { brokenPromises } from './never-break.js';
import { checkOwnPatch, INJECTED_POINTER } from './own-patch.js';
import { podArbitrary } from './pod-generators.js';

type Json = Record<string, unknown>;

const POLICIES: [string, CompiledPolicy][] = [
  ['fill', policyWith()],
  ['warn, readOnlyRootFilesystem', policyWith('  mode: warn\n  defaults:\n    readOnlyRootFilesystem: true\n')],
  ['enforce', policyWith('  mode: enforce\n')],
  ['fill, keepRequestedPrivileges: false', policyWith('  defaults:\n    keepRequestedPrivileges: false\n')],
];

/** What the policies above inject at Pod level (the "payments" rule). */
const POLICY_VALUES: Json = { runAsUser: 10000, runAsGroup: 10000, runAsNonRoot: true };

const sidecarSecurityContext = fc.record(
  {
    privileged: fc.boolean(),
    runAsUser: fc.constantFrom(0, 1337, 10000),
    runAsNonRoot: fc.boolean(),
    capabilities: fc.constantFrom<Json>({ add: ['NET_ADMIN'] }, { add: ['NET_BIND_SERVICE'] }, { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] }, { add: ['SYS_ADMIN'] }),
    allowPrivilegeEscalation: fc.boolean(),
  },
  { requiredKeys: [] },
);

/** A later webhook's change: one container appended to a list, maybe mounting the Pod's hostPath volume. */
const sidecarChange = fc.record({
  securityContext: fc.option(sidecarSecurityContext, { nil: undefined }),
  mountsHost: fc.boolean(),
  list: fc.constantFrom('containers', 'initContainers'),
});

type SidecarChange = { securityContext: Json | undefined; mountsHost: boolean; list: string };

function withSidecar(pod: Json, change: SidecarChange): Json {
  const copy = deepClone(pod);
  const spec = copy['spec'] as Json;
  const sidecar: Json = { name: 'zz-sidecar', image: 'registry.example/mesh:1' };
  if (change.securityContext !== undefined) sidecar['securityContext'] = change.securityContext;
  // podArbitrary({ node: true }) always has the hostPath volume "host".
  if (change.mountsHost) sidecar['volumeMounts'] = [{ name: 'host', mountPath: '/host' }];
  spec[change.list] = [...((spec[change.list] as Json[] | undefined) ?? []), sidecar];
  return copy;
}

function decide(policy: CompiledPolicy, pod: unknown): AdmissionDecision {
  return decideAdmission({ policy, namespace: namespace('payments'), pod, target: 'pod' });
}

interface Reinvocation {
  /** What the author and the later webhook wrote: the Pod with the sidecar, without our first call. */
  readonly asked: Json;
  /** The second call's input: our first call's answer with the sidecar. */
  readonly input: Json;
  readonly decision: AdmissionDecision;
}

function reinvoke(policy: CompiledPolicy, pod: Json, change: SidecarChange): Reinvocation | null {
  const first = decide(policy, pod);
  // Enforce mode refuses some Pods on the first call: there is nothing to reinvoke.
  if (!first.allowed) return null;
  const input = withSidecar(applyPatch(pod, first.patch), change);
  return { asked: withSidecar(pod, change), input, decision: decide(policy, input) };
}

const pods = podArbitrary({ node: true });

describe.each(POLICIES)('reinvocation after a later webhook added a sidecar (%s)', (_label, policy) => {
  it('the second call\'s patch applies and touches only what it reports; a third call changes nothing', () => {
    fc.assert(
      fc.property(pods, sidecarChange, (pod, change) => {
        const run = reinvoke(policy, pod, change);
        if (run === null || !run.decision.allowed) return;
        const { out, problems } = checkOwnPatch(run.input, run.decision);
        expect(problems).toEqual([]);
        const third = decide(policy, out);
        expect(third.allowed).toBe(true);
        expect(third.allowed ? third.patch : []).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('never changes a value the author or the later webhook set (only the injected annotation may change)', () => {
    fc.assert(
      fc.property(pods, sidecarChange, (pod, change) => {
        const run = reinvoke(policy, pod, change);
        if (run === null || !run.decision.allowed) return;
        const out = applyPatch(run.input, run.decision.patch);
        expect(changedLeaves(run.asked, out, (pointer) => pointer === INJECTED_POINTER)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  // keepRequestedPrivileges: false turns the never-break rules off.
  (policy.defaults.keepRequestedPrivileges === false ? it.skip : it)('the independent never-break oracle agrees, judged on what was asked for', () => {
    fc.assert(
      fc.property(pods, sidecarChange, (pod, change) => {
        const run = reinvoke(policy, pod, change);
        if (run === null || !run.decision.allowed) return;
        const out = applyPatch(run.input, run.decision.patch);
        expect(brokenPromises(run.input['spec'], out['spec'], run.asked['spec'])).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the oracle catches the gap this closes', () => {
  it('judged on what was asked for, a privileged sidecar that inherits our Pod-level IDs is a broken promise', () => {
    const pod: Json = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'app', image: 'x' }] } };
    const change = { securityContext: { privileged: true }, mountsHost: false, list: 'containers' };
    const first = decide(policyWith(), pod);
    if (!first.allowed) throw new Error('fill mode admits it');
    // The second call skipped: what the Pod would run with had the webhook not been reinvoked.
    const unreinvoked = withSidecar(applyPatch(pod, first.patch), change);
    expect(brokenPromises(unreinvoked['spec'], unreinvoked['spec'], withSidecar(pod, change)['spec'])).toEqual([
      'containers[1] (privileged): effective runAsUser changed from undefined to 10000',
      'containers[1] (privileged): effective runAsGroup changed from undefined to 10000',
      'containers[1] (privileged): effective runAsNonRoot changed from undefined to true',
    ]);
  });
});

const claims = fc.subarray(['runAsUser', 'runAsGroup', 'runAsNonRoot']);

const IDENTITY = ['runAsUser', 'runAsGroup', 'runAsNonRoot'];

/** Per container: its securityContext without identity fields, and its effective identity (own, else the Pod's). */
function whatContainersRunWith(spec: Json): Json {
  const psc = (spec['securityContext'] as Json | undefined) ?? {};
  const seen: Json = { pod: Object.fromEntries(Object.entries(psc).filter(([key]) => !IDENTITY.includes(key))) };
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    ((spec[list] as Json[] | undefined) ?? []).forEach((container, index) => {
      const raw = container['securityContext'];
      const sc: Json = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Json) : {};
      seen[`${list}[${index}]`] = {
        rest: typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? Object.fromEntries(Object.entries(sc).filter(([key]) => !IDENTITY.includes(key))) : raw,
        effective: Object.fromEntries(IDENTITY.map((field) => [field, sc[field] ?? psc[field]])),
      };
    });
  }
  return seen;
}

describe.each(POLICIES)('an injected annotation the Pod\'s author wrote, claiming Pod-level values as ours (%s)', (_label, policy) => {
  /** A generated Pod with some Pod-level fields set to the policy's own values and an annotation claiming some fields. */
  const forgedPods = fc.tuple(pods, claims, claims).map(([pod, claimed, setToPolicyValue]) => {
    const copy = deepClone(pod);
    const spec = copy['spec'] as Json;
    const psc = { ...((spec['securityContext'] as Json | undefined) ?? {}) };
    for (const field of setToPolicyValue) psc[field] = POLICY_VALUES[field];
    spec['securityContext'] = psc;
    const metadata = copy['metadata'] as Json;
    metadata['annotations'] = { ...((metadata['annotations'] as Json | undefined) ?? {}), [INJECTED_ANNOTATION]: `pod: ${['fsGroup', ...claimed].join(', ')}` };
    return { pod: copy, claimed };
  });

  it('gets the author no more than leaving the claimed fields out would: every container runs with the same settings', () => {
    fc.assert(
      fc.property(forgedPods, ({ pod, claimed }) => {
        const withoutClaims = deepClone(pod);
        const spec = withoutClaims['spec'] as Json;
        const psc = spec['securityContext'] as Json;
        for (const field of claimed) if (psc[field] === POLICY_VALUES[field]) delete psc[field];
        delete ((withoutClaims['metadata'] as Json)['annotations'] as Json)[INJECTED_ANNOTATION];
        const forged = decide(policy, pod);
        const plain = decide(policy, withoutClaims);
        expect(forged.allowed).toBe(plain.allowed);
        if (!forged.allowed || !plain.allowed) return;
        const forgedOut = applyPatch(pod, forged.patch)['spec'] as Json;
        const plainOut = applyPatch(withoutClaims, plain.patch)['spec'] as Json;
        expect(whatContainersRunWith(forgedOut)).toEqual(whatContainersRunWith(plainOut));
      }),
      { numRuns: 300 },
    );
  });

  it('changes no value the author set but a claimed Pod-level one that holds the policy\'s own value, and takes no value from a hardened container', () => {
    fc.assert(
      fc.property(forgedPods, ({ pod, claimed }) => {
        const decision = decide(policy, pod);
        if (!decision.allowed) return;
        const out = applyPatch(pod, decision.patch);
        const psc = (pod['spec'] as Json)['securityContext'] as Json;
        const movable = claimed.filter((field) => psc[field] === POLICY_VALUES[field] && !(field === 'runAsNonRoot' && !policy.defaults.runAsNonRoot));
        const pointers = new Set(movable.map((field) => `/spec/securityContext/${field}`));
        expect(changedLeaves(pod, out, (pointer) => pointer === INJECTED_POINTER || pointers.has(pointer))).toEqual([]);
        if (policy.defaults.keepRequestedPrivileges === false) return;
        // Judged as if the author had left the movable fields out, which they could have: a
        // container that keeps its image's user may lose them, every other keeps what reached it.
        const asked = deepClone(pod['spec'] as Json);
        const askedPsc = asked['securityContext'] as Json;
        for (const field of movable) delete askedPsc[field];
        expect(brokenPromises(pod['spec'], out['spec'], asked)).toEqual([]);
        const again = decide(policy, out);
        expect(again.allowed ? again.patch : []).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
