// Reinvocation (reinvocationPolicy: IfNeeded), case by case: the Pod as our first call left it
// (with our injected annotation), plus what a later webhook added, in; the Pod out. Pod-level
// values our first call added move to the containers when a container added since must not
// inherit them; values the Pod's author set never move, whatever the annotation claims.
import { describe, expect, it } from '@jest/globals';
import { checkRestricted, decideAdmission, INJECTED_ANNOTATION, type AdmissionDecision, type CompiledPolicy } from '../../src/engine/index.js';
import { applyPatch, deepClone, namespace, policyWith } from './engine-fixtures.js';
import { brokenPromises } from './never-break.js';

type Json = Record<string, unknown>;
type Allowed = Extract<AdmissionDecision, { allowed: true }>;

const IDS = { runAsUser: 10000, runAsGroup: 10000 };
const FS_GROUP = { fsGroup: 10000, fsGroupChangePolicy: 'OnRootMismatch' };
const SECCOMP = { seccompProfile: { type: 'RuntimeDefault' } };
const HARDENED = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
const c = (name: string, securityContext?: Json, extra: Json = {}): Json => ({ name, image: 'x', ...extra, ...(securityContext ? { securityContext } : {}) });
const hostLog = { name: 'varlog', hostPath: { path: '/var/log' } };
const mountLog = { volumeMounts: [{ name: 'varlog', mountPath: '/var/log' }] };

/** What the Pod's author wrote: one container, nothing set. */
const ASKED: Json = { containers: [c('app')] };
/** Our first call's answer to ASKED, written out (checked against the engine below). */
const FIRST_PASS: Json = { securityContext: { ...IDS, ...FS_GROUP, runAsNonRoot: true, ...SECCOMP }, containers: [c('app', HARDENED)] };
const FIRST_PASS_ANNOTATION = 'pod: runAsUser, runAsGroup, fsGroup, fsGroupChangePolicy, runAsNonRoot, seccompProfile; containers: allowPrivilegeEscalation (1), capabilities.drop (1)';

function podOf(spec: Json, annotation?: string): Json {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', ...(annotation !== undefined ? { annotations: { [INJECTED_ANNOTATION]: annotation } } : {}) }, spec };
}

function decide(pod: Json, policy: CompiledPolicy = policyWith()): { out: Json; decision: Allowed } {
  const before = deepClone(pod);
  const decision = decideAdmission({ policy, namespace: namespace('payments'), pod, target: 'pod' });
  if (!decision.allowed) throw new Error(decision.message);
  expect(pod).toEqual(before);
  return { out: applyPatch(pod, decision.patch), decision };
}

function annotationOf(pod: Json): unknown {
  return ((pod['metadata'] as Json)['annotations'] as Json | undefined)?.[INJECTED_ANNOTATION];
}

/** `spec` with `sidecar` appended to `list`, as a mesh injector's patch does (and its volumes). */
function withSidecar(spec: Json, sidecar: Json, list: 'containers' | 'initContainers', volumes: Json[] = []): Json {
  const copy = deepClone(spec);
  copy[list] = [...((copy[list] as Json[] | undefined) ?? []), sidecar];
  if (volumes.length > 0) copy['volumes'] = [...((copy['volumes'] as Json[] | undefined) ?? []), ...volumes];
  return copy;
}

interface Case {
  /** What the later webhook added after our first call. */
  readonly sidecar: Json;
  readonly list?: 'containers' | 'initContainers';
  readonly volumes?: Json[];
  /** The hardened spec, exactly. */
  readonly out: Json;
  readonly annotation: string;
  /** Substrings, each of which some warning contains. */
  readonly warnings: readonly string[];
}

const MOVED_ALL = 'spec.securityContext: runAsUser, runAsGroup, runAsNonRoot, added by an earlier call of this webhook, moved from the Pod to each container that does not set them, so that they do not reach container';
const APP_WITH_IDS = c('app', { ...HARDENED, ...IDS, runAsNonRoot: true });
const APP_IDS_ANNOTATION = 'pod: fsGroup, fsGroupChangePolicy, seccompProfile; containers: allowPrivilegeEscalation (1), capabilities.drop (1), runAsUser (1), runAsGroup (1), runAsNonRoot (1)';

const CASES: [string, Case][] = [
  [
    'a privileged sidecar: the IDs and runAsNonRoot leave the Pod level for the app container',
    {
      sidecar: c('mesh', { privileged: true }),
      out: { securityContext: { ...FS_GROUP, ...SECCOMP }, containers: [APP_WITH_IDS, c('mesh', { privileged: true })] },
      annotation: APP_IDS_ANNOTATION,
      warnings: [`${MOVED_ALL} "mesh" (privileged): the Pod changed after it was hardened`, 'container "mesh" is privileged and keeps the user, group and capabilities it asks for'],
    },
  ],
  [
    'a root init sidecar adding NET_ADMIN (a mesh init): only runAsNonRoot leaves the Pod level, which would stop it starting',
    {
      sidecar: c('mesh-init', { runAsUser: 0, capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } }),
      list: 'initContainers',
      out: {
        securityContext: { ...IDS, ...FS_GROUP, ...SECCOMP },
        containers: [c('app', { ...HARDENED, runAsNonRoot: true })],
        initContainers: [c('mesh-init', { runAsUser: 0, capabilities: { add: ['NET_ADMIN', 'NET_RAW'] }, allowPrivilegeEscalation: false })],
      },
      annotation: 'pod: runAsUser, runAsGroup, fsGroup, fsGroupChangePolicy, seccompProfile; containers: allowPrivilegeEscalation (2), capabilities.drop (1), runAsNonRoot (1)',
      warnings: [
        'spec.securityContext: runAsNonRoot, added by an earlier call of this webhook, moved from the Pod to each container that does not set it, so that it does not reach container "mesh-init" (running as UID 0)',
        'container "mesh-init" runs as root',
      ],
    },
  ],
  [
    'a sidecar adding NET_ADMIN without a user of its own: it keeps its image user, so its capabilities stay effective',
    {
      sidecar: c('vpn', { capabilities: { add: ['NET_ADMIN'] } }),
      out: { securityContext: { ...FS_GROUP, ...SECCOMP }, containers: [APP_WITH_IDS, c('vpn', { capabilities: { add: ['NET_ADMIN'] }, allowPrivilegeEscalation: false })] },
      annotation: 'pod: fsGroup, fsGroupChangePolicy, seccompProfile; containers: allowPrivilegeEscalation (2), capabilities.drop (1), runAsUser (1), runAsGroup (1), runAsNonRoot (1)',
      warnings: [`${MOVED_ALL} "vpn" (adding capabilities without a user of its own)`, 'container "vpn" adds capabilities without a user of its own'],
    },
  ],
  [
    'a log shipper mounting a hostPath volume the injector added',
    {
      sidecar: c('shipper', undefined, mountLog),
      volumes: [hostLog],
      out: { securityContext: { ...FS_GROUP, ...SECCOMP }, containers: [APP_WITH_IDS, c('shipper', { allowPrivilegeEscalation: false }, mountLog)], volumes: [hostLog] },
      annotation: 'pod: fsGroup, fsGroupChangePolicy, seccompProfile; containers: allowPrivilegeEscalation (2), capabilities.drop (1), runAsUser (1), runAsGroup (1), runAsNonRoot (1)',
      warnings: [`${MOVED_ALL} "shipper" (using the node)`],
    },
  ],
  [
    'a sidecar adding only NET_BIND_SERVICE is hardened like any other: nothing moves',
    {
      sidecar: c('web', { capabilities: { add: ['NET_BIND_SERVICE'] } }),
      out: { ...FIRST_PASS, containers: [c('app', HARDENED), c('web', { capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] }, allowPrivilegeEscalation: false })] },
      annotation: 'pod: runAsUser, runAsGroup, fsGroup, fsGroupChangePolicy, runAsNonRoot, seccompProfile; containers: allowPrivilegeEscalation (2), capabilities.drop (2)',
      warnings: [],
    },
  ],
  [
    'a mesh proxy with a user of its own (1337) is hardened: nothing moves',
    {
      sidecar: c('mesh-proxy', { runAsUser: 1337 }),
      out: { ...FIRST_PASS, containers: [c('app', HARDENED), c('mesh-proxy', { runAsUser: 1337, ...HARDENED })] },
      annotation: 'pod: runAsUser, runAsGroup, fsGroup, fsGroupChangePolicy, runAsNonRoot, seccompProfile; containers: allowPrivilegeEscalation (2), capabilities.drop (2)',
      warnings: [],
    },
  ],
];

describe('reinvocation: a container added by a later webhook after our first call', () => {
  it('starts from the first call\'s real answer', () => {
    const { out } = decide(podOf(ASKED));
    expect(out['spec']).toEqual(FIRST_PASS);
    expect(annotationOf(out)).toBe(FIRST_PASS_ANNOTATION);
  });

  it.each(CASES)('%s', (_label, { sidecar, list = 'containers', volumes = [], out, annotation, warnings }) => {
    const input = podOf(withSidecar(FIRST_PASS, sidecar, list, volumes), FIRST_PASS_ANNOTATION);
    const { out: hardened, decision } = decide(input);
    expect(hardened['spec']).toEqual(out);
    expect(annotationOf(hardened)).toBe(annotation);
    for (const warning of warnings) expect(decision.warnings.join('\n')).toContain(warning);
    if (warnings.length === 0) expect(decision.warnings).toEqual([]);
    // The independent oracle, judged on what was asked for: the author's Pod plus the sidecar.
    expect(brokenPromises(input['spec'], hardened['spec'], withSidecar(ASKED, sidecar, list, volumes))).toEqual([]);
    // A third call changes nothing.
    expect(decide(hardened).decision.patch).toEqual([]);
  });

  it('reports the removed Pod-level paths beside the injected ones', () => {
    const { decision } = decide(podOf(withSidecar(FIRST_PASS, c('mesh', { privileged: true }), 'containers'), FIRST_PASS_ANNOTATION));
    expect(decision.removed).toEqual(['spec.securityContext.runAsUser', 'spec.securityContext.runAsGroup', 'spec.securityContext.runAsNonRoot']);
    expect(decision.injected).toEqual(['spec.containers[0].securityContext.runAsUser', 'spec.containers[0].securityContext.runAsGroup', 'spec.containers[0].securityContext.runAsNonRoot']);
    expect(decision.warningReasons[0]).toBe('reinvocation-moved-to-containers');
  });

  it('a runAsUser the author set stays at Pod level: the annotation of that first call does not name it', () => {
    // First call of { securityContext: { runAsUser: 10000 }, containers: [app] }.
    const first = { ...FIRST_PASS, securityContext: { runAsUser: 10000, runAsGroup: 10000, ...FS_GROUP, runAsNonRoot: true, ...SECCOMP } };
    const annotation = 'pod: runAsGroup, fsGroup, fsGroupChangePolicy, runAsNonRoot, seccompProfile; containers: allowPrivilegeEscalation (1), capabilities.drop (1)';
    expect(decide(podOf({ securityContext: { runAsUser: 10000 }, containers: [c('app')] })).out).toEqual(podOf(first, annotation));
    const sidecar = c('mesh', { privileged: true });
    const input = podOf(withSidecar(first, sidecar, 'containers'), annotation);
    const { out } = decide(input);
    expect(out['spec']).toEqual({
      securityContext: { runAsUser: 10000, ...FS_GROUP, ...SECCOMP },
      containers: [c('app', { ...HARDENED, runAsGroup: 10000, runAsNonRoot: true }), sidecar],
    });
    expect(brokenPromises(input['spec'], out['spec'], { securityContext: { runAsUser: 10000 }, containers: [c('app'), sidecar] })).toEqual([]);
  });

  it('more than one blocking container: grouped by reason, at most five names each', () => {
    const spec = deepClone(FIRST_PASS);
    spec['containers'] = [...(spec['containers'] as Json[]), ...Array.from({ length: 7 }, (_, i) => c(`agent-${i}`, { privileged: true })), c('init', { runAsUser: 0 })];
    const { decision } = decide(podOf(spec, FIRST_PASS_ANNOTATION));
    const moved = decision.warnings.filter((_w, i) => decision.warningReasons[i] === 'reinvocation-moved-to-containers');
    expect(moved).toHaveLength(1);
    expect(moved[0]).toContain('containers "agent-0", "agent-1", "agent-2", "agent-3", "agent-4" and 2 more (privileged) or container "init" (running as UID 0)');
  });

  it('leaves the Pod level alone when a container\'s securityContext is unreadable (it could not be given the values)', () => {
    const spec = withSidecar(FIRST_PASS, c('mesh', { privileged: true }), 'containers');
    (spec['containers'] as Json[]).push({ name: 'broken', image: 'x', securityContext: 'not an object' });
    const { out, decision } = decide(podOf(spec, FIRST_PASS_ANNOTATION));
    expect((out['spec'] as Json)['securityContext']).toEqual(FIRST_PASS['securityContext']);
    expect(decision.removed).toEqual([]);
  });

  it('keepRequestedPrivileges: false hardens the privileged sidecar like any other: nothing moves', () => {
    const legacy = policyWith('  defaults:\n    keepRequestedPrivileges: false\n');
    const { out, decision } = decide(podOf(withSidecar(FIRST_PASS, c('mesh', { privileged: true }), 'containers'), FIRST_PASS_ANNOTATION), legacy);
    expect((out['spec'] as Json)['securityContext']).toEqual(FIRST_PASS['securityContext']);
    expect(decision.removed).toEqual([]);
  });
});

describe('reinvocation in enforce mode', () => {
  const enforce = policyWith('  mode: enforce\n');

  it('a privileged sidecar is still refused', () => {
    const decision = decideAdmission({ policy: enforce, namespace: namespace('payments'), pod: podOf(withSidecar(FIRST_PASS, c('mesh', { privileged: true }), 'containers'), FIRST_PASS_ANNOTATION), target: 'pod' });
    expect(decision.allowed).toBe(false);
    if (!decision.allowed) expect(decision.violations.map((v) => v.path)).toEqual(['spec.containers[1].securityContext.privileged']);
  });

  it('the containers that get the IDs still pass restricted\'s identity checks; only the sidecar is named', () => {
    const { out } = decide(podOf(withSidecar(FIRST_PASS, c('vpn', { capabilities: { add: ['NET_ADMIN'] } }), 'containers'), FIRST_PASS_ANNOTATION), enforce);
    const findings = checkRestricted(out);
    expect(findings.map((f) => f.check).sort()).toEqual(['capabilities', 'runAsNonRoot']);
    for (const finding of findings) expect(finding.paths.every((path) => path.startsWith('spec.containers[1]'))).toBe(true);
  });
});

describe('an injected annotation the Pod\'s author wrote (first call)', () => {
  const forged = 'pod: runAsUser, runAsGroup, runAsNonRoot';

  it('never moves a value that is not the one the policy injects (runAsUser 1000)', () => {
    const spec = { securityContext: { runAsUser: 1000, runAsGroup: 1000 }, containers: [c('app'), c('agent', { privileged: true })] };
    const { out, decision } = decide(podOf(spec, forged));
    expect(((out['spec'] as Json)['securityContext'] as Json)).toMatchObject({ runAsUser: 1000, runAsGroup: 1000 });
    expect(decision.removed).toEqual([]);
  });

  it('never moves runAsNonRoot when the policy does not inject it', () => {
    const policy = policyWith('  defaults:\n    runAsNonRoot: false\n');
    const spec = { securityContext: { runAsNonRoot: true }, containers: [c('app'), c('agent', { privileged: true })] };
    const { out, decision } = decide(podOf(spec, forged), policy);
    expect(((out['spec'] as Json)['securityContext'] as Json)['runAsNonRoot']).toBe(true);
    expect(decision.removed).toEqual([]);
  });

  it('cannot take the author\'s own runAsNonRoot from the containers that are hardened: each gets it, and passes restricted', () => {
    const spec = { securityContext: { runAsNonRoot: true }, containers: [c('app'), c('worker', { runAsUser: 2000 }), c('agent', { privileged: true })] };
    const { out } = decide(podOf(spec, forged));
    const containers = (out['spec'] as Json)['containers'] as Json[];
    expect(containers.map((x) => (x['securityContext'] as Json)['runAsNonRoot'])).toEqual([true, true, undefined]);
    const nonRoot = checkRestricted(out).filter((f) => f.check === 'runAsNonRoot');
    expect(nonRoot.flatMap((f) => f.paths).filter((path) => !path.startsWith('spec.containers[2]'))).toEqual([]);
    // What reaches a hardened container is unchanged; only the privileged one, which the author
    // could have given no runAsNonRoot at all, stops inheriting it.
    expect(brokenPromises(spec, out['spec'], { securityContext: {}, containers: spec.containers })).toEqual([]);
  });

  it('an annotation not in our format is trusted for nothing', () => {
    const { decision } = decide(podOf(withSidecar(FIRST_PASS, c('mesh', { privileged: true }), 'containers'), 'pod: runAsUser; garbage'));
    expect(decision.patch).toEqual([]);
    expect(decision.removed).toEqual([]);
  });
});

describe('reinvocation on a hostile Pod', () => {
  it('a 250 KB annotation naming our fields among 40,000 others, read twice (trust, then merge): decided within a generous second', () => {
    // Letters only, as our format allows: i in base 26.
    const letters = (i: number): string => (i < 26 ? '' : letters(Math.floor(i / 26) - 1)) + String.fromCharCode(97 + (i % 26));
    const filler = Array.from({ length: 40_000 }, (_, i) => `f${letters(i)}`).join(', ');
    const annotation = `pod: ${filler}, runAsUser, runAsGroup, runAsNonRoot`;
    expect(annotation.length).toBeGreaterThan(200_000);
    expect(annotation.length).toBeLessThan(262_144);
    const pod = podOf(withSidecar(FIRST_PASS, c('mesh', { privileged: true }), 'containers'), annotation);
    const policy = policyWith();
    const started = process.hrtime.bigint();
    const decision = decideAdmission({ policy, namespace: namespace('payments'), pod, target: 'pod' });
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1000);
    expect(decision.allowed && decision.removed).toHaveLength(3);
  });
});
