import { describe, expect, it } from '@jest/globals';
import type { Operation } from '../../src/engine/index.js';
import { checkOwnPatch, INJECTED_POINTER } from './own-patch.js';

// The checker the property tests lean on must itself catch a patch that breaks its contract.
describe('checkOwnPatch', () => {
  const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'app', securityContext: { capabilities: { drop: ['NET_RAW'] } } }] } };
  const annotate: Operation = { op: 'add', path: '/metadata/annotations', value: { 'secure-defaults.io/injected': 'containers: runAsNonRoot (1)' } };
  const runAsNonRoot: Operation = { op: 'add', path: '/spec/containers/0/securityContext/runAsNonRoot', value: true };
  const decision = (patch: Operation[], injected: string[], warnings: string[] = []) => ({ patch, injected, warnings });

  it.each([
    ['a patch that keeps its contract', decision([annotate, runAsNonRoot], ['spec.containers[0].securityContext.runAsNonRoot']), []],
    [
      'a grown list it reports',
      decision(
        [{ ...annotate, value: { 'secure-defaults.io/injected': 'containers: capabilities.drop (1)' } }, { op: 'add', path: '/spec/containers/0/securityContext/capabilities/drop/1', value: 'ALL' }],
        ['spec.containers[0].securityContext.capabilities.drop'],
      ),
      [],
    ],
    ['a change it does not report', decision([annotate, runAsNonRoot, { op: 'add', path: '/spec/hostNetwork', value: false }], ['spec.containers[0].securityContext.runAsNonRoot']), ['/spec/hostNetwork changed but is not among the reported paths']],
    ['a path it reports but does not add', decision([annotate], ['spec.containers[0].securityContext.runAsNonRoot']), ['spec.containers[0].securityContext.runAsNonRoot is reported but not in the patched object']],
    ['a patch that does not apply to the raw object', decision([{ op: 'replace', path: '/spec/securityContext/runAsUser', value: 1 }], ['spec.securityContext.runAsUser']), [expect.stringMatching(/^the patch does not apply to the object as received/)]],
    [
      'an annotation that miscounts',
      decision([{ ...annotate, value: { 'secure-defaults.io/injected': 'containers: runAsNonRoot (2)' } }, runAsNonRoot], ['spec.containers[0].securityContext.runAsNonRoot']),
      [expect.stringMatching(/does not summarize the reported paths/)],
    ],
    ['injections without annotation or warning', decision([runAsNonRoot], ['spec.containers[0].securityContext.runAsNonRoot']), ['fields were injected, but there is no annotation and no warning saying why']],
  ])('%s', (_label, given, problems) => {
    expect(checkOwnPatch(pod, given).problems).toEqual(problems);
  });

  it.each([
    ['a removal it reports', { patch: [{ op: 'remove', path: '/spec/securityContext/runAsUser' }, { op: 'add', path: '/spec/containers/0/securityContext/runAsUser', value: 10 }], removed: ['spec.securityContext.runAsUser'] }, []],
    ['a removal it does not report', { patch: [{ op: 'remove', path: '/spec/securityContext/runAsUser' }, { op: 'add', path: '/spec/containers/0/securityContext/runAsUser', value: 10 }], removed: [] }, ['/spec/securityContext changed but is not among the reported paths', '/spec/securityContext/runAsUser was removed but is not among the reported removed paths']],
    ['a removal it reports but does not make', { patch: [{ op: 'add', path: '/spec/containers/0/securityContext/runAsUser', value: 10 }], removed: ['spec.securityContext.runAsUser'] }, ['/spec/securityContext/runAsUser is reported as removed but is still set']],
  ] as const)('reinvocation: %s', (_label, { patch, removed }, problems) => {
    const hardened = { metadata: { name: 'p', annotations: { 'secure-defaults.io/injected': 'pod: runAsUser' } }, spec: { securityContext: { runAsUser: 10 }, containers: [{ name: 'app', securityContext: {} }] } };
    const given = { patch: [...patch] as Operation[], injected: ['spec.containers[0].securityContext.runAsUser'], removed: [...removed], warnings: [] };
    expect(checkOwnPatch(hardened, given).problems).toEqual(problems);
  });

  it('refuses an annotation in a review that cannot change metadata', () => {
    const given = decision([annotate, runAsNonRoot], ['spec.containers[0].securityContext.runAsNonRoot']);
    expect(checkOwnPatch(pod, given, false).problems).toEqual([`${INJECTED_POINTER} changed but is not among the reported paths`, 'the annotation changed in a review that cannot change metadata']);
  });
});
