// defaults.hostUsers: false through a real kube-apiserver: the API server's validation accepts
// what the webhook adds, Pod Security Admission judges it at the namespace's pinned policy version,
// and kubectl prints the webhook's warnings (what it left out, what PSA will still refuse).
import { afterAll, beforeAll, describe, expect, jest } from '@jest/globals';
import {
  container,
  ENFORCE_RESTRICTED,
  flowTestWithLog,
  OPT_IN,
  startFlowEnvironment,
  type FlowEnvironment,
} from './support/flow-environment.js';

jest.setTimeout(5 * 60 * 1000);

const POLICY = `apiVersion: secure-defaults.io/v1alpha1
kind: SecureDefaultsPolicy
metadata: { name: e2e-user-namespaces }
spec:
  defaults:
    hostUsers: false
  namespaces:
    - names: ["userns-*"]
      uidRange: "40000-49999" # inside the 65536 IDs the kubelet maps into each Pod's user namespace
    - names: ["high-*"]
      uidRange: "300000-309999"
`;

const LATEST = 'userns-latest'; // restricted, latest policy version
const PINNED_135 = 'userns-v135'; // restricted, enforce-version v1.35 (oldest supported release)
const PINNED_134 = 'userns-v134'; // restricted, enforce-version v1.34 (before the user-namespace exemption)
const HIGH_RANGE = 'high-range'; // restricted, a UID range no user namespace maps

let env: FlowEnvironment;
const flowTest = flowTestWithLog(() => env.logFile);

beforeAll(async () => {
  env = await startFlowEnvironment(POLICY);
  const pinned = (version: string) => ({ ...OPT_IN, ...ENFORCE_RESTRICTED, 'pod-security.kubernetes.io/enforce-version': version });
  await Promise.all([
    env.createNamespace(LATEST, { ...OPT_IN, ...ENFORCE_RESTRICTED }),
    env.createNamespace(PINNED_135, pinned('v1.35')),
    env.createNamespace(PINNED_134, pinned('v1.34')),
    env.createNamespace(HIGH_RANGE, { ...OPT_IN, ...ENFORCE_RESTRICTED }),
  ]);
});

afterAll(async () => {
  await env?.teardown();
});

describe('user namespaces as a default', () => {
  flowTest('a bare Pod is stored with hostUsers: false and its namespace\'s UIDs, and passes "restricted"', async () => {
    expect(await env.kubectlCreatePod(LATEST, 'bare', { containers: [container('app')] })).toMatchObject({ code: 0 });
    const pod = await env.storedPod(LATEST, 'bare');
    expect(pod.spec.hostUsers).toBe(false);
    expect(pod.spec.securityContext).toMatchObject({ runAsUser: 40000, runAsGroup: 40000, runAsNonRoot: true });
  });

  // Root by its own settings keeps the capabilities it has (never break a workload), so these Pods
  // drop them themselves: what is judged here is UID 0 inside a user namespace.
  const root = { securityContext: { runAsUser: 0 }, containers: [container('app', { capabilities: { drop: ['ALL'] } })] };

  flowTest('a Pod that runs as root keeps UID 0 inside its own user namespace, which Pod Security v1.35 admits', async () => {
    const created = await env.kubectlCreatePod(PINNED_135, 'root', root);
    expect(created).toMatchObject({ code: 0 });
    const pod = await env.storedPod(PINNED_135, 'root');
    expect(pod.spec.hostUsers).toBe(false);
    expect(pod.spec.securityContext.runAsUser).toBe(0);
    expect(created.stderr).not.toContain('Pod Security');
  });

  flowTest('a root Pod that keeps its capabilities gets hostUsers: false, and the webhook warns that restricted refuses the capabilities', async () => {
    const created = await env.kubectlCreatePod(PINNED_135, 'root-caps', { securityContext: { runAsUser: 0 }, containers: [container('app')] });
    expect(created.code).not.toBe(0);
    expect(created.stderr).toContain('Warning: Pod Security "restricted:v1.35" (namespace "userns-v135") will refuse this Pod: unrestricted capabilities');
    expect(created.stderr).toContain('violates PodSecurity "restricted:v1.35"');
  });

  flowTest('the same Pod where the namespace pins v1.34 is refused by PSA, and the webhook\'s warning said so first', async () => {
    const created = await env.kubectlCreatePod(PINNED_134, 'root', root);
    expect(created.code).not.toBe(0);
    expect(created.stderr).toContain('violates PodSecurity "restricted:v1.34"');
    expect(created.stderr).toContain('runAsUser=0');
    expect(created.stderr).toContain('Warning: Pod Security "restricted:v1.34" (namespace "userns-v134") will refuse this Pod: runAsUser=0');
  });

  flowTest('a namespace whose UID range lies above 65535 keeps the node\'s user namespace, with its range, and kubectl shows why', async () => {
    const created = await env.kubectlCreatePod(HIGH_RANGE, 'bare', { containers: [container('app')] });
    expect(created).toMatchObject({ code: 0 });
    expect(created.stderr).toContain('Warning: spec.hostUsers: false not added, the Pod keeps the node\'s user namespace, because it would run as ID 300000');
    const pod = await env.storedPod(HIGH_RANGE, 'bare');
    expect(pod.spec.hostUsers).toBeUndefined();
    expect(pod.spec.securityContext.runAsUser).toBe(300000);
  });

  flowTest('a hostNetwork Pod keeps the node\'s user namespace, and kubectl shows why', async () => {
    const created = await env.kubectlCreatePod(LATEST, 'host-net', { hostNetwork: true, containers: [container('app')] });
    // restricted refuses hostNetwork whatever the webhook does; the warning comes with the refusal.
    expect(created.stderr).toContain('Warning: spec.hostUsers: false not added, the Pod keeps the node\'s user namespace, because it sets hostNetwork: true');
    const dryRun = await env.createPod(LATEST, 'host-net', { hostNetwork: true, containers: [container('app')] }, { dryRun: true });
    expect(dryRun.ok).toBe(false);
    expect(!dryRun.ok && dryRun.message).toContain('host namespaces');
    expect(!dryRun.ok && dryRun.message).not.toContain('hostUsers');
  });
});
