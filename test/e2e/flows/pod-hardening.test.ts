// Flows 1 and 2 against a real kube-apiserver: Pods created in opted-in namespaces are stored
// hardened and pass PodSecurity "restricted" because of the webhook; Pods that set their own
// values keep them; privileged and Windows Pods are never turned into something the API server
// refuses; `kubectl debug` containers are hardened; the namespace label switches all of it on
// and off, and kube-system and the webhook's own namespace are never touched.
import { afterAll, beforeAll, describe, expect, jest } from '@jest/globals';
import {
  container,
  ENFORCE_PRIVILEGED,
  ENFORCE_RESTRICTED,
  flowTestWithLog,
  INJECTED_ANNOTATION,
  OPT_IN,
  startFlowEnvironment,
  SYSTEM_NAMESPACE,
  waitFor,
  type FlowEnvironment,
  type StoredPod,
} from './support/flow-environment.js';
import { SIDECAR_CONFIGURATION, SIDECAR_NAMESPACE_LABEL, startSidecarInjector } from './support/sidecar-injector.js';
import { logEntries } from './support/webhook-process.js';
import { CONFIGURATION_NAME } from './support/webhook-registration.js';
import { E2E_K8S_VERSION } from '../rig/control-plane.js';

jest.setTimeout(5 * 60 * 1000);

const POLICY = `apiVersion: secure-defaults.io/v1alpha1
kind: SecureDefaultsPolicy
metadata: { name: e2e-hardening }
spec:
  mode: fill
  defaults:
    runAsNonRoot: true
    seccompProfile: RuntimeDefault
    dropCapabilities: [ALL]
    allowPrivilegeEscalation: false
    fsGroupChangePolicy: OnRootMismatch
  namespaces:
    - names: ["team-*"]
      uidRange: "200000-209999"
      gidRange: "210000-219999"
      fsGroup: 215000
  fallback:
    uidRange: "100000-165535"
`;

/** What the policy's team-* rule gives a Pod that sets nothing. */
const TEAM_POD_CONTEXT = {
  runAsUser: 200000,
  runAsGroup: 210000,
  fsGroup: 215000,
  fsGroupChangePolicy: 'OnRootMismatch',
  runAsNonRoot: true,
  seccompProfile: { type: 'RuntimeDefault' },
};
const HARDENED_CONTAINER_CONTEXT = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };

const TEAM = 'team-restricted'; // opted in, enforces restricted, matched by the team-* rule
const UNENROLLED = 'plain-restricted'; // enforces restricted, did not opt in
const LOOSE = 'loose-privileged'; // opted in, PodSecurity "privileged" set explicitly; fallback range

let env: FlowEnvironment;
const flowTest = flowTestWithLog(() => env.logFile);

function containersOf(pod: StoredPod, list: 'containers' | 'initContainers' | 'ephemeralContainers'): Array<{ name: string; securityContext?: unknown }> {
  return pod.spec[list] ?? [];
}

function isHardened(pod: StoredPod): boolean {
  return pod?.metadata?.annotations?.[INJECTED_ANNOTATION] !== undefined;
}

beforeAll(async () => {
  env = await startFlowEnvironment(POLICY);
  await Promise.all([
    env.createNamespace(TEAM, { ...OPT_IN, ...ENFORCE_RESTRICTED }),
    env.createNamespace(UNENROLLED, ENFORCE_RESTRICTED),
    env.createNamespace(LOOSE, { ...OPT_IN, ...ENFORCE_PRIVILEGED }),
  ]);
});

afterAll(async () => {
  await env?.teardown();
});

describe('automatic pod hardening', () => {
  flowTest(`runs on Kubernetes ${E2E_K8S_VERSION} (K8S_VERSION picks the release; .ci/run also runs the oldest supported)`, async () => {
    const version = await env.kubectlJson(['version']);
    expect(version.serverVersion.gitVersion).toBe(E2E_K8S_VERSION);
  });

  flowTest('a Pod with no securityContext is admitted under "restricted" and stored with the defaults and the rule\'s IDs', async () => {
    const created = await env.kubectlCreatePod(TEAM, 'bare', { containers: [container('app')] });
    expect(created).toMatchObject({ code: 0 });

    const pod = await env.storedPod(TEAM, 'bare');
    expect(pod.spec.securityContext).toEqual(TEAM_POD_CONTEXT);
    expect(containersOf(pod, 'containers').map((c) => c.securityContext)).toEqual([HARDENED_CONTAINER_CONTEXT]);
    expect(pod.metadata.annotations[INJECTED_ANNOTATION]).toContain('runAsUser');
  });

  flowTest('init containers and every container of a multi-container Pod are hardened', async () => {
    const created = await env.kubectlCreatePod(TEAM, 'multi', {
      initContainers: [container('migrate'), container('warm-cache')],
      containers: [container('app'), container('sidecar'), container('metrics')],
    });
    expect(created).toMatchObject({ code: 0 });

    const pod = await env.storedPod(TEAM, 'multi');
    expect(pod.spec.securityContext).toEqual(TEAM_POD_CONTEXT);
    for (const list of ['initContainers', 'containers'] as const) {
      for (const c of containersOf(pod, list)) expect({ list, name: c.name, securityContext: c.securityContext }).toEqual({ list, name: c.name, securityContext: HARDENED_CONTAINER_CONTEXT });
    }
    expect(containersOf(pod, 'initContainers')).toHaveLength(2);
    expect(containersOf(pod, 'containers')).toHaveLength(3);
  });

  flowTest('a Pod named by the API server from generateName, as controllers create them, is hardened', async () => {
    const created = await env.createPod(TEAM, 'replica', { containers: [container('app')] }, { generateName: true });
    if (!created.ok) throw new Error(`refused: ${created.message}`);
    const name = created.pod.metadata?.name ?? '';
    expect(name).toMatch(/^replica-[a-z0-9]{5}$/);
    const pod = await env.storedPod(TEAM, name);
    expect(pod.spec.securityContext).toEqual(TEAM_POD_CONTEXT);
    expect(isHardened(pod)).toBe(true);
  });

  flowTest('the same Pod in a "restricted" namespace that did not opt in is refused by PodSecurity: the webhook is what made it pass', async () => {
    const created = await env.kubectlCreatePod(UNENROLLED, 'bare', { containers: [container('app')] });
    expect(created.code).not.toBe(0);
    expect(created.stderr).toContain('violates PodSecurity "restricted:latest"');
    expect(created.stderr).toContain('allowPrivilegeEscalation != false');
    expect(created.stderr).toContain('runAsNonRoot != true');
    const absent = await env.plane.kubectl(['get', 'pod', 'bare', '-n', UNENROLLED]);
    expect(absent.stderr).toContain('NotFound');
  });

  flowTest('a Pod that sets its own values keeps every one of them', async () => {
    const ownPodContext = {
      runAsUser: 4242,
      runAsGroup: 4343,
      fsGroup: 4444,
      fsGroupChangePolicy: 'Always',
      runAsNonRoot: true,
      seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/audit.json' },
    };
    const ownContainerContext = {
      runAsUser: 5151,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
    };
    const created = await env.kubectlCreatePod(TEAM, 'own-values', {
      securityContext: ownPodContext,
      containers: [container('app', ownContainerContext), container('helper')],
    });
    expect(created).toMatchObject({ code: 0 });

    const pod = await env.storedPod(TEAM, 'own-values');
    expect(pod.spec.securityContext).toEqual(ownPodContext);
    const [app, helper] = containersOf(pod, 'containers');
    expect(app?.securityContext).toEqual(ownContainerContext);
    // The container that set nothing still gets what the Pod level cannot give it.
    expect(helper?.securityContext).toEqual(HARDENED_CONTAINER_CONTEXT);
  });

  flowTest('a privileged Pod in an opted-in namespace enforcing "privileged" is admitted and keeps its user and capabilities; the container beside it is hardened', async () => {
    const created = await env.kubectlCreatePod(LOOSE, 'privileged', { initContainers: [container('sysctl', { privileged: true })], containers: [container('app')] });
    expect(created).toMatchObject({ code: 0 });
    // The webhook's warnings, printed by kubectl: what was left out of the privileged container, and why.
    expect(created.stderr).toContain('allowPrivilegeEscalation: false not added to container "sysctl" because it is privileged');
    expect(created.stderr).toContain('container "sysctl" is privileged and keeps the user, group and capabilities it asks for: runAsUser, runAsGroup, runAsNonRoot, capabilities.drop not added');

    const pod = await env.storedPod(LOOSE, 'privileged');
    expect(containersOf(pod, 'initContainers')[0]?.securityContext).toEqual({ privileged: true });
    // Not matched by the team-* rule: the fallback range, set per container so that it does not reach "sysctl".
    expect(containersOf(pod, 'containers')[0]?.securityContext).toEqual({ ...HARDENED_CONTAINER_CONTEXT, runAsUser: 100000, runAsGroup: 100000, runAsNonRoot: true });
    expect(pod.spec.securityContext).toEqual({ fsGroup: 100000, fsGroupChangePolicy: 'OnRootMismatch', seccompProfile: { type: 'RuntimeDefault' } });
  });

  flowTest('a Windows Pod is admitted unchanged (Linux-only fields on it would be refused by the API server)', async () => {
    const created = await env.kubectlCreatePod(LOOSE, 'windows', {
      os: { name: 'windows' },
      containers: [{ name: 'app', image: 'mcr.microsoft.com/windows/nanoserver:ltsc2022' }],
    });
    expect(created).toMatchObject({ code: 0 });

    const pod = await env.storedPod(LOOSE, 'windows');
    expect(pod.metadata.annotations?.[INJECTED_ANNOTATION]).toBeUndefined();
    expect(pod.spec.securityContext ?? {}).toEqual({});
    expect(containersOf(pod, 'containers')[0]?.securityContext).toBeUndefined();
  });

  flowTest('kubectl debug adds an ephemeral container that is stored hardened and passes "restricted"', async () => {
    expect(await env.kubectlCreatePod(TEAM, 'debug-target', { containers: [container('app')] })).toMatchObject({ code: 0 });
    // The "legacy" profile (kubectl 1.34's default; 1.37's default is "general", below) sets no
    // securityContext at all, so whatever the stored container carries came from the webhook. No
    // --attach/-it: with no kubelet, only the stored Pod changes.
    const debug = await env.plane.kubectl(['debug', 'debug-target', '-n', TEAM, '--image=busybox', '-c', 'dbg', '--profile=legacy']);
    expect(debug).toMatchObject({ code: 0 });
    expect(debug.stderr).toContain('--profile=legacy is deprecated');

    const pod = await env.storedPod(TEAM, 'debug-target');
    const [dbg] = containersOf(pod, 'ephemeralContainers');
    expect(dbg?.name).toBe('dbg');
    expect(dbg?.securityContext).toEqual(HARDENED_CONTAINER_CONTEXT);
  });

  flowTest('kubectl debug --profile=general asks for SYS_PTRACE, which the webhook keeps (it never removes what a Pod asks for), so "restricted" refuses it', async () => {
    expect(await env.kubectlCreatePod(TEAM, 'debug-general', { containers: [container('app')] })).toMatchObject({ code: 0 });
    const general = await env.plane.kubectl(['debug', 'debug-general', '-n', TEAM, '--image=busybox', '-c', 'dbg', '--profile=general']);
    expect(general.code).not.toBe(0);
    expect(general.stderr).toContain('violates PodSecurity "restricted:latest": unrestricted capabilities (container "dbg" must not include "SYS_PTRACE"');
    // The webhook said so first, reading the namespace's own enforce label.
    expect(general.stderr).toContain('Warning: Pod Security "restricted:latest" (namespace "team-restricted") will refuse this Pod: unrestricted capabilities');

    // The profile meant for such namespaces, or "baseline" completed by the webhook, is admitted.
    const baseline = await env.plane.kubectl(['debug', 'debug-general', '-n', TEAM, '--image=busybox', '-c', 'dbg-baseline', '--profile=baseline']);
    expect(baseline).toMatchObject({ code: 0 });
    const [stored] = containersOf(await env.storedPod(TEAM, 'debug-general'), 'ephemeralContainers');
    expect(stored).toMatchObject({ name: 'dbg-baseline', securityContext: HARDENED_CONTAINER_CONTEXT });
  });

  // Without request.oldObject the engine would take dbg1 for new and patch it, and the API server
  // would refuse the whole update ("existing ephemeral containers "dbg1" may not be changed").
  flowTest('kubectl debug in a namespace that opted in after an earlier debug container: the new one is hardened, the old one left as stored', async () => {
    const ns = 'debug-late';
    await env.createNamespace(ns, ENFORCE_PRIVILEGED);
    expect(await env.kubectlCreatePod(ns, 'target', { containers: [container('app')] })).toMatchObject({ code: 0 });
    expect(await env.plane.kubectl(['debug', 'target', '-n', ns, '--image=busybox', '-c', 'dbg1', '--profile=legacy'])).toMatchObject({ code: 0 });
    const before = await env.storedPod(ns, 'target');
    expect(containersOf(before, 'ephemeralContainers')[0]?.securityContext).toBeUndefined();

    expect(await env.plane.kubectl(['label', 'namespace', ns, 'secure-defaults.io/inject=enabled'])).toMatchObject({ code: 0 });
    await waitFor(`${ns} to be seen as opted in`, 15_000, async () => isHardened(await dryRunPod(ns)));

    // The API server refuses any change to an ephemeral container that already exists, so the
    // webhook must harden only dbg2 (request.oldObject tells which ones are new).
    const debug = await env.plane.kubectl(['debug', 'target', '-n', ns, '--image=busybox', '-c', 'dbg2', '--profile=legacy']);
    expect(debug.stderr).not.toContain('may not be changed');
    expect(debug).toMatchObject({ code: 0 });
    const after = await env.storedPod(ns, 'target');
    const [dbg1, dbg2] = containersOf(after, 'ephemeralContainers');
    expect(dbg1).toMatchObject({ name: 'dbg1' });
    expect(dbg1?.securityContext).toBeUndefined();
    expect(dbg2).toMatchObject({ name: 'dbg2', securityContext: HARDENED_CONTAINER_CONTEXT });
  });
});

async function dryRunPod(namespace: string): Promise<StoredPod> {
  const created = await env.createPod(namespace, 'dry-run', { containers: [container('app')] }, { dryRun: true });
  if (!created.ok) throw new Error(`dry-run Pod in ${namespace} refused: ${created.message}`);
  return created.pod;
}

describe('namespace opt-in labels', () => {
  flowTest('adding the label hardens the namespace\'s next Pods; removing it stops that', async () => {
    const ns = 'label-flip';
    await env.createNamespace(ns);
    expect(await env.kubectlCreatePod(ns, 'before', { containers: [container('app')] })).toMatchObject({ code: 0 });
    expect(isHardened(await env.storedPod(ns, 'before'))).toBe(false);

    expect(await env.plane.kubectl(['label', 'namespace', ns, 'secure-defaults.io/inject=enabled'])).toMatchObject({ code: 0 });
    const on = await waitFor('the label to take effect', 15_000, async () => isHardened(await dryRunPod(ns)), 100);
    console.log(`opt-in label took effect ${on.elapsedMs} ms after kubectl label returned`);
    expect(await env.kubectlCreatePod(ns, 'during', { containers: [container('app')] })).toMatchObject({ code: 0 });
    const during = await env.storedPod(ns, 'during');
    expect(during.spec.securityContext).toMatchObject({ runAsUser: 100000, runAsNonRoot: true });
    expect(isHardened(during)).toBe(true);

    expect(await env.plane.kubectl(['label', 'namespace', ns, 'secure-defaults.io/inject-'])).toMatchObject({ code: 0 });
    const off = await waitFor('the label removal to take effect', 15_000, async () => !isHardened(await dryRunPod(ns)), 100);
    console.log(`opt-in label removal took effect ${off.elapsedMs} ms after kubectl label returned`);
    expect(await env.kubectlCreatePod(ns, 'after', { containers: [container('app')] })).toMatchObject({ code: 0 });
    const after = await env.storedPod(ns, 'after');
    expect(isHardened(after)).toBe(false);
    expect(after.spec.securityContext ?? {}).toEqual({});
    // The Pod hardened while the label was on keeps what it got.
    expect(isHardened(await env.storedPod(ns, 'during'))).toBe(true);
  });

  flowTest('kube-system and the webhook\'s own namespace are never touched, even when labelled', async () => {
    const control = 'label-control';
    await env.createNamespace(control);
    // createNamespace applies the namespace with these labels and adds its default ServiceAccount
    // (which nothing creates in kube-system here: there is no controller-manager).
    await Promise.all([
      env.createNamespace('kube-system', OPT_IN),
      env.createNamespace(SYSTEM_NAMESPACE, OPT_IN),
      env.plane.kubectl(['label', 'namespace', control, 'secure-defaults.io/inject=enabled']),
    ]);
    // Labelled at the same moment: once the control namespace's Pods are hardened, the labels are
    // known everywhere, so what follows is a decision, not lag.
    await waitFor('the control namespace to be opted in', 15_000, async () => isHardened(await dryRunPod(control)), 100);

    for (const ns of ['kube-system', SYSTEM_NAMESPACE]) {
      const labels = (await env.kubectlJson(['get', 'namespace', ns])).metadata.labels;
      expect(labels).toMatchObject(OPT_IN);
      expect(await env.kubectlCreatePod(ns, 'untouched', { containers: [container('app')] })).toMatchObject({ code: 0 });
      const pod = await env.storedPod(ns, 'untouched');
      expect({ ns, hardened: isHardened(pod), securityContext: pod.spec.securityContext ?? {} }).toEqual({ ns, hardened: false, securityContext: {} });
    }
  });
});

describe('a sidecar added by another mutating webhook after ours', () => {
  flowTest('reinvocation hardens the sidecar too, so the Pod passes "restricted"; with reinvocation off, PodSecurity refuses it', async () => {
    const ns = 'team-mesh';
    await env.createNamespace(ns, { ...OPT_IN, ...ENFORCE_RESTRICTED, ...SIDECAR_NAMESPACE_LABEL });
    const injector = await startSidecarInjector(env.plane.ca, { name: 'mesh-proxy', image: 'registry.example/mesh-proxy:1.0' });
    try {
      expect(await env.plane.kubectl(['apply', '-f', '-'], { input: JSON.stringify(injector.configuration(env.plane.caPem)) })).toMatchObject({ code: 0 });
      await waitFor('the sidecar injector to be called', 15_000, async () => {
        const created = await env.createPod(ns, 'mesh-probe', { containers: [container('app')] }, { dryRun: true });
        return created.ok && (created.pod.spec?.containers ?? []).some((c) => c.name === 'mesh-proxy');
      });

      expect(await env.kubectlCreatePod(ns, 'meshed', { containers: [container('app')] })).toMatchObject({ code: 0 });
      const pod = await env.storedPod(ns, 'meshed');
      expect(containersOf(pod, 'containers').map((c) => [c.name, c.securityContext])).toEqual([
        ['app', HARDENED_CONTAINER_CONTEXT],
        ['mesh-proxy', HARDENED_CONTAINER_CONTEXT],
      ]);
      expect(pod.spec.securityContext).toEqual(TEAM_POD_CONTEXT);
      const decisions = logEntries(env.logFile).filter((e) => e['message'] === 'admission decision' && e['namespace'] === ns && e['name'] === 'meshed');
      expect(decisions).toHaveLength(2);
      expect(decisions[1]?.['injected']).toEqual(expect.arrayContaining(['spec.containers[1].securityContext.allowPrivilegeEscalation=false']));

      // The control: the same chain without our reinvocation.
      const patch = [{ op: 'replace', path: '/webhooks/0/reinvocationPolicy', value: 'Never' }];
      expect(await env.plane.kubectl(['patch', 'mutatingwebhookconfiguration', CONFIGURATION_NAME, '--type=json', '-p', JSON.stringify(patch)])).toMatchObject({ code: 0 });
      await waitFor('reinvocation to be off', 15_000, async () => !(await env.createPod(ns, 'mesh-probe', { containers: [container('app')] }, { dryRun: true })).ok);
      const refused = await env.kubectlCreatePod(ns, 'unmeshed', { containers: [container('app')] });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('violates PodSecurity "restricted:latest"');
      expect(refused.stderr).toContain('"mesh-proxy"');
    } finally {
      await env.plane.kubectl(['delete', 'mutatingwebhookconfiguration', SIDECAR_CONFIGURATION, '--ignore-not-found']);
      await injector.close();
      await env.register('Fail');
    }
  });

  flowTest('a privileged sidecar added after our first call does not inherit the IDs that call put on the Pod: they move to the app container', async () => {
    // PodSecurity "privileged": the point is what the sidecar inherits, not whether restricted admits it.
    const ns = 'team-mesh-privileged';
    await env.createNamespace(ns, { ...OPT_IN, ...ENFORCE_PRIVILEGED, ...SIDECAR_NAMESPACE_LABEL });
    const sidecar = { name: 'mesh-agent', image: 'registry.example/mesh-agent:1.0', securityContext: { privileged: true } };
    const injector = await startSidecarInjector(env.plane.ca, sidecar);
    try {
      expect(await env.plane.kubectl(['apply', '-f', '-'], { input: JSON.stringify(injector.configuration(env.plane.caPem)) })).toMatchObject({ code: 0 });
      await waitFor('the sidecar injector to be called', 15_000, async () => {
        const created = await env.createPod(ns, 'mesh-probe', { containers: [container('app')] }, { dryRun: true });
        return created.ok && (created.pod.spec?.containers ?? []).some((c) => c.name === 'mesh-agent');
      });

      const created = await env.kubectlCreatePod(ns, 'meshed-privileged', { containers: [container('app')] });
      expect(created).toMatchObject({ code: 0 });
      expect(created.stderr).toContain(
        'spec.securityContext: runAsUser, runAsGroup, runAsNonRoot, added by an earlier call of this webhook, moved from the Pod to each container that does not set them, so that they do not reach container "mesh-agent" (privileged)',
      );
      expect(created.stderr).toContain('container "mesh-agent" is privileged and keeps the user, group and capabilities it asks for');

      const pod = await env.storedPod(ns, 'meshed-privileged');
      const { runAsUser, runAsGroup, runAsNonRoot, ...podLevelRest } = TEAM_POD_CONTEXT;
      expect(pod.spec.securityContext).toEqual(podLevelRest);
      expect(containersOf(pod, 'containers').map((c) => [c.name, c.securityContext])).toEqual([
        ['app', { ...HARDENED_CONTAINER_CONTEXT, runAsUser, runAsGroup, runAsNonRoot }],
        ['mesh-agent', { privileged: true }],
      ]);
      expect(pod.metadata.annotations[INJECTED_ANNOTATION]).toBe(
        'pod: fsGroup, fsGroupChangePolicy, seccompProfile; containers: allowPrivilegeEscalation (1), capabilities.drop (1), runAsUser (1), runAsGroup (1), runAsNonRoot (1)',
      );
      const decisions = logEntries(env.logFile).filter((e) => e['message'] === 'admission decision' && e['namespace'] === ns && e['name'] === 'meshed-privileged');
      expect(decisions).toHaveLength(2);
      expect(decisions[1]?.['removed']).toEqual(['spec.securityContext.runAsUser', 'spec.securityContext.runAsGroup', 'spec.securityContext.runAsNonRoot']);
    } finally {
      await env.plane.kubectl(['delete', 'mutatingwebhookconfiguration', SIDECAR_CONFIGURATION, '--ignore-not-found']);
      await injector.close();
    }
  });
});
