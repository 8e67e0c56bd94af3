// Invariants of decideAdmission over generated Pods.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decideAdmission, type AdmissionDecision, type CompiledPolicy, type Operation } from '../../src/engine/index.js';
import { refusedCombinations } from './api-server-rules.js';
import { applyPatch, deepClone, namespace, policyWith } from './engine-fixtures.js';
import { changedLeaves } from './json-leaves.js';
import { brokenPromises } from './never-break.js';
import { checkOwnPatch, INJECTED_POINTER } from './own-patch.js';
import { podArbitrary } from './pod-generators.js';

type Json = Record<string, unknown>;

const RANGE = { min: 10000, max: 19999 };
const POLICIES: [string, CompiledPolicy][] = [
  ['fill', policyWith()],
  ['fill, readOnlyRootFilesystem, opt-out allowed', policyWith('  allowPodOptOut: true\n  defaults:\n    readOnlyRootFilesystem: true\n')],
  ['enforce', policyWith('  mode: enforce\n')],
];

function decide(policy: CompiledPolicy, pod: unknown, target: 'pod' | 'ephemeralContainers' = 'pod'): AdmissionDecision {
  return decideAdmission({ policy, namespace: namespace('payments'), pod, target });
}

function patchOf(decision: AdmissionDecision): readonly Operation[] {
  return decision.allowed ? decision.patch : [];
}

function idsOf(spec: Json): [string, unknown][] {
  const psc = (spec['securityContext'] as Json | undefined) ?? {};
  const found: [string, unknown][] = [['pod.runAsUser', psc['runAsUser']], ['pod.runAsGroup', psc['runAsGroup']], ['pod.fsGroup', psc['fsGroup']]];
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    for (const c of (spec[list] as Json[] | undefined) ?? []) {
      const sc = (c['securityContext'] as Json | null | undefined) ?? {};
      found.push([`${String(c['name'])}.runAsUser`, sc['runAsUser']], [`${String(c['name'])}.runAsGroup`, sc['runAsGroup']]);
    }
  }
  return found;
}

describe.each(POLICIES)('decideAdmission invariants (%s)', (_label, policy) => {
  const pods = podArbitrary({ windows: true });

  it('never modifies its input; its patch applies to the raw Pod and touches only the paths it reports', () => {
    fc.assert(
      fc.property(pods, (pod) => {
        const before = deepClone(pod);
        const decision = decide(policy, pod);
        expect(pod).toEqual(before);
        if (!decision.allowed) return;
        expect(checkOwnPatch(pod, decision).problems).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(pods, (pod) => {
        const decision = decide(policy, pod);
        if (!decision.allowed) return;
        const again = decide(policy, applyPatch(pod, decision.patch));
        expect(again.allowed).toBe(true);
        expect(patchOf(again)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('never changes a value the Pod set (only the injected annotation may grow)', () => {
    fc.assert(
      fc.property(pods, (pod) => {
        const out = applyPatch(pod, patchOf(decide(policy, pod)));
        expect(changedLeaves(pod, out, (pointer) => pointer === INJECTED_POINTER)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('never adds a combination the API server or kubelet would refuse', () => {
    fc.assert(
      fc.property(pods, (pod) => {
        const out = applyPatch(pod, patchOf(decide(policy, pod)));
        const before = refusedCombinations(pod['spec'], (pod['metadata'] as Json)['annotations']);
        const after = refusedCombinations(out['spec'], (out['metadata'] as Json)['annotations']);
        expect(after.filter((problem) => !before.includes(problem))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves Windows Pods completely unchanged', () => {
    fc.assert(
      fc.property(pods, (pod) => {
        const spec = pod['spec'] as Json;
        const isWindows = (spec['os'] as Json | undefined)?.['name'] === 'windows' || (spec['nodeSelector'] as Json | undefined)?.['kubernetes.io/os'] === 'windows';
        fc.pre(isWindows);
        expect(patchOf(decide(policy, pod))).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it('decides a Pod not pinned to Windows the same with or without windowsOptions (not hostProcess) added anywhere', () => {
    const options = fc.constantFrom<unknown>({}, { runAsUserName: 'ContainerUser' }, { hostProcess: false }, { gmsaCredentialSpec: 'x' }, null);
    fc.assert(
      fc.property(podArbitrary(), options, fc.nat(6), (pod, windowsOptions, where) => {
        const marked = deepClone(pod);
        const spec = marked['spec'] as Json;
        const containers = spec['containers'] as Json[];
        const target: Json = where === 0 ? spec : containers[where % containers.length]!;
        const sc = target['securityContext'];
        // Only where the securityContext is a map (or unset): garbage stays garbage.
        fc.pre(sc === undefined || sc === null || (typeof sc === 'object' && !Array.isArray(sc)));
        target['securityContext'] = { ...((sc as Json | null | undefined) ?? {}), windowsOptions };
        const plain = decide(policy, pod);
        const withOptions = decide(policy, marked);
        expect(withOptions.allowed).toBe(plain.allowed);
        if (plain.allowed && withOptions.allowed) {
          expect(withOptions.skipped).toBe(plain.skipped);
          expect(withOptions.injected).toEqual(plain.injected);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('injects only UIDs and GIDs inside the namespace range', () => {
    fc.assert(
      fc.property(pods, (pod) => {
        const out = applyPatch(pod, patchOf(decide(policy, pod)));
        const before = new Map(idsOf(pod['spec'] as Json));
        for (const [where, id] of idsOf(out['spec'] as Json)) {
          if (id === undefined || before.get(where) === id) continue;
          expect([where, typeof id === 'number' && id >= RANGE.min && id <= RANGE.max]).toEqual([where, true]);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe.each(POLICIES)('decideAdmission never breaks a workload (%s)', (_label, policy) => {
  it('keeps the identity of privileged and node-using containers, and the capabilities of root ones', () => {
    fc.assert(
      fc.property(podArbitrary({ node: true }), (pod) => {
        const decision = decide(policy, pod);
        const out = applyPatch(pod, patchOf(decision));
        expect(brokenPromises(pod['spec'], out['spec'])).toEqual([]);
        // Idempotent here too: identity moved per container is not moved again.
        if (decision.allowed) expect(patchOf(decide(policy, out))).toEqual([]);
        // Every container that kept something is named in a warning (past five per warning, counted).
        const leftOut = decision.leftOut ?? [];
        if (leftOut.length <= 5) for (const kept of leftOut) expect(decision.warnings.join('\n')).toContain(`"${kept.container}"`);
      }),
      { numRuns: 400 },
    );
  });

  it('also for the ephemeral containers `kubectl debug` adds', () => {
    fc.assert(
      fc.property(podArbitrary({ node: true }), (pod) => {
        const out = applyPatch(pod, patchOf(decide(policy, pod, 'ephemeralContainers')));
        expect(brokenPromises(pod['spec'], out['spec'])).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('the oracle does catch the old behaviour (keepRequestedPrivileges: false)', () => {
    const legacy = policyWith('  defaults:\n    keepRequestedPrivileges: false\n');
    const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'agent', securityContext: { privileged: true } }] } };
    expect(brokenPromises(pod.spec, applyPatch(pod, patchOf(decide(legacy, pod))).spec)).not.toEqual([]);
  });
});

describe('decideAdmission invariants, target ephemeralContainers', () => {
  it('only touches ephemeral containers not present before, and is idempotent', () => {
    fc.assert(
      fc.property(podArbitrary(), fc.nat(3), (pod, keep) => {
        const spec = pod['spec'] as Json;
        const ephemeral = (spec['ephemeralContainers'] as Json[] | undefined) ?? [];
        const oldPod = { ...pod, spec: { ...spec, ephemeralContainers: ephemeral.slice(0, Math.min(keep, ephemeral.length)) } };
        const decision = decideAdmission({ policy: policyWith(), namespace: namespace(), pod, target: 'ephemeralContainers', oldPod });
        const patch = patchOf(decision);
        const kept = Math.min(keep, ephemeral.length);
        for (const op of patch) {
          const match = /^\/spec\/ephemeralContainers\/(\d+)\//.exec(op.path);
          expect(match !== null && Number(match[1]) >= kept).toBe(true);
        }
        const out = applyPatch(pod, patch);
        expect(patchOf(decideAdmission({ policy: policyWith(), namespace: namespace(), pod: out, target: 'ephemeralContainers', oldPod }))).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
