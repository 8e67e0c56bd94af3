// The never-break rules, case by case (Pod in, Pod out, warnings): privileged containers keep
// their user, group and runAsNonRoot; containers that run as root by their own settings keep
// their capabilities; containers that use the node keep their image's user; containers that add capabilities without a user keep both. See policies/README.md.
import { describe, expect, it } from '@jest/globals';
import { decideAdmission, type AdmissionDecision, type CompiledPolicy } from '../../src/engine/index.js';
import { applyPatch, deepClone, namespace, policyWith } from './engine-fixtures.js';
import { brokenPromises } from './never-break.js';

type Json = Record<string, unknown>;
type Allowed = Extract<AdmissionDecision, { allowed: true }>;

const FS_GROUP = { fsGroup: 10000, fsGroupChangePolicy: 'OnRootMismatch' };
const SECCOMP = { seccompProfile: { type: 'RuntimeDefault' } };
const IDENTITY = { runAsUser: 10000, runAsGroup: 10000, runAsNonRoot: true };
const HARDENED = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
const PRIVILEGED_APE = 'spec: allowPrivilegeEscalation: false not added to container "agent" because it is privileged (the API server refuses that combination)';
const MOVED = 'spec.securityContext: runAsUser, runAsGroup, runAsNonRoot set on each container instead of the Pod';

function decide(spec: Json, policy: CompiledPolicy = policyWith(), target: 'pod' | 'ephemeralContainers' = 'pod'): { out: Json; decision: Allowed } {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec };
  const before = deepClone(pod);
  const decision = decideAdmission({ policy, namespace: namespace('payments'), pod, target });
  if (!decision.allowed) throw new Error(decision.message);
  expect(pod).toEqual(before);
  const out = applyPatch(pod, decision.patch);
  // Whatever the case, the independent oracle agrees (except where the policy turns the rules off).
  if (policy.defaults.keepRequestedPrivileges !== false) expect(brokenPromises(pod.spec, out['spec'])).toEqual([]);
  return { out: out['spec'] as Json, decision };
}

const c = (name: string, securityContext?: Json, extra: Json = {}): Json => ({ name, image: 'x', ...extra, ...(securityContext ? { securityContext } : {}) });

interface Case {
  readonly spec: Json;
  /** The hardened spec, exactly. */
  readonly out: Json;
  /** Substrings, each of which some warning contains. */
  readonly warnings: readonly string[];
}

const hostLog = { name: 'varlog', hostPath: { path: '/var/log' } };
const mountLog = { volumeMounts: [{ name: 'varlog', mountPath: '/var/log' }] };

const CASES: [string, Case][] = [
  [
    'a privileged container keeps its user, group, runAsNonRoot and capabilities',
    {
      spec: { containers: [c('agent', { privileged: true })] },
      out: { securityContext: { ...FS_GROUP, ...SECCOMP }, containers: [c('agent', { privileged: true })] },
      warnings: [
        PRIVILEGED_APE,
        'spec: container "agent" is privileged and keeps the user, group and capabilities it asks for: runAsUser, runAsGroup, runAsNonRoot, capabilities.drop not added (spec.defaults.keepRequestedPrivileges)',
      ],
    },
  ],
  [
    'mixed: a privileged init container (sysctl) beside an ordinary one, which is still hardened per container',
    {
      spec: { initContainers: [c('sysctl', { privileged: true })], containers: [c('app')] },
      out: {
        securityContext: { ...FS_GROUP, ...SECCOMP },
        initContainers: [c('sysctl', { privileged: true })],
        containers: [c('app', { ...HARDENED, ...IDENTITY })],
      },
      warnings: [MOVED, 'container "sysctl" is privileged'],
    },
  ],
  [
    'a privileged sidecar (init container with restartPolicy Always)',
    {
      spec: { initContainers: [c('mesh', { privileged: true }, { restartPolicy: 'Always' })], containers: [c('app')] },
      out: {
        securityContext: { ...FS_GROUP, ...SECCOMP },
        initContainers: [c('mesh', { privileged: true }, { restartPolicy: 'Always' })],
        containers: [c('app', { ...HARDENED, ...IDENTITY })],
      },
      warnings: ['container "mesh" is privileged'],
    },
  ],
  [
    'a privileged container that sets its own user: only the fields it leaves unset stay off the Pod',
    {
      spec: { containers: [c('agent', { privileged: true, runAsUser: 1000 }), c('app')] },
      out: {
        securityContext: { runAsUser: 10000, ...FS_GROUP, ...SECCOMP },
        containers: [c('agent', { privileged: true, runAsUser: 1000 }), c('app', { ...HARDENED, runAsGroup: 10000, runAsNonRoot: true })],
      },
      warnings: ['spec.securityContext: runAsGroup, runAsNonRoot set on each container', 'container "agent" is privileged and keeps the user, group and capabilities it asks for: runAsGroup, runAsNonRoot, capabilities.drop not added'],
    },
  ],
  [
    'a container with runAsUser 0 of its own (chown init) keeps its capabilities; the others are hardened',
    {
      spec: { initContainers: [c('chown', { runAsUser: 0 })], containers: [c('app')] },
      out: {
        securityContext: { runAsUser: 10000, runAsGroup: 10000, ...FS_GROUP, ...SECCOMP },
        initContainers: [c('chown', { runAsUser: 0, allowPrivilegeEscalation: false })],
        containers: [c('app', { ...HARDENED, runAsNonRoot: true })],
      },
      warnings: ['runAsNonRoot: true not added because "chown" runs as UID 0', 'container "chown" runs as root (runAsUser: 0 of its own or of the Pod) and keeps its capabilities: capabilities.drop not added'],
    },
  ],
  [
    "the Pod's explicit runAsUser 0: every container that inherits it keeps its capabilities",
    {
      spec: { securityContext: { runAsUser: 0 }, containers: [c('a'), c('b', { runAsUser: 1000 })] },
      out: {
        securityContext: { runAsUser: 0, runAsGroup: 10000, ...FS_GROUP, ...SECCOMP },
        containers: [c('a', { allowPrivilegeEscalation: false }), c('b', { runAsUser: 1000, ...HARDENED, runAsNonRoot: true })],
      },
      warnings: ['the Pod runs as UID 0', 'container "a" runs as root (runAsUser: 0 of its own or of the Pod)'],
    },
  ],
  [
    'hostNetwork (flannel): every container keeps the user and capabilities of its image',
    {
      spec: { hostNetwork: true, initContainers: [c('install-cni')], containers: [c('flannel', { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } })] },
      out: {
        hostNetwork: true,
        securityContext: { ...FS_GROUP, ...SECCOMP },
        initContainers: [c('install-cni', { allowPrivilegeEscalation: false })],
        containers: [c('flannel', { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] }, allowPrivilegeEscalation: false })],
      },
      warnings: [
        'spec: containers "install-cni", "flannel" use the node (hostNetwork, hostPID, hostIPC or a hostPath volume) and keep the user their images run as: runAsUser, runAsGroup, runAsNonRoot, capabilities.drop not added',
      ],
    },
  ],
  [
    'a hostPath mount (fluentd) keeps the image user for that container only; the sidecar is hardened',
    {
      spec: { volumes: [hostLog], containers: [c('fluentd', undefined, mountLog), c('exporter')] },
      out: {
        volumes: [hostLog],
        securityContext: { ...FS_GROUP, ...SECCOMP },
        containers: [c('fluentd', { allowPrivilegeEscalation: false }, mountLog), c('exporter', { ...HARDENED, ...IDENTITY })],
      },
      warnings: [MOVED, 'container "fluentd" uses the node'],
    },
  ],
  [
    'a node-using container set to run as non-root (node-exporter) still drops capabilities',
    {
      spec: { hostPID: true, securityContext: { runAsUser: 65534, runAsNonRoot: true }, containers: [c('node-exporter')] },
      out: {
        hostPID: true,
        securityContext: { runAsUser: 65534, runAsNonRoot: true, ...FS_GROUP, ...SECCOMP },
        containers: [c('node-exporter', HARDENED)],
      },
      warnings: ['container "node-exporter" uses the node (hostNetwork, hostPID, hostIPC or a hostPath volume) and keeps the user its image runs as: runAsGroup not added'],
    },
  ],
  [
    'a container that adds capabilities without a user of its own (an sshd test server adding SYS_CHROOT) keeps its image user and its capabilities',
    {
      spec: { containers: [c('git-server', { capabilities: { add: ['SYS_CHROOT'] } }), c('app')] },
      out: {
        securityContext: { ...FS_GROUP, ...SECCOMP },
        containers: [c('git-server', { capabilities: { add: ['SYS_CHROOT'] }, allowPrivilegeEscalation: false }), c('app', { ...HARDENED, ...IDENTITY })],
      },
      warnings: [
        MOVED,
        'spec: container "git-server" adds capabilities without a user of its own and keeps the user its image runs as (under another, non-root user added capabilities are not effective) and its capabilities: runAsUser, runAsGroup, runAsNonRoot, capabilities.drop not added',
      ],
    },
  ],
  [
    'adding only NET_BIND_SERVICE (allowed by restricted, used with file capabilities as non-root) is hardened like any other',
    {
      spec: { containers: [c('web', { capabilities: { add: ['NET_BIND_SERVICE'] } })] },
      out: {
        securityContext: { ...IDENTITY, ...FS_GROUP, ...SECCOMP },
        containers: [c('web', { capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] }, allowPrivilegeEscalation: false })],
      },
      warnings: [],
    },
  ],
  [
    'a container that adds capabilities but is set to run as non-root is hardened like any other (its added capabilities were never effective)',
    {
      spec: { containers: [c('tool', { capabilities: { add: ['NET_RAW'] }, runAsNonRoot: true })] },
      out: {
        securityContext: { ...IDENTITY, ...FS_GROUP, ...SECCOMP },
        containers: [c('tool', { capabilities: { add: ['NET_RAW'], drop: ['ALL'] }, runAsNonRoot: true, allowPrivilegeEscalation: false })],
      },
      warnings: [],
    },
  ],
  [
    'an emptyDir mount is not the node',
    {
      spec: { volumes: [{ name: 'tmp', emptyDir: {} }], containers: [c('app', undefined, { volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }] })] },
      out: {
        volumes: [{ name: 'tmp', emptyDir: {} }],
        securityContext: { ...IDENTITY, ...FS_GROUP, ...SECCOMP },
        containers: [c('app', HARDENED, { volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }] })],
      },
      warnings: [],
    },
  ],
];

describe('never break a workload (fill mode)', () => {
  it.each(CASES)('%s', (_label, { spec, out, warnings }) => {
    const { out: hardened, decision } = decide(spec);
    expect(hardened).toEqual({ ...out, securityContext: expect.objectContaining(out['securityContext'] as Json) });
    expect(Object.keys((hardened['securityContext'] ?? {}) as Json).sort()).toEqual(Object.keys((out['securityContext'] ?? {}) as Json).sort());
    for (const warning of warnings) expect(decision.warnings.join('\n')).toContain(warning);
    if (warnings.length === 0) expect(decision.warnings).toEqual([]);
  });

  it('reports what each container kept as plain data', () => {
    const { decision } = decide({ volumes: [hostLog], initContainers: [c('sysctl', { privileged: true })], containers: [c('fluentd', undefined, mountLog), c('chown', { runAsUser: 0 })] });
    expect(decision.leftOut).toEqual([
      { container: 'sysctl', path: 'spec.initContainers[0]', fields: ['runAsUser', 'runAsGroup', 'runAsNonRoot', 'capabilities.drop'], reason: 'privileged' },
      { container: 'fluentd', path: 'spec.containers[0]', fields: ['runAsUser', 'runAsGroup', 'runAsNonRoot', 'capabilities.drop'], reason: 'usesNode' },
      { container: 'chown', path: 'spec.containers[1]', fields: ['capabilities.drop'], reason: 'runsAsRoot' },
    ]);
  });

  it('names at most five containers per warning, then counts: bounded for a Pod of 500 privileged containers', () => {
    const containers = Array.from({ length: 500 }, (_, i) => c(`agent-${i}`, { privileged: true }));
    const { decision } = decide({ containers });
    const kept = decision.warnings.filter((w) => w.includes('is privileged and keep') || w.includes('are privileged and keep'));
    expect(kept).toHaveLength(1);
    expect(kept[0]).toContain('"agent-4" and 495 more');
    expect(decision.leftOut).toHaveLength(500);
  });

  it('kubectl debug --profile=sysadmin: a privileged ephemeral container gets no identity', () => {
    const spec = { containers: [c('app')], ephemeralContainers: [c('debugger', { privileged: true })] };
    const { out, decision } = decide(spec, policyWith(), 'ephemeralContainers');
    expect((out['ephemeralContainers'] as Json[])[0]).toEqual(c('debugger', { privileged: true, ...SECCOMP }));
    expect(decision.leftOut?.map((l) => [l.container, l.reason])).toEqual([['debugger', 'privileged']]);
  });

  it('kubectl debug in a Pod that uses the node: the ephemeral container keeps its image user too', () => {
    const spec = { hostPID: true, containers: [c('app')], ephemeralContainers: [c('debugger')] };
    const { out } = decide(spec, policyWith(), 'ephemeralContainers');
    expect((out['ephemeralContainers'] as Json[])[0]).toEqual(c('debugger', { allowPrivilegeEscalation: false, ...SECCOMP }));
  });
});

describe('spec.defaults.keepRequestedPrivileges: false (the old behaviour)', () => {
  const legacy = policyWith('  defaults:\n    keepRequestedPrivileges: false\n');
  it('hardens privileged, root and node-using containers like any other', () => {
    const spec = { hostNetwork: true, initContainers: [c('sysctl', { privileged: true }), c('chown', { runAsUser: 0 })], containers: [c('app')] };
    const { out, decision } = decide(spec, legacy);
    expect(out['securityContext']).toEqual({ runAsUser: 10000, runAsGroup: 10000, ...FS_GROUP, ...SECCOMP });
    // runAsNonRoot per container, since "chown" runs as UID 0: the privileged one no longer runs as root.
    expect((out['initContainers'] as Json[])[0]).toEqual(c('sysctl', { privileged: true, capabilities: { drop: ['ALL'] }, runAsNonRoot: true }));
    expect((out['initContainers'] as Json[])[1]).toEqual(c('chown', { runAsUser: 0, ...HARDENED }));
    expect(decision.leftOut).toEqual([]);
  });
});

describe('enforce mode still refuses root and privilege', () => {
  const enforce = policyWith('  mode: enforce\n');
  it.each([
    ['privileged', { privileged: true }, 'spec.containers[0].securityContext.privileged'],
    ['root', { runAsUser: 0 }, 'spec.containers[0].securityContext.runAsUser'],
  ])('%s', (_label, sc, path) => {
    const decision = decideAdmission({ policy: enforce, namespace: namespace('payments'), pod: { spec: { containers: [c('agent', sc)] } }, target: 'pod' });
    expect(decision.allowed).toBe(false);
    if (!decision.allowed) expect(decision.violations.map((v) => v.path)).toEqual([path]);
  });
});

describe('never-break rules on a hostile Pod', () => {
  it('stay linear: 5,000 containers each mounting 40 of 2,000 hostPath volumes, in warn mode, within a generous 5 s', () => {
    const volumes = Array.from({ length: 2000 }, (_, i) => ({ name: `v${i}`, hostPath: { path: `/h/${i}` } }));
    const containers = Array.from({ length: 5000 }, (_, i) =>
      c(`c${i}`, i % 2 === 0 ? { privileged: true } : { runAsUser: 0 }, { volumeMounts: Array.from({ length: 40 }, (_, j) => ({ name: `v${(i + j) % 2000}`, mountPath: `/m/${j}` })) }),
    );
    const pod = { metadata: { name: 'big' }, spec: { hostPID: true, volumes, containers } };
    const started = process.hrtime.bigint();
    const decision = decideAdmission({ policy: policyWith('  mode: warn\n'), namespace: namespace('payments'), pod, target: 'pod' });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    expect(seconds).toBeLessThan(5);
    if (!decision.allowed) throw new Error('warn mode never denies');
    // Bounded answers: a few grouped warnings, not one per container.
    expect(decision.warnings.length).toBeLessThan(40);
    expect(decision.warnings.join('\n').length).toBeLessThan(10_000);
    expect(decision.leftOut).toHaveLength(5000);
  });
});
