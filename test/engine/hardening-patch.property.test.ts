// decideAdmission derives its patch only along the members the hardener replaces (diffAlong), not
// by walking the whole Pod. These properties pin that shortcut to the full answer: applied to the
// input, the patch gives exactly hardenPodLike's copy, which diffCopyOnWrite reaches too, and it
// touches only the paths the decision reports.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { diffAlong, diffCopyOnWrite } from '../../src/engine/additions-patch.js';
import { decideAdmission, hardenPodLike } from '../../src/engine/admission-decision.js';
import type { Operation } from '../../src/engine/model.js';
import { applyPatch, namespace, policyWith } from './engine-fixtures.js';
import { checkOwnPatch } from './own-patch.js';
import { podArbitrary } from './pod-generators.js';

type Json = Record<string, unknown>;

const policies = [policyWith(), policyWith('  allowPodOptOut: true\n  defaults:\n    readOnlyRootFilesystem: true\n'), policyWith('  mode: enforce\n')];

// The shapes where an add becomes a replace or creates a parent: missing or null metadata,
// annotations and pod securityContext.
const reshaped = fc
  .tuple(podArbitrary({ windows: true }), fc.constantFrom('keep', 'no-metadata', 'null-metadata', 'null-annotations', 'no-annotations'), fc.constantFrom('keep', 'null-psc'))
  .map(([pod, metadata, psc]) => {
    const copy = JSON.parse(JSON.stringify(pod)) as Json;
    if (metadata === 'no-metadata') delete copy['metadata'];
    if (metadata === 'null-metadata') copy['metadata'] = null;
    if (metadata === 'null-annotations') (copy['metadata'] as Json)['annotations'] = null;
    if (metadata === 'no-annotations') delete (copy['metadata'] as Json)['annotations'];
    if (psc === 'null-psc') (copy['spec'] as Json)['securityContext'] = null;
    return copy;
  });

describe.each(policies.map((policy, i) => [i, policy] as const))('the targeted patch (policy %i)', (_i, policy) => {
  it.each(['pod', 'ephemeralContainers'] as const)('applied to the input gives the hardened copy, like the full diff, touching only what it reports (%s)', (target) => {
    fc.assert(
      fc.property(reshaped, (pod) => {
        const decision = decideAdmission({ policy, namespace: namespace('payments'), pod, target });
        const outcome = hardenPodLike(pod, { policy, namespace: namespace('payments'), target, basePath: '', existingEphemeralNames: new Set() });
        const hardened = JSON.parse(JSON.stringify(outcome.object)) as Json;
        if (!decision.allowed) return;
        const verdict = checkOwnPatch(pod, decision, target === 'pod');
        expect(verdict.problems).toEqual([]);
        expect(verdict.out).toEqual(hardened);
        expect(applyPatch(pod, diffCopyOnWrite(pod, outcome.object))).toEqual(hardened);
        // Only adds and replaces of securityContext/annotation members: nothing else is touched.
        for (const operation of decision.patch) expect(operation.op === 'add' || operation.op === 'replace').toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('diffAlong', () => {
  const shared = { untouched: true };
  it.each([
    ['a member added at the end of the path', { spec: { shared } }, { spec: { shared, sc: { a: 1 } } }, ['spec', 'sc'], [{ op: 'add', path: '/spec/sc', value: { a: 1 } }]],
    ['a parent created on the way', { shared }, { shared, metadata: { annotations: { x: 'y' } } }, ['metadata', 'annotations'], [{ op: 'add', path: '/metadata', value: { annotations: { x: 'y' } } }]],
    ['null replaced on the way', { metadata: null }, { metadata: { annotations: {} } }, ['metadata', 'annotations'], [{ op: 'replace', path: '/metadata', value: { annotations: {} } }]],
    ['a list element', { c: [shared, { sc: {} }] }, { c: [shared, { sc: { a: 1 } }] }, ['c', 1, 'sc'], [{ op: 'add', path: '/c/1/sc/a', value: 1 }]],
    ['an unchanged path', { a: { b: shared } }, { a: { b: shared } }, ['a', 'b'], []],
    ['a key needing escapes', { m: { 'a/b': {} } }, { m: { 'a/b': { c: 1 } } }, ['m', 'a/b'], [{ op: 'add', path: '/m/a~1b/c', value: 1 }]],
  ])('%s', (_label, before, after, keys, expected) => {
    const operations: Operation[] = [];
    diffAlong(before, after, keys, operations);
    expect(operations).toEqual(expected);
  });
});
