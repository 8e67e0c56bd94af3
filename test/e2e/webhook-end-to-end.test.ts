// The whole product against a real kube-apiserver: the compiled `secure-defaults serve` process,
// started with the Deployment's own args from the Helm chart and authenticated as the chart's
// ServiceAccount (so the chart's RBAC is proven sufficient), registered through the chart's own
// webhook configurations (only clientConfig pointed at 127.0.0.1). PodSecurity "restricted" on the
// namespaces is the API server's verdict on what the webhook produced.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { CHART_DIR, findOne, locateHelm, renderChart, type Manifest } from '../chart/helm-runner.js';
import { issueCertificate } from './rig/certificates.js';
import { compileCli, type CompiledCli } from './rig/compiled-cli.js';
import { freePort, startControlPlane, writeServiceAccountKubeconfig, type ControlPlane } from './rig/control-plane.js';

jest.setTimeout(15 * 60 * 1000);

const RELEASE_NAMESPACE = 'secure-defaults';
const OPTED_IN = 'team-a';
const NOT_OPTED_IN = 'team-b';
const RESTRICTED = { 'pod-security.kubernetes.io/enforce': 'restricted' };
const OPT_IN = { 'secure-defaults.io/inject': 'enabled' };

const defaultPolicy = parseYaml(readFileSync(join(CHART_DIR, 'files', 'default-policy.yaml'), 'utf8')) as { spec: { fallback: { uidRange: string } } };
const [FALLBACK_MIN, FALLBACK_MAX] = defaultPolicy.spec.fallback.uidRange.split('-').map(Number) as [number, number];

function getStatus(url: string, ca: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { ca, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!accept(last) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    last = await probe();
  }
  if (!accept(last)) throw new Error(`${what}: still ${JSON.stringify(last)} after ${timeoutMs} ms`);
  return last;
}

describe('secure-defaults serve behind a real kube-apiserver', () => {
  let plane: ControlPlane;
  let cli: CompiledCli;
  let workDir: string;
  let webhook: ChildProcess | undefined;
  let webhookLog = '';
  let port = 0;
  let chart: Manifest[];
  let policyConfigMapName = '';

  const kubectlJson = async (args: readonly string[]): Promise<any> => {
    const result = await plane.kubectl([...args, '-o', 'json']);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  };
  const apply = async (manifests: readonly unknown[]): Promise<void> => {
    const result = await plane.kubectl(['apply', '-f', '-'], { input: manifests.map((m) => toYaml(m)).join('---\n') });
    if (result.code !== 0) throw new Error(`kubectl apply: ${result.stderr}`);
  };
  const createPod = (namespace: string, name: string, spec: unknown) =>
    plane.kubectl(['create', '-f', '-', '-o', 'json'], { input: toYaml({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec }) });
  const policyWithFallback = (uidRange: string): string =>
    readFileSync(join(CHART_DIR, 'files', 'default-policy.yaml'), 'utf8').replace(`uidRange: "${defaultPolicy.spec.fallback.uidRange}"`, `uidRange: "${uidRange}"`);
  const setPolicy = (text: string) =>
    plane.kubectl(['apply', '-f', '-'], {
      input: toYaml({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: policyConfigMapName, namespace: RELEASE_NAMESPACE }, data: { 'policy.yaml': text } }),
    });

  beforeAll(async () => {
    locateHelm();
    [plane, cli] = await Promise.all([startControlPlane(), compileCli()]);
    workDir = await mkdtemp(join(tmpdir(), 'secure-defaults-e2e-'));
    chart = await renderChart({ namespace: RELEASE_NAMESPACE, release: 'sd' });
    policyConfigMapName = findOne(chart, 'ConfigMap')['metadata']['name'];

    // Everything the chart installs, except the webhook configurations (registered once the webhook is up).
    await plane.createNamespace(RELEASE_NAMESPACE, RESTRICTED);
    const webhookKinds = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];
    await apply(chart.filter((manifest) => !webhookKinds.includes(manifest['kind'])));

    // The webhook authenticates as the chart's ServiceAccount, as it would in its Pod.
    const serviceAccount = findOne(chart, 'ServiceAccount')['metadata']['name'];
    const kubeconfig = join(workDir, 'webhook.kubeconfig');
    await writeServiceAccountKubeconfig(plane, serviceAccount, RELEASE_NAMESPACE, kubeconfig);
    const serving = await issueCertificate(plane.ca, { commonName: 'secure-defaults', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' });
    await writeFile(join(workDir, 'tls.crt'), serving.certPem);
    await writeFile(join(workDir, 'tls.key'), serving.keyPem, { mode: 0o600 });
    port = await freePort();

    // The Deployment's args, with only the port and the mounted-file paths swapped for local ones.
    const deploymentArgs = findOne(chart, 'Deployment')['spec']['template']['spec']['containers'][0]['args'] as string[];
    const local: Record<string, string> = { '--port': String(port), '--tls-cert': join(workDir, 'tls.crt'), '--tls-key': join(workDir, 'tls.key') };
    const args = deploymentArgs.map((arg, index) => local[deploymentArgs[index - 1] ?? ''] ?? arg);
    webhook = spawn(process.execPath, [cli.mainJs, ...args, '--host', '127.0.0.1', '--kubeconfig', kubeconfig], { stdio: ['ignore', 'pipe', 'pipe'] });
    webhook.stdout?.on('data', (chunk: Buffer) => (webhookLog += chunk.toString()));
    webhook.stderr?.on('data', (chunk: Buffer) => (webhookLog += chunk.toString()));
    try {
      await eventually(() => getStatus(`https://127.0.0.1:${port}/readyz`, plane.caPem), (status) => status === 200 || webhook?.exitCode !== null, 30_000, 'webhook /readyz');
    } catch (error) {
      throw new Error(`${(error as Error).message}\nwebhook output:\n${webhookLog.slice(-4000)}`);
    }
    if (webhook.exitCode !== null) throw new Error(`webhook exited ${webhook.exitCode}:\n${webhookLog.slice(-4000)}`);

    const caBundle = Buffer.from(plane.caPem).toString('base64');
    await apply(
      chart
        .filter((manifest) => webhookKinds.includes(manifest['kind']))
        .map((config) => ({
          ...config,
          webhooks: (config['webhooks'] as Manifest[]).map((hook) => ({
            ...hook,
            clientConfig: { url: `https://127.0.0.1:${port}${hook['clientConfig']['service']['path']}`, caBundle },
          })),
        })),
    );
    await plane.createNamespace(OPTED_IN, { ...OPT_IN, ...RESTRICTED });
    await plane.createNamespace(NOT_OPTED_IN, RESTRICTED);
  });

  afterAll(async () => {
    if (webhook && webhook.exitCode === null) {
      webhook.kill('SIGKILL');
      await once(webhook, 'exit');
    }
    await plane?.stop();
    await cli?.remove();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  test('a root Pod with no securityContext is admitted in a restricted, opted-in namespace, hardened', async () => {
    const created = await createPod(OPTED_IN, 'bare', { containers: [{ name: 'app', image: 'busybox' }] });
    expect(created.stderr).toBe('');
    const pod = JSON.parse(created.stdout);
    const podContext = pod.spec.securityContext;
    expect(podContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(podContext.runAsUser).toBeGreaterThanOrEqual(FALLBACK_MIN);
    expect(podContext.runAsUser).toBeLessThanOrEqual(FALLBACK_MAX);
    expect(pod.spec.containers[0].securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(pod.metadata.annotations['secure-defaults.io/injected']).toEqual(expect.stringContaining('runAsNonRoot'));
  });

  test('the same Pod in a restricted namespace that did not opt in is refused by PodSecurity', async () => {
    const created = await createPod(NOT_OPTED_IN, 'bare', { containers: [{ name: 'app', image: 'busybox' }] });
    expect(created.code).not.toBe(0);
    expect(created.stderr).toContain('violates PodSecurity "restricted:latest"');
  });

  test('values a Pod sets itself are kept', async () => {
    const created = await createPod(OPTED_IN, 'own-user', {
      securityContext: { runAsUser: FALLBACK_MIN + 7 },
      containers: [{ name: 'app', image: 'busybox', securityContext: { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } }],
    });
    expect(created.stderr).toBe('');
    const pod = JSON.parse(created.stdout);
    expect(pod.spec.securityContext.runAsUser).toBe(FALLBACK_MIN + 7);
    expect(pod.spec.containers[0].securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
  });

  test('kubectl debug: the ephemeral container is hardened too, so PodSecurity admits it', async () => {
    // --profile=legacy sets no securityContext (kubectl 1.37's default "general" adds SYS_PTRACE,
    // which the webhook keeps and "restricted" refuses): what the container carries is the webhook's.
    const debug = await plane.kubectl(['debug', 'bare', '-n', OPTED_IN, '--image=busybox', '--container=debugger', '--profile=legacy']);
    expect(debug.stderr).not.toContain('violates PodSecurity');
    expect(debug.code).toBe(0);
    const pod = await kubectlJson(['get', 'pod', 'bare', '-n', OPTED_IN]);
    const debugger_ = (pod.spec.ephemeralContainers as Manifest[]).find((container) => container['name'] === 'debugger');
    expect(debugger_?.['securityContext']).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  });

  test('a broken policy edit is refused with its errors, and the webhook keeps serving', async () => {
    const refused = await setPolicy('apiVersion: secure-defaults.io/v1alpha1\nkind: SecureDefaultsPolicy\nspec:\n  mode: sometimes\n');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('denied the request');
    expect(refused.stderr).toContain('spec.mode');
    expect(await getStatus(`https://127.0.0.1:${port}/readyz`, plane.caPem)).toBe(200);
  });

  test('a valid policy edit applies live: new Pods get IDs from the new range', async () => {
    const applied = await setPolicy(policyWithFallback('300000-365535'));
    expect(applied.stderr).toBe('');
    let attempt = 0;
    const runAsUser = await eventually(
      async () => {
        attempt += 1;
        const created = await createPod(OPTED_IN, `after-edit-${attempt}`, { containers: [{ name: 'app', image: 'busybox' }] });
        return created.code === 0 ? (JSON.parse(created.stdout).spec.securityContext.runAsUser as number) : -1;
      },
      (uid) => uid >= 300000 && uid <= 365535,
      15_000,
      'runAsUser of a Pod created after the policy edit',
    );
    expect(runAsUser).toBeGreaterThanOrEqual(300000);
  });

  test('SIGTERM stops the webhook with exit code 0', async () => {
    webhook!.kill('SIGTERM');
    const [code] = (await once(webhook!, 'exit')) as [number | null];
    expect([code, webhookLog.includes('"level":"error"') ? webhookLog.slice(-3000) : 'no errors logged']).toEqual([0, 'no errors logged']);
  });
});
