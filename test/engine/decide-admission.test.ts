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
    expect(decision.injected).toContain('spec.containers[0].securityContext.allowPrivilegeEscalation');
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

function containerSc(out: Json, name: string, list = 'containers'): Json | undefined {
  const containers = (out['spec'] as Json)[list] as Json[];
  return containers.find((c) => c['name'] === name)?.['securityContext'] as Json | undefined;
}

function podSc(out: Json): Json | undefined {
  return (out['spec'] as Json)['securityContext'] as Json | undefined;
}

describe('decideAdmission never changes what the Pod set', () => {
  it('keeps explicit pod-level IDs and adds fsGroupChangePolicy only beside an injected fsGroup', () => {
    const { out } = harden(pod({ securityContext: { runAsUser: 5, fsGroup: 7 }, containers: [{ name: 'app' }] }));
    expect(podSc(out)).toEqual({ runAsUser: 5, fsGroup: 7, runAsGroup: 10000, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  });

  it('keeps a container-level seccompProfile, runAsUser and allowPrivilegeEscalation: true', () => {
    const sc = { runAsUser: 4242, allowPrivilegeEscalation: true, seccompProfile: { type: 'Unconfined' } };
    const { out } = harden(pod({ containers: [{ name: 'app', securityContext: sc }] }));
    expect(containerSc(out, 'app')).toEqual({ ...sc, capabilities: { drop: ['ALL'] } });
  });

  it('grows an existing drop list and leaves the add list alone', () => {
    const { out } = harden(pod({ containers: [{ name: 'app', securityContext: { capabilities: { add: ['NET_BIND_SERVICE'], drop: ['NET_RAW'] } } }] }));
    expect(containerSc(out, 'app')?.['capabilities']).toEqual({ add: ['NET_BIND_SERVICE'], drop: ['NET_RAW', 'ALL'] });
  });

  it('keeps unknown fields untouched', () => {
    const input = pod({ futureField: { x: [1, 2] }, containers: [{ name: 'app', securityContext: { appArmorProfile: { type: 'RuntimeDefault' } }, extra: true }] });
    const { out } = harden(input);
    expect((out['spec'] as Json)['futureField']).toEqual({ x: [1, 2] });
    expect(((out['spec'] as Json)['containers'] as Json[])[0]?.['extra']).toBe(true);
    expect(containerSc(out, 'app')?.['appArmorProfile']).toEqual({ type: 'RuntimeDefault' });
  });

  it('treats securityContext: null as unset', () => {
    const { out } = harden(pod({ securityContext: null, containers: [{ name: 'app', securityContext: null }] }));
    expect(podSc(out)).toEqual(POD_DEFAULTS);
    expect(containerSc(out, 'app')).toEqual(RESTRICTED_CONTAINER);
  });
});

describe('decideAdmission leaves out defaults that would clash, and says why', () => {
  it.each([
    ['a container runs as UID 0', { runAsUser: 0 } as Json, /"root" runs as UID 0/, {}],
    ['a container sets runAsNonRoot: false', { runAsNonRoot: false } as Json, /"root" sets runAsNonRoot: false/, { capabilities: { drop: ['ALL'] } }],
  ])('no pod-level runAsNonRoot when %s; the other containers get it', (_label, rootSc, warning, capabilities) => {
    const { out, decision } = harden(pod({ containers: [{ name: 'root', securityContext: rootSc }, { name: 'app' }], initContainers: [{ name: 'init' }] }));
    expect(podSc(out)?.['runAsNonRoot']).toBeUndefined();
    // The container that caused the clash keeps exactly what it set.
    // (a container that runs as root by its own settings keeps its capabilities)
    expect(containerSc(out, 'root')).toEqual({ ...rootSc, allowPrivilegeEscalation: false, ...capabilities });
    expect(containerSc(out, 'app')?.['runAsNonRoot']).toBe(true);
    expect(containerSc(out, 'init', 'initContainers')?.['runAsNonRoot']).toBe(true);
    expect(decision.warnings.join('\n')).toMatch(warning);
  });

  it('no runAsNonRoot where the pod-level runAsUser is 0, except on a container with its own non-zero UID', () => {
    const { out } = harden(pod({ securityContext: { runAsUser: 0 }, containers: [{ name: 'inherits' }, { name: 'own', securityContext: { runAsUser: 1000 } }] }));
    expect(podSc(out)?.['runAsNonRoot']).toBeUndefined();
    expect(containerSc(out, 'inherits')?.['runAsNonRoot']).toBeUndefined();
    expect(containerSc(out, 'own')?.['runAsNonRoot']).toBe(true);
  });

  it('adds no per-container runAsNonRoot when the Pod set runAsNonRoot: false itself', () => {
    const { out } = harden(pod({ securityContext: { runAsNonRoot: false }, containers: [{ name: 'app' }] }));
    expect(containerSc(out, 'app')?.['runAsNonRoot']).toBeUndefined();
  });

  it.each([
    ['privileged', { privileged: true }, /privileged/],
    ['adding SYS_ADMIN', { capabilities: { add: ['SYS_ADMIN'] } }, /SYS_ADMIN/],
    ['adding CAP_SYS_ADMIN', { capabilities: { add: ['CAP_SYS_ADMIN'] } }, /SYS_ADMIN/],
  ])('no allowPrivilegeEscalation: false on a container %s', (_label, sc, warning) => {
    const { out, decision } = harden(pod({ containers: [{ name: 'app', securityContext: sc }] }));
    expect(containerSc(out, 'app')?.['allowPrivilegeEscalation']).toBeUndefined();
    expect(decision.warnings.join('\n')).toMatch(warning);
  });

  it('no pod-level seccompProfile when the legacy seccomp annotation is set', () => {
    const { out, decision } = harden(
      pod({ containers: [{ name: 'app' }] }, { name: 'p', annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' } }),
    );
    expect(podSc(out)?.['seccompProfile']).toBeUndefined();
    expect(decision.warnings.join('\n')).toMatch(/legacy annotation seccomp.security.alpha.kubernetes.io\/pod/);
  });
});

describe('decideAdmission follows the policy defaults', () => {
  it.each([
    ['readOnlyRootFilesystem on', '  defaults:\n    readOnlyRootFilesystem: true\n', 'app', { ...RESTRICTED_CONTAINER, readOnlyRootFilesystem: true }],
    ['allowPrivilegeEscalation None', '  defaults:\n    allowPrivilegeEscalation: None\n', 'app', { capabilities: { drop: ['ALL'] } }],
    ['extra capabilities', '  defaults:\n    dropCapabilities: [ALL, NET_RAW]\n', 'app', { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL', 'NET_RAW'] } }],
  ])('%s', (_label, specLines, name, expected) => {
    const { out } = harden(pod({ containers: [{ name }] }), policyWith(specLines));
    expect(containerSc(out, name)).toEqual(expected);
  });

  it.each([
    ['Localhost seccomp', '  defaults:\n    seccompProfile: {type: Localhost, localhostProfile: profiles/app.json}\n', 'seccompProfile', { type: 'Localhost', localhostProfile: 'profiles/app.json' }],
    ['seccomp None', '  defaults:\n    seccompProfile: None\n', 'seccompProfile', undefined],
    ['fsGroupChangePolicy Always', '  defaults:\n    fsGroupChangePolicy: Always\n', 'fsGroupChangePolicy', 'Always'],
    ['fsGroupChangePolicy None', '  defaults:\n    fsGroupChangePolicy: None\n', 'fsGroupChangePolicy', undefined],
    ['runAsNonRoot false', '  defaults:\n    runAsNonRoot: false\n', 'runAsNonRoot', undefined],
  ])('%s', (_label, specLines, field, expected) => {
    const { out } = harden(pod({ containers: [{ name: 'app' }] }), policyWith(specLines));
    expect(podSc(out)?.[field]).toEqual(expected);
  });

  it('adds no IDs when the namespace resolves to none, but the other defaults still apply', () => {
    const { out } = harden(pod({ containers: [{ name: 'app' }] }), policyWith('', { rules: false }), namespace('elsewhere'));
    expect(podSc(out)).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(containerSc(out, 'app')).toEqual(RESTRICTED_CONTAINER);
  });

  it('uses the namespace\'s allocated block when allocation is on, and warns when the annotation is unusable', () => {
    const policy = policyWith('  allocation:\n    range: "1000000000-1999999999"\n');
    const good = harden(pod({ containers: [{ name: 'app' }] }), policy, namespace('tenant', {}, { 'secure-defaults.io/uid-range': '1000010000-1000019999' }));
    expect(podSc(good.out)?.['runAsUser']).toBe(1000010000);
    const bad = harden(pod({ containers: [{ name: 'app' }] }), policy, namespace('tenant', {}, { 'secure-defaults.io/uid-range': 'lots' }));
    expect(podSc(bad.out)?.['runAsUser']).toBe(100000);
    expect(bad.decision.warnings.join('\n')).toMatch(/annotation secure-defaults.io\/uid-range ignored: "lots": expected "MIN-MAX"/);
  });

  // The fallback 100000-165535 is shared by every namespace without a block: a hand-set block in it
  // would share UIDs with all of them. One straddling the pool's edge is half outside the ledger.
  it.each([
    ['inside the fallback', { 'secure-defaults.io/uid-range': '100000-100010' }, /overlaps the uid range 100000-165535 of spec.fallback/],
    ['across the fallback end', { 'secure-defaults.io/uid-range': '165535-170000' }, /overlaps the uid range 100000-165535 of spec.fallback/],
    ['covering the fallback', { 'secure-defaults.io/uid-range': '50000-999999' }, /overlaps the uid range 100000-165535 of spec.fallback/],
    ['gid inside the fallback', { 'secure-defaults.io/uid-range': '500000-500999', 'secure-defaults.io/gid-range': '165000-165100' }, /gid-range "165000-165100" ignored: it overlaps the gid range/],
    ['across the pool start', { 'secure-defaults.io/uid-range': '999999000-1000000500' }, /reaches past the edge of the allocation pool 1000000000-1999999999/],
    ['across the pool end', { 'secure-defaults.io/uid-range': '1999999000-2000000500' }, /reaches past the edge of the allocation pool/],
  ])('refuses an annotated block %s, with a warning saying why', (_label, annotations, reason) => {
    const policy = policyWith('  allocation:\n    range: "1000000000-1999999999"\n');
    const { out, decision } = harden(pod({ containers: [{ name: 'app' }] }), policy, namespace('tenant', {}, annotations));
    expect(podSc(out)?.['runAsUser']).toBe(100000);
    expect(decision.warnings.join('\n')).toMatch(reason);
    expect(decision.warnings.join('\n')).toMatch(/using spec.fallback 100000-165535 instead/);
  });

  it.each([['500000-509999'], ['1000020000-1000029999'], ['99999-99999']])('honours an annotated block %s outside the fallback and rules', (range) => {
    const policy = policyWith('  allocation:\n    range: "1000000000-1999999999"\n');
    const { out, decision } = harden(pod({ containers: [{ name: 'app' }] }), policy, namespace('tenant', {}, { 'secure-defaults.io/uid-range': range }));
    expect(podSc(out)?.['runAsUser']).toBe(Number(range.split('-')[0]));
    expect(decision.warnings).toEqual([]);
  });
});

describe('decideAdmission leaves Windows Pods alone', () => {
  const affinity = (terms: Json[]) => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } });
  const windowsTerm = { matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['windows'] }] };
  it.each([
    ['spec.os.name', { os: { name: 'windows' } }],
    ['nodeSelector kubernetes.io/os', { nodeSelector: { 'kubernetes.io/os': 'windows' } }],
    ['nodeSelector beta.kubernetes.io/os', { nodeSelector: { 'beta.kubernetes.io/os': 'windows' } }],
    ['required node affinity', { affinity: affinity([windowsTerm]) }],
    ['pod-level HostProcess', { securityContext: { windowsOptions: { hostProcess: true, runAsUserName: 'NT AUTHORITY\\SYSTEM' } }, hostNetwork: true }],
  ])('%s', (_label, extra) => {
    const { decision } = harden(pod({ ...extra, containers: [{ name: 'app' }] }));
    expect(decision.patch).toEqual([]);
    expect(decision.skipped).toMatch(/^Windows Pod/);
  });

  it('a HostProcess container makes it a Windows Pod', () => {
    const { decision } = harden(pod({ hostNetwork: true, containers: [{ name: 'app', securityContext: { windowsOptions: { hostProcess: true } } }] }));
    expect(decision.skipped).toMatch(/containers "app" is a HostProcess container/);
  });

  // windowsOptions alone does not put a Pod on a Windows node: a Linux node ignores it.
  it.each([
    ['empty pod-level windowsOptions', { securityContext: { windowsOptions: {} } }, {}],
    ['pod-level runAsUserName', { securityContext: { windowsOptions: { runAsUserName: 'ContainerUser' } } }, {}],
    ['hostProcess false', { securityContext: { windowsOptions: { hostProcess: false } } }, {}],
    ['empty container windowsOptions', {}, { securityContext: { windowsOptions: {} } }],
    ['container gmsa', {}, { securityContext: { windowsOptions: { gmsaCredentialSpecName: 'x' } } }],
    ['container windowsOptions null', {}, { securityContext: { windowsOptions: null } }],
  ])('hardens a Linux Pod with %s exactly as without it', (_label, podExtra, containerExtra) => {
    const plain = harden(pod({ containers: [{ name: 'app' }, { name: 'side' }] })).decision;
    const marked = harden(pod({ ...podExtra, containers: [{ name: 'app', ...containerExtra }, { name: 'side' }] })).decision;
    expect(marked.skipped).toBeUndefined();
    expect(marked.injected).toEqual(plain.injected);
    expect(marked.injected).toContain('spec.securityContext.runAsUser');
  });

  it.each([
    ['one affinity term allows Linux', { affinity: affinity([windowsTerm, { matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] }]) }],
    ['In lists windows and linux', { affinity: affinity([{ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['windows', 'linux'] }] }]) }],
    ['NotIn windows', { affinity: affinity([{ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'NotIn', values: ['windows'] }] }]) }],
    ['os linux', { os: { name: 'linux' } }],
  ])('is hardened when it is not pinned to Windows: %s', (_label, extra) => {
    const { decision } = harden(pod({ ...extra, containers: [{ name: 'app' }] }));
    expect(decision.skipped).toBeUndefined();
    expect(decision.patch.length).toBeGreaterThan(0);
  });
});

describe('decideAdmission and the opt-out annotation', () => {
  const optedOut = () => pod({ containers: [{ name: 'app' }] }, { name: 'p', annotations: { 'secure-defaults.io/skip': 'true' } });
  it('skips the Pod when the policy allows opt-out', () => {
    const { decision } = harden(optedOut(), policyWith('  allowPodOptOut: true\n'));
    expect(decision.patch).toEqual([]);
    expect(decision.skipped).toMatch(/secure-defaults.io\/skip/);
  });
  it('hardens the Pod and warns that the annotation is ignored when opt-out is not allowed', () => {
    const { decision } = harden(optedOut());
    expect(decision.patch.length).toBeGreaterThan(0);
    expect(decision.warnings.join('\n')).toMatch(/secure-defaults.io\/skip: "true" is ignored/);
  });
});

describe('decideAdmission: the injected annotation and patch paths', () => {
  it('adds the whole metadata object when the Pod has none', () => {
    const input: Json = { apiVersion: 'v1', kind: 'Pod', spec: { containers: [{ name: 'app' }] } };
    const { decision } = harden(input);
    expect(decision.patch.find((op) => op.path === '/metadata')).toMatchObject({ op: 'add', value: { annotations: {} } });
  });

  it('escapes "/" in the annotation key as ~1 when annotations exist', () => {
    const { decision } = harden(pod({ containers: [{ name: 'app' }] }, { name: 'p', annotations: { team: 'a' } }));
    expect(decision.patch.map((op) => op.path)).toContain('/metadata/annotations/secure-defaults.io~1injected');
  });

  it('merges with what an earlier invocation recorded', () => {
    const metadata = { name: 'p', annotations: { [INJECTED_ANNOTATION]: 'pod: runAsUser, seccompProfile; containers: allowPrivilegeEscalation (1), capabilities.drop (1)' } };
    const earlier = { runAsUser: 10000, seccompProfile: { type: 'RuntimeDefault' }, runAsGroup: 10000, fsGroup: 10000, fsGroupChangePolicy: 'OnRootMismatch', runAsNonRoot: true };
    const { out } = harden(pod({ securityContext: earlier, containers: [{ name: 'app', securityContext: RESTRICTED_CONTAINER }, { name: 'sidecar' }] }, metadata));
    expect(((out['metadata'] as Json)['annotations'] as Json)[INJECTED_ANNOTATION]).toBe(
      'pod: runAsUser, seccompProfile; containers: allowPrivilegeEscalation (2), capabilities.drop (2)',
    );
  });

  it('stays short for 50 containers', () => {
    const containers = Array.from({ length: 50 }, (_, i) => ({ name: `container-with-a-long-name-${i}` }));
    const { out } = harden(pod({ containers }));
    const value = ((out['metadata'] as Json)['annotations'] as Json)[INJECTED_ANNOTATION] as string;
    expect(value).toContain('allowPrivilegeEscalation (50)');
    expect(value.length).toBeLessThan(200);
  });
});

describe('decideAdmission on garbage never throws', () => {
  it.each([
    ['a string', 'not a pod'],
    ['null', null],
    ['an array', [1, 2]],
  ])('the object is %s', (_label, input) => {
    const decision = allowed(decideAdmission({ policy: policyWith(), namespace: namespace(), pod: input, target: 'pod' }));
    expect(decision.patch).toEqual([]);
    expect(decision.warnings.length).toBeGreaterThan(0);
  });

  it.each([
    ['spec missing', { kind: 'Pod' }, /spec is not an object/],
    ['containers not a list', pod({ containers: 'app' }), /spec.containers is not a list/],
    ['a container not an object', pod({ containers: ['app', { name: 'ok' }] }), /spec.containers\[0\] is not an object/],
    ['securityContext a string', pod({ containers: [{ name: 'app', securityContext: 'tight' }] }), /containers\[0\].securityContext is not an object/],
    ['capabilities a string', pod({ containers: [{ name: 'app', securityContext: { capabilities: 'none' } }] }), /capabilities is not an object/],
    ['drop a string', pod({ containers: [{ name: 'app', securityContext: { capabilities: { drop: 'ALL' } } }] }), /capabilities.drop is not a list/],
    ['pod securityContext a number', pod({ securityContext: 3, containers: [{ name: 'app' }] }), /spec.securityContext is not an object/],
    ['annotations a list', pod({ containers: [{ name: 'app' }] }, { annotations: ['x'] }), /annotations is not an object/],
    ['a container that is null', pod({ containers: [null, { name: 'ok' }] }), /spec.containers\[0\] is not an object/],
  ])('%s: hardens what it can and warns', (_label, input, warning) => {
    const { decision } = harden(input as Json);
    expect(decision.warnings.join('\n')).toMatch(warning);
  });
});

describe('decideAdmission with hostile keys', () => {
  it('copies "__proto__" members as plain data and pollutes no prototype', () => {
    const input = JSON.parse('{"kind":"Pod","metadata":{"__proto__":{"polluted":1}},"spec":{"__proto__":{"polluted":2},"containers":[{"name":"app","securityContext":{"__proto__":{"polluted":3}}}]}}') as Json;
    const { out } = harden(input);
    expect(({} as Json)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf(containerSc(out, 'app'))).toBe(Object.prototype);
    expect(containerSc(out, 'app')).toMatchObject(RESTRICTED_CONTAINER);
  });
});

describe('decideAdmission, enforce mode', () => {
  const enforce = policyWith('  mode: enforce\n');
  const decide = (input: Json, ns = namespace()) => decideAdmission({ policy: enforce, namespace: ns, pod: input, target: 'pod' });

  it('denies a container running as root, naming container, field, value and range', () => {
    const decision = decide(pod({ containers: [{ name: 'app', securityContext: { runAsUser: 0 } }] }));
    expect(decision.allowed).toBe(false);
    if (decision.allowed) return;
    expect(decision.violations).toEqual([
      {
        path: 'spec.containers[0].securityContext.runAsUser',
        reason: 'uidRange',
        container: 'app',
        message: 'container "app": securityContext.runAsUser 0 is outside the range 10000-19999 allowed in namespace "payments" (spec.namespaces[0])',
      },
    ]);
    expect(decision.message).toContain('container "app": securityContext.runAsUser 0 is outside the range 10000-19999');
  });

  it('lists every violation, not just the first', () => {
    const decision = decide(
      pod({
        securityContext: { fsGroup: 5, supplementalGroups: [10001, 7], runAsNonRoot: false },
        containers: [{ name: 'a', securityContext: { privileged: true, allowPrivilegeEscalation: true } }],
        initContainers: [{ name: 'b', securityContext: { runAsGroup: 20000 } }],
      }),
    );
    expect(decision.allowed).toBe(false);
    if (decision.allowed) return;
    expect(decision.violations.map((v) => v.path)).toEqual([
      'spec.securityContext.fsGroup',
      'spec.securityContext.supplementalGroups[1]',
      'spec.securityContext.runAsNonRoot',
      'spec.initContainers[0].securityContext.runAsGroup',
      'spec.containers[0].securityContext.allowPrivilegeEscalation',
      'spec.containers[0].securityContext.privileged',
    ]);
  });

  it('denies UID 0 even where the namespace has no range', () => {
    const decision = decideAdmission({ policy: policyWith('  mode: enforce\n', { rules: false }), namespace: namespace('x'), pod: pod({ containers: [{ name: 'app', securityContext: { runAsUser: 0 } }] }), target: 'pod' });
    expect(decision.allowed).toBe(false);
    if (!decision.allowed) expect(decision.message).toMatch(/runAsUser 0 runs as root/);
  });

  it('cannot be dodged by adding windowsOptions', () => {
    const decision = decide(pod({ containers: [{ name: 'app', securityContext: { privileged: true, windowsOptions: {} } }] }));
    expect(decision.allowed).toBe(false);
  });

  it('cannot be dodged by adding windowsOptions: a root Pod is still refused and the defaults are still added', () => {
    const root = decide(pod({ securityContext: { windowsOptions: {} }, containers: [{ name: 'app', securityContext: { runAsUser: 0, windowsOptions: {} } }] }));
    expect(root.allowed).toBe(false);
    const unset = decide(pod({ containers: [{ name: 'app', securityContext: { windowsOptions: {} } }] }));
    expect(unset.allowed).toBe(true);
    if (unset.allowed) {
      expect(unset.skipped).toBeUndefined();
      expect(unset.injected).toEqual(expect.arrayContaining(['spec.securityContext.runAsUser', 'spec.securityContext.runAsNonRoot']));
    }
  });

  it('allows and hardens a compliant Pod', () => {
    const decision = decide(pod({ securityContext: { runAsUser: 15000 }, containers: [{ name: 'app' }] }));
    expect(decision.allowed).toBe(true);
    if (decision.allowed) expect(decision.injected).toContain('spec.securityContext.runAsGroup');
  });
});

describe('decideAdmission, target ephemeralContainers (kubectl debug)', () => {
  const existing = { name: 'debugger-old', image: 'busybox' };
  const newOne = { name: 'debugger-new', image: 'busybox' };
  const before = pod({ containers: [{ name: 'app' }], ephemeralContainers: [existing] });
  const after = pod({ containers: [{ name: 'app' }], ephemeralContainers: [existing, newOne] });

  it('hardens only the new ephemeral container, with container-level identity and seccomp', () => {
    const input = deepClone(after);
    const decision = allowed(decideAdmission({ policy: policyWith(), namespace: namespace(), pod: input, target: 'ephemeralContainers', oldPod: before }));
    const out = applyPatch(input, decision.patch);
    expect(containerSc(out, 'debugger-new', 'ephemeralContainers')).toEqual({
      ...RESTRICTED_CONTAINER,
      runAsUser: 10000,
      runAsGroup: 10000,
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(containerSc(out, 'debugger-old', 'ephemeralContainers')).toBeUndefined();
    expect(decision.patch.every((op) => op.path.startsWith('/spec/ephemeralContainers/1/'))).toBe(true);
  });

  it('relies on the Pod\'s own identity and seccomp where it has them', () => {
    const podLevel = { runAsUser: 12000, runAsGroup: 12000, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
    const input = pod({ securityContext: podLevel, containers: [{ name: 'app' }], ephemeralContainers: [newOne] });
    const decision = allowed(decideAdmission({ policy: policyWith(), namespace: namespace(), pod: input, target: 'ephemeralContainers' }));
    expect(containerSc(applyPatch(input, decision.patch), 'debugger-new', 'ephemeralContainers')).toEqual(RESTRICTED_CONTAINER);
  });
});

describe('decideAdmission says which rule chose the IDs and what values it injected', () => {
  const allocating = policyWith('  allocation:\n    range: "1000000000-1999999999"\n    blockSize: 10000\n');
  it.each([
    ['a namespaces rule', policyWith(), namespace('payments'), 'spec.namespaces[0]', 10000],
    ['the fallback', policyWith(), namespace('team-b'), 'spec.fallback', 100000],
    ['an allocated block', allocating, namespace('team-c', {}, { 'secure-defaults.io/uid-range': '1000010000-1000019999' }), 'namespace annotation secure-defaults.io/uid-range', 1000010000],
  ])('%s', (_what, policy, ns, source, uid) => {
    const { out, decision } = harden(pod({ containers: [{ name: 'app', image: 'nginx', securityContext: { capabilities: { drop: ['NET_RAW'] } } }] }), policy, ns);
    expect(decision.ids?.source).toBe(source);
    expect(decision.ids?.uidRange.min).toBe(uid);
    const values = Object.fromEntries((decision.injectedValues ?? []).map(({ path, value }) => [path, value]));
    expect(values).toMatchObject({
      'spec.securityContext.runAsUser': uid,
      'spec.securityContext.runAsNonRoot': true,
      'spec.securityContext.seccompProfile': { type: 'RuntimeDefault' },
      'spec.containers[0].securityContext.allowPrivilegeEscalation': false,
      'spec.containers[0].securityContext.capabilities.drop': ['ALL'],
    });
    // Every injected path has its value, in the same order, and each value is what the patched Pod holds.
    expect((decision.injectedValues ?? []).map(({ path }) => path)).toEqual(decision.injected);
    expect((out['spec'] as { securityContext: Json }).securityContext['runAsUser']).toBe(uid);
  });

  it('is null when no rule, block or fallback applies, and names the rule in an enforce-mode denial', () => {
    const noIds = policyWith('', { rules: false });
    expect(allowed(decideAdmission({ policy: noIds, namespace: namespace('x'), pod: pod({ containers: [{ name: 'a', image: 'i' }] }), target: 'pod' })).ids).toBeNull();
    const denial = decideAdmission({ policy: policyWith('  mode: enforce\n'), namespace: namespace('payments'), pod: pod({ securityContext: { runAsUser: 5 }, containers: [{ name: 'a', image: 'i' }] }), target: 'pod' });
    expect(denial.allowed).toBe(false);
    expect(denial.ids?.source).toBe('spec.namespaces[0]');
  });
});
