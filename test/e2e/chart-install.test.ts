// The chart installed by the real helm into the real API server: the API server validates every
// object (webhook configurations, CEL matchConditions, PDB…), PodSecurity judges the webhook's own
// Pod, and `lookup` keeps the generated certificate across upgrades. No kubelet runs, so the
// webhook itself never answers: that is used to prove which namespaces reach it.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { CHART_DIR, locateHelm, runHelm, type HelmResult } from '../chart/helm-runner.js';
import { E2E_K8S_VERSION, startControlPlane, type ControlPlane } from './rig/control-plane.js';

jest.setTimeout(15 * 60 * 1000);

const RELEASE = 'sd';
const NAMESPACE = 'secure-defaults-system';
const FULLNAME = `${RELEASE}-secure-defaults`;

describe('helm install into a real API server', () => {
  let plane: ControlPlane;
  let helmHome: string;

  const helm = (args: readonly string[]): Promise<HelmResult> =>
    runHelm([...args, '--kubeconfig', plane.kubeconfigPath], {
      HELM_CACHE_HOME: join(helmHome, 'cache'),
      HELM_CONFIG_HOME: join(helmHome, 'config'),
      HELM_DATA_HOME: join(helmHome, 'data'),
    });

  const json = async (args: readonly string[]): Promise<any> => {
    const result = await plane.kubectl([...args, '-o', 'json']);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  };

  const createPod = (namespace: string, name: string, spec: unknown) =>
    plane.kubectl(['create', '-f', '-'], { input: toYaml({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec }) });

  beforeAll(async () => {
    locateHelm();
    helmHome = await mkdtemp(join(tmpdir(), 'secure-defaults-helm-'));
    plane = await startControlPlane();
    // The release namespace enforces "restricted" itself: the webhook must run under its own medicine.
    await plane.createNamespace(NAMESPACE, { 'pod-security.kubernetes.io/enforce': 'restricted' });
    const install = await helm(['install', RELEASE, CHART_DIR, '--namespace', NAMESPACE, '--wait=false']);
    if (install.code !== 0) throw new Error(`helm install failed: ${install.stderr}`);
  });

  afterAll(async () => {
    await plane?.stop();
    if (helmHome) await rm(helmHome, { recursive: true, force: true });
  });

  test(`runs on Kubernetes ${E2E_K8S_VERSION} (K8S_VERSION picks the release; .ci/run also runs the oldest supported)`, async () => {
    const version = await json(['version']);
    expect(version.serverVersion.gitVersion).toBe(E2E_K8S_VERSION);
  });

  test('the API server accepts every object the chart renders', async () => {
    const status = await helm(['status', RELEASE, '--namespace', NAMESPACE]);
    expect(status.stdout).toContain('STATUS: deployed');
    const mutating = await json(['get', 'mutatingwebhookconfiguration', FULLNAME]);
    expect(mutating.webhooks[0].name).toBe('pods.secure-defaults.io');
    const validating = await json(['get', 'validatingwebhookconfiguration', FULLNAME]);
    expect(validating.webhooks[0].matchConditions[0].expression).toBe(`request.name == "${FULLNAME}-policy"`);
  });

  test('PodSecurity "restricted" admits the webhook Pod exactly as the Deployment would create it', async () => {
    const deployment = await json(['get', 'deployment', FULLNAME, '-n', NAMESPACE]);
    const created = await createPod(NAMESPACE, 'webhook-pod-as-templated', deployment.spec.template.spec);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
  });

  test('an opted-in namespace reaches the webhook (failurePolicy Fail refuses while it is down)', async () => {
    await plane.createNamespace('team-a', { 'secure-defaults.io/inject': 'enabled' });
    const result = await createPod('team-a', 'app', { containers: [{ name: 'app', image: 'busybox' }] });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('failed calling webhook "pods.secure-defaults.io"');
  });

  test.each([
    ['a namespace that did not opt in', 'team-b', false],
    ['kube-system, even labelled', 'kube-system', true],
    ["the webhook's own namespace, even labelled", NAMESPACE, true],
  ])('%s never reaches the webhook', async (_name, namespace, optIn) => {
    if (namespace === 'team-b') await plane.createNamespace(namespace);
    // Namespaces that already exist only lack the ServiceAccount no controller created (it may exist already).
    else await plane.kubectl(['create', 'serviceaccount', 'default', '-n', namespace]);
    if (optIn) {
      const labelled = await plane.kubectl(['label', 'namespace', namespace, 'secure-defaults.io/inject=enabled', '--overwrite']);
      expect(labelled.code).toBe(0);
    }
    const spec = {
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'app', image: 'busybox', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
    };
    const result = await createPod(namespace, `bypass-${namespace}`, spec);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  test('the policy ConfigMap stays editable while the webhook is down (validation fails open)', async () => {
    const patched = await plane.kubectl([
      'patch', 'configmap', `${FULLNAME}-policy`, '-n', NAMESPACE, '--type', 'merge',
      '-p', JSON.stringify({ metadata: { annotations: { 'example.com/touched': 'yes' } } }),
    ]);
    expect(patched.stderr).toBe('');
    expect(patched.code).toBe(0);
  });

  test('helm upgrade keeps the generated CA and serving certificate, and the caBundle matches', async () => {
    const before = await json(['get', 'secret', `${FULLNAME}-tls`, '-n', NAMESPACE]);
    const upgrade = await helm(['upgrade', RELEASE, CHART_DIR, '--namespace', NAMESPACE, '--set', 'webhook.timeoutSeconds=7']);
    expect(upgrade.stderr).toBe('');
    expect(upgrade.code).toBe(0);
    const after = await json(['get', 'secret', `${FULLNAME}-tls`, '-n', NAMESPACE]);
    expect(after.data).toEqual(before.data);
    const mutating = await json(['get', 'mutatingwebhookconfiguration', FULLNAME]);
    const validating = await json(['get', 'validatingwebhookconfiguration', FULLNAME]);
    expect(mutating.webhooks[0].timeoutSeconds).toBe(7);
    expect(mutating.webhooks[0].clientConfig.caBundle).toBe(before.data['ca.crt']);
    expect(validating.webhooks[0].clientConfig.caBundle).toBe(before.data['ca.crt']);
  });

  test('the webhook ServiceAccount can read its policy ConfigMap and namespaces, and nothing more', async () => {
    const as = ['--as', `system:serviceaccount:${NAMESPACE}:${FULLNAME}`];
    const can = async (...args: string[]): Promise<string> => (await plane.kubectl(['auth', 'can-i', ...args, ...as])).stdout.trim();
    expect(await can('get', `configmap/${FULLNAME}-policy`, '-n', NAMESPACE)).toBe('yes');
    expect(await can('watch', 'namespaces')).toBe('yes');
    expect(await can('get', 'namespaces/team-a')).toBe('yes');
    expect(await can('create', 'events', '-n', 'team-a')).toBe('yes');
    expect(await can('get', 'configmap/other', '-n', NAMESPACE)).toBe('no');
    expect(await can('get', 'secrets', '-n', NAMESPACE)).toBe('no');
    expect(await can('patch', 'namespaces')).toBe('no');
    expect(await can('create', 'pods', '-n', 'team-a')).toBe('no');
  });

  test('the API server accepts the optional NetworkPolicy, hostNetwork Deployment, dashboard ConfigMap and Service metadata', async () => {
    await plane.createNamespace('day-two', {});
    const rendered = await runHelm([
      'template', RELEASE, CHART_DIR, '--namespace', 'day-two', '--kube-version', '1.35.0',
      '--set', 'networkPolicy.enabled=true', '--set', 'networkPolicy.apiServerCidrs={10.0.0.0/24}', '--set', 'hostNetwork.enabled=true',
      '--set', 'grafanaDashboard.enabled=true', '--set', 'service.annotations.team=platform',
      '--show-only', 'templates/networkpolicy.yaml', '--show-only', 'templates/deployment.yaml',
      '--show-only', 'templates/grafana-dashboard.yaml', '--show-only', 'templates/service.yaml',
    ]);
    expect(rendered.code).toBe(0);
    // Server-side dry run with strict field validation: an unknown or misplaced field is an error.
    const applied = await plane.kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: rendered.stdout });
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain(`networkpolicy.networking.k8s.io/${FULLNAME} created (server dry run)`);
    expect(applied.stdout).toContain(`deployment.apps/${FULLNAME} created (server dry run)`);
    expect(applied.stdout).toContain(`configmap/${FULLNAME}-dashboard created (server dry run)`);
  });
});
