// The allocator inside `secure-defaults serve`, against a real kube-apiserver: two compiled serve
// processes read the same policy ConfigMap (enforce mode, spec.allocation) as the chart's
// ServiceAccount with the chart's allocation RBAC. One is registered as the mutating webhook; the
// other only runs as a standby allocator, and is made to hold the Lease first, so the registered
// one's Pods wait for blocks another process allocates. Then the standby stops (SIGTERM releases
// the Lease) and the registered one takes over allocating.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { ApiException, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { parseIdRangeText, rangesOverlap } from '../../src/allocation/id-range-text.js';
import type { IdRange } from '../../src/engine/model.js';
import { findOne, locateHelm, renderChart, type Manifest } from '../chart/helm-runner.js';
import { issueCertificate } from './rig/certificates.js';
import { compileCli, type CompiledCli } from './rig/compiled-cli.js';
import { freePort, startControlPlane, writeServiceAccountKubeconfig, type ControlPlane } from './rig/control-plane.js';

jest.setTimeout(10 * 60 * 1000); // the first run may build kube-apiserver

const RELEASE_NAMESPACE = 'secure-defaults';
const OPT_IN = { 'secure-defaults.io/inject': 'enabled' };
const RESTRICTED = { 'pod-security.kubernetes.io/enforce': 'restricted' };
const UID_RANGE = 'secure-defaults.io/uid-range';
const POLICY = `apiVersion: secure-defaults.io/v1alpha1
kind: SecureDefaultsPolicy
metadata: { name: e2e-allocating }
spec:
  mode: enforce
  defaults:
    runAsNonRoot: true
    seccompProfile: RuntimeDefault
    dropCapabilities: [ALL]
    allowPrivilegeEscalation: false
  namespaces:
    - names: [ruled]
      uidRange: "50000-59999"
  allocation: { range: "1000000000-1999999999", blockSize: 10000 }
`;

interface ServeChild {
  readonly name: string;
  readonly port: number;
  readonly process: ChildProcess;
  output: string;
}

function httpsGet(url: string, ca: string | undefined): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const req = request(url, { ca, rejectUnauthorized: ca !== undefined, timeout: 2_000 }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', () => resolve({ status: 0, text: '' }));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined | false>, context: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function apiMessage(error: unknown): string {
  if (error instanceof ApiException) {
    const body = error.body as unknown;
    try {
      return (typeof body === 'string' ? (JSON.parse(body) as { message?: string }).message : (body as { message?: string }).message) ?? String(body);
    } catch {
      return String(body);
    }
  }
  return String(error);
}

const firstUid = (annotation: string | undefined): number => {
  const parsed = parseIdRangeText(annotation ?? '');
  if (!parsed.ok) throw new Error(`namespace annotation ${JSON.stringify(annotation)}: ${parsed.message}`);
  return parsed.range.min;
};

describe('the allocator inside secure-defaults serve, behind a real kube-apiserver', () => {
  let plane: ControlPlane;
  let cli: CompiledCli;
  let workDir = '';
  let core: CoreV1Api;
  let leaseName = '';
  let policyConfigMapName = '';
  const children: ServeChild[] = [];
  let serving: ServeChild;
  let standby: ServeChild;

  const logsOf = (): string => children.map((c) => `\n--- ${c.name} output:\n${c.output.slice(-3000)}`).join('');

  const kubectlJson = async (args: readonly string[]): Promise<any> => {
    const result = await plane.kubectl([...args, '-o', 'json']);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  };
  const leaseHolder = async (): Promise<string> => (await kubectlJson(['get', 'lease', leaseName, '-n', RELEASE_NAMESPACE])).spec?.holderIdentity ?? '';

  /** Namespace and its default ServiceAccount (the ServiceAccount admission plugin needs it; no controller makes it here). */
  const createNamespace = async (name: string): Promise<void> => {
    await core.createNamespace({ body: { metadata: { name, labels: { ...OPT_IN, ...RESTRICTED } } } });
    await core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: 'default' } } });
  };
  const createPod = (namespace: string, securityContext: Record<string, unknown> = {}): Promise<V1Pod> =>
    core.createNamespacedPod({ namespace, body: { metadata: { name: 'first' }, spec: { securityContext, containers: [{ name: 'app', image: 'busybox' }] } } });
  const annotationOf = async (namespace: string): Promise<string | undefined> => (await core.readNamespace({ name: namespace })).metadata?.annotations?.[UID_RANGE];

  function startServe(name: string, args: readonly string[], port: number): ServeChild {
    const child = spawn(process.execPath, [cli.mainJs, 'serve', '--port', String(port), '--host', '127.0.0.1', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, POD_NAME: name },
    });
    const entry: ServeChild = { name, port, process: child, output: '' };
    child.stdout?.on('data', (chunk: Buffer) => (entry.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (entry.output += chunk.toString()));
    children.push(entry);
    return entry;
  }

  beforeAll(async () => {
    locateHelm();
    [plane, cli] = await Promise.all([startControlPlane(), compileCli()]);
    workDir = await mkdtemp(join(tmpdir(), 'secure-defaults-e2e-alloc-'));
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(plane.kubeconfigPath);
    core = kubeConfig.makeApiClient(CoreV1Api);

    const chart = await renderChart({ namespace: RELEASE_NAMESPACE, release: 'sd', set: ['allocation.enabled=true'] });
    const policyConfigMap = findOne(chart, 'ConfigMap')['metadata']['name'] as string;
    policyConfigMapName = policyConfigMap;
    // The ledger and Lease names the chart's Role grants, by resourceNames.
    const rules = findOne(chart, 'Role')['rules'] as Manifest[];
    const named = (resource: string, verb: string): string =>
      rules.find((r) => (r['resources'] as string[]).includes(resource) && (r['verbs'] as string[]).includes(verb) && r['resourceNames'] && !(r['resourceNames'] as string[]).includes(policyConfigMap))?.['resourceNames'][0];
    const ledgerName = named('configmaps', 'update');
    leaseName = named('leases', 'update');
    expect([ledgerName, leaseName].every((n) => typeof n === 'string' && n !== '')).toBe(true);

    await plane.createNamespace(RELEASE_NAMESPACE, RESTRICTED);
    const webhookKinds = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];
    const installed = chart
      .filter((m) => !webhookKinds.includes(m['kind']))
      .map((m) => (m['kind'] === 'ConfigMap' && m['metadata']['name'] === policyConfigMap ? { ...m, data: { 'policy.yaml': POLICY } } : m));
    const applied = await plane.kubectl(['apply', '-f', '-'], { input: installed.map((m) => toYaml(m)).join('---\n') });
    if (applied.code !== 0) throw new Error(`kubectl apply: ${applied.stderr}`);

    const serviceAccount = findOne(chart, 'ServiceAccount')['metadata']['name'];
    const webhookKubeconfig = join(workDir, 'webhook.kubeconfig');
    await writeServiceAccountKubeconfig(plane, serviceAccount, RELEASE_NAMESPACE, webhookKubeconfig);
    const certificate = await issueCertificate(plane.ca, { commonName: 'secure-defaults', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' });
    await writeFile(join(workDir, 'tls.crt'), certificate.certPem);
    await writeFile(join(workDir, 'tls.key'), certificate.keyPem, { mode: 0o600 });
    const common = [
      '--policy-configmap', `${RELEASE_NAMESPACE}/${policyConfigMap}`,
      '--kubeconfig', webhookKubeconfig,
      '--allocation-ledger', ledgerName,
      '--allocation-lease', leaseName,
      '--shutdown-delay', '0',
      '--drain-timeout', '5',
    ];

    // The standby first, so that it holds the Lease: the registered webhook's Pods then wait for
    // blocks allocated by another process.
    standby = startServe('standby', common, await freePort());
    await waitUntil('the standby to hold the allocator Lease', 30_000, async () => (await leaseHolder()) === 'standby', logsOf);
    serving = startServe('serving', [...common, '--tls-cert', join(workDir, 'tls.crt'), '--tls-key', join(workDir, 'tls.key')], await freePort());
    await waitUntil('the serving webhook to be ready', 30_000, async () => (await httpsGet(`https://127.0.0.1:${serving.port}/readyz`, plane.caPem)).status === 200, logsOf);

    const caBundle = Buffer.from(plane.caPem).toString('base64');
    const mutating = findOne(chart, 'MutatingWebhookConfiguration');
    const registration = {
      ...mutating,
      webhooks: (mutating['webhooks'] as Manifest[]).map((hook) => ({ ...hook, clientConfig: { url: `https://127.0.0.1:${serving.port}${hook['clientConfig']['service']['path']}`, caBundle } })),
    };
    const registered = await plane.kubectl(['apply', '-f', '-'], { input: toYaml(registration) });
    if (registered.code !== 0) throw new Error(`registering the webhook: ${registered.stderr}`);
  });

  afterAll(async () => {
    for (const child of children) {
      if (child.process.exitCode === null && child.process.signalCode === null) {
        child.process.kill('SIGKILL');
        await once(child.process, 'exit');
      }
    }
    await plane?.stop();
    await cli?.remove();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  test('a non-leader replica is ready, and says it is not the allocator', async () => {
    expect(await leaseHolder()).toBe('standby');
    expect((await httpsGet(`https://127.0.0.1:${serving.port}/readyz`, plane.caPem)).status).toBe(200);
    const metrics = (await httpsGet(`https://127.0.0.1:${serving.port}/metrics`, plane.caPem)).text;
    expect(metrics).toMatch(/^secure_defaults_allocation_leader 0$/m);
  });

  test('a Pod created right after its namespace runs as the first UID of the block the namespace got', async () => {
    await createNamespace('fresh');
    const pod = await createPod('fresh').catch((error: unknown) => {
      throw new Error(`Pod refused: ${apiMessage(error)}${logsOf()}`);
    });
    const block = await annotationOf('fresh');
    expect(pod.spec?.securityContext?.runAsUser).toBe(firstUid(block));
    expect(pod.spec?.securityContext?.runAsNonRoot).toBe(true);
    // The Pod came before the block (the allocator gathers namespace changes for 200 ms): the
    // webhook held it until its namespace cache saw the standby's annotation.
    const decision = serving.output
      .split('\n')
      .filter((line) => line.includes('"admission decision"') && line.includes('"namespace":"fresh"'))
      .map((line) => JSON.parse(line) as { waitedForBlockMs?: number; result?: string })[0];
    expect(decision?.result).toBe('patched');
    expect(decision?.waitedForBlockMs).toBeGreaterThan(0);
  });

  test('a namespace matched by a rule gets the rule\'s range and no block', async () => {
    await createNamespace('ruled');
    const pod = await createPod('ruled');
    expect(pod.spec?.securityContext?.runAsUser).toBe(50000);
    expect(await annotationOf('ruled')).toBeUndefined();
  });

  test('enforce mode: an explicit runAsUser outside the namespace\'s block is denied, naming the block', async () => {
    await createNamespace('explicit');
    const refusal = await createPod('explicit', { runAsUser: 5000 }).then(
      () => 'admitted',
      (error: unknown) => apiMessage(error),
    );
    const block = await annotationOf('explicit');
    expect(block).toBeDefined();
    expect(refusal).toContain('5000');
    expect(refusal).toContain(block!);
  });

  test('20 namespaces created at once get distinct blocks, and each first Pod runs as its block\'s first UID', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `burst-${String(i).padStart(2, '0')}`);
    const pods = await Promise.all(
      names.map(async (name) => {
        await createNamespace(name);
        return createPod(name).catch((error: unknown) => {
          throw new Error(`Pod in ${name} refused: ${apiMessage(error)}${logsOf()}`);
        });
      }),
    );
    const blocks = await Promise.all(names.map((name) => annotationOf(name)));
    const ranges: IdRange[] = blocks.map((block) => {
      const parsed = parseIdRangeText(block ?? '');
      if (!parsed.ok) throw new Error(`bad annotation ${block}`);
      return parsed.range;
    });
    for (let i = 0; i < ranges.length; i++) {
      for (let j = i + 1; j < ranges.length; j++) expect(rangesOverlap(ranges[i]!, ranges[j]!)).toBe(false);
    }
    expect(pods.map((pod) => pod.spec?.securityContext?.runAsUser)).toEqual(ranges.map((range) => range.min));
  });

  test('SIGTERM on the standby releases the Lease; the serving replica takes over allocating', async () => {
    standby.process.kill('SIGTERM');
    const [code] = (await once(standby.process, 'exit')) as [number | null];
    expect(code).toBe(0);
    await waitUntil('the serving replica to take the Lease', 15_000, async () => (await leaseHolder()) === 'serving', logsOf);
    await waitUntil('the serving replica to report itself leader', 5_000, async () => /^secure_defaults_allocation_leader 1$/m.test((await httpsGet(`https://127.0.0.1:${serving.port}/metrics`, plane.caPem)).text));
    await createNamespace('after-takeover');
    const pod = await createPod('after-takeover');
    expect(pod.spec?.securityContext?.runAsUser).toBe(firstUid(await annotationOf('after-takeover')));
  });

  test('with the pool used up, a Pod waits out --allocation-wait and is denied, pointing at the namespace\'s Events', async () => {
    // One block, long since given to "fresh".
    const edited = await plane.kubectl(['apply', '-f', '-'], {
      input: toYaml({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: policyConfigMapName, namespace: RELEASE_NAMESPACE },
        data: { 'policy.yaml': POLICY.replace('range: "1000000000-1999999999"', 'range: "1000000000-1000009999"') },
      }),
    });
    expect(edited.stderr).toBe('');
    await waitUntil('the edited policy to be in force', 10_000, async () => /^secure_defaults_policy_generation 2$/m.test((await httpsGet(`https://127.0.0.1:${serving.port}/metrics`, plane.caPem)).text), logsOf);
    await createNamespace('starved');
    const started = Date.now();
    const refusal = await createPod('starved').then(
      () => 'admitted',
      (error: unknown) => apiMessage(error),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
    expect(refusal).toContain('namespace "starved" has no UID block yet');
    expect(refusal).toContain('kubectl get events -n default --field-selector involvedObject.kind=Namespace,involvedObject.name=starved');
    const events = await waitUntil('the UidPoolExhausted Event', 10_000, async () => {
      const list = await kubectlJson(['get', 'events', '-n', 'default', '--field-selector', 'involvedObject.kind=Namespace,involvedObject.name=starved']);
      return (list.items as Array<{ reason: string; message: string }>).find((event) => event.reason === 'UidPoolExhausted');
    });
    expect(events.message).toContain('no free block of 10000 IDs is left in the pool 1000000000-1000009999');
  });
});
