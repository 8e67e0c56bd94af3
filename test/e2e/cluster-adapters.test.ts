// The webhook against a real etcd + kube-apiserver (the e2e rig): `serve --policy-configmap`
// registered as mutating webhook for Pods and validating webhook for its ConfigMap, so what is
// asserted is what the API server stored or refused.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { startServe, type RunningServe } from '../../src/cli/commands/serve.js';
import { issueCertificate } from './rig/certificates.js';
import { startControlPlane, type ControlPlane } from './rig/control-plane.js';
import { RecordingLogger } from '../server/webhook-harness.js';
import { compilePolicyWorker, type CompiledPolicyWorker } from '../server/compiled-policy-worker.js';
import { systemClock } from '../../src/foundation/clock.js';
import { BROKEN_POLICY, policyYaml } from '../cluster/policy-fixtures.js';

jest.setTimeout(15 * 60 * 1000); // the first run on a machine builds kube-apiserver from source

async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!accept(last)) {
    if (Date.now() > deadline) throw new Error(`still ${JSON.stringify(last)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
    last = await read();
  }
  return last;
}

function configMapYaml(text: string): string {
  return toYaml({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'policy', namespace: 'secure-defaults' }, data: { 'policy.yaml': text } });
}

describe('serve --policy-configmap against a real API server', () => {
  let plane: ControlPlane;
  let serve: RunningServe;
  let dir: string;
  let worker: CompiledPolicyWorker;
  const logger = new RecordingLogger();
  let podCounter = 0;

  /** Creates a Pod through the API server and returns the runAsUser it was stored with. */
  async function storedRunAsUser(namespace: string): Promise<string> {
    const name = `p${++podCounter}`;
    const pod = toYaml({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { containers: [{ name: 'app', image: 'nginx' }] } });
    const created = await plane.kubectl(['create', '-f', '-', '-o', 'jsonpath={.spec.securityContext.runAsUser}'], { input: pod });
    expect(created.stderr).toBe('');
    return created.stdout;
  }

  beforeAll(async () => {
    plane = await startControlPlane();
    worker = await compilePolicyWorker();
    dir = await mkdtemp(join(tmpdir(), 'sd-live-'));
    const serving = await issueCertificate(plane.ca, { commonName: 'secure-defaults', ipAddresses: ['127.0.0.1'], usage: 'server' });
    await writeFile(join(dir, 'tls.crt'), serving.certPem);
    await writeFile(join(dir, 'tls.key'), serving.keyPem);
    await plane.createNamespace('secure-defaults');
    expect((await plane.kubectl(['apply', '-f', '-'], { input: configMapYaml(policyYaml('v1', '100000-165535')) })).code).toBe(0);
    serve = await startServe(
      {
        port: 0,
        host: '127.0.0.1',
        tlsCert: join(dir, 'tls.crt'),
        tlsKey: join(dir, 'tls.key'),
        policyConfigmap: 'secure-defaults/policy',
        kubeconfig: plane.kubeconfigPath,
        failClosed: false,
        shutdownDelay: 0,
        drainTimeout: 5,
      },
      logger,
      systemClock,
      { policyWorkerUrl: worker.url },
    );
    const url = (path: string) => `https://127.0.0.1:${serve.webhook.port}${path}`;
    const caBundle = Buffer.from(plane.caPem).toString('base64');
    const webhooks = [
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: 'secure-defaults' },
        webhooks: [
          {
            name: 'pods.secure-defaults.io',
            admissionReviewVersions: ['v1'],
            sideEffects: 'None',
            failurePolicy: 'Fail',
            reinvocationPolicy: 'IfNeeded',
            clientConfig: { url: url('/mutate'), caBundle },
            namespaceSelector: { matchLabels: { 'secure-defaults.io/inject': 'enabled' } },
            rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
          },
        ],
      },
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: 'secure-defaults-policy' },
        webhooks: [
          {
            name: 'policy.secure-defaults.io',
            admissionReviewVersions: ['v1'],
            sideEffects: 'None',
            failurePolicy: 'Fail',
            clientConfig: { url: url('/validate-policy'), caBundle },
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'secure-defaults' } },
            rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['configmaps'] }],
          },
        ],
      },
    ];
    const registered = await plane.kubectl(['apply', '-f', '-'], { input: webhooks.map((w) => toYaml(w)).join('---\n') });
    expect(registered.stderr).toBe('');
    await plane.createNamespace('team-a', { 'secure-defaults.io/inject': 'enabled' });
  });

  afterAll(async () => {
    await serve?.stop();
    await plane?.stop();
    await worker?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('hardens a Pod in an opted-in namespace with the ConfigMap policy', async () => {
    expect(await eventually(() => storedRunAsUser('team-a'), (v) => v !== '')).toBe('100000');
  });

  test('an edit of the ConfigMap takes effect for the next Pod, without a restart', async () => {
    expect((await plane.kubectl(['apply', '-f', '-'], { input: configMapYaml(policyYaml('v2', '200000-265535')) })).code).toBe(0);
    expect(await eventually(() => storedRunAsUser('team-a'), (v) => v === '200000', 10_000)).toBe('200000');
  });

  test('Pods are created, with the policy in force, while a policy of nearly 1 MiB is reviewed and loaded', async () => {
    const rules = Array.from({ length: 12_000 }, (_, i) => `  - {names: [team-${i}-x, team-${i}-y], uidRange: "${1_000_000 + i * 100}-${1_000_000 + i * 100 + 99}"}\n`).join('');
    const big = `${policyYaml('big', '400000-465535')}  namespaces:\n${rules}`;
    expect(Buffer.byteLength(big)).toBeGreaterThan(800 * 1024);
    const loadedBefore = logger.entries.filter((e) => e.message === 'policy loaded').length;
    // replace, not apply: apply would copy the whole text into an annotation (256 KiB at most).
    const replaced = plane.kubectl(['replace', '-f', '-'], { input: configMapYaml(big) });
    const stored: Array<{ uid: string; ms: number }> = [];
    const deadline = Date.now() + 120_000;
    while (logger.entries.filter((e) => e.message === 'policy loaded').length === loadedBefore && Date.now() < deadline) {
      const started = Date.now();
      const uid = await storedRunAsUser('team-a');
      stored.push({ uid, ms: Date.now() - started });
    }
    expect((await replaced).code).toBe(0);
    expect(await eventually(() => storedRunAsUser('team-a'), (v) => v === '400000', 10_000)).toBe('400000');
    // Each Pod created well within the webhook timeout (the chart's is 5 s) while the policy was
    // reviewed and parsed, with the last good policy or the new one, never without one.
    expect(stored.length).toBeGreaterThan(0);
    expect(Math.max(...stored.map((s) => s.ms))).toBeLessThan(5_000);
    expect(stored.every((s) => s.uid === '200000' || s.uid === '400000')).toBe(true);
    expect((await plane.kubectl(['apply', '-f', '-'], { input: configMapYaml(policyYaml('v2', '200000-265535')) })).code).toBe(0);
    expect(await eventually(() => storedRunAsUser('team-a'), (v) => v === '200000', 10_000)).toBe('200000');
  });

  test('kubectl apply of a broken policy is refused with its errors, and the last good policy stays', async () => {
    const applied = await plane.kubectl(['apply', '-f', '-'], { input: configMapYaml(BROKEN_POLICY) });
    expect(applied.code).not.toBe(0);
    expect(applied.stderr).toMatch(/denied the request: policy ConfigMap secure-defaults\/policy refused \(data.policy.yaml\): spec.fallback.uidRange: /);
    expect(await storedRunAsUser('team-a')).toBe('200000');
  });

  test('a broken policy that got in anyway (webhook bypassed) is refused by the watch, with an Event on the ConfigMap', async () => {
    expect((await plane.kubectl(['delete', 'validatingwebhookconfiguration', 'secure-defaults-policy'])).code).toBe(0);
    expect((await plane.kubectl(['apply', '-f', '-'], { input: configMapYaml(BROKEN_POLICY) })).code).toBe(0);
    const described = await eventually(
      async () => (await plane.kubectl(['describe', 'configmap', 'policy', '-n', 'secure-defaults'])).stdout,
      (text) => text.includes('PolicyRejected'),
      10_000,
    );
    expect(described).toMatch(/Warning\s+PolicyRejected .*spec\.fallback\.uidRange/);
    expect(await storedRunAsUser('team-a')).toBe('200000');
    expect(logger.entries.some((e) => e.level === 'error' && e.fields.path === 'spec.fallback.uidRange')).toBe(true);
  });

  test('a namespace labelled after creation is followed; one not opted in is left alone', async () => {
    await plane.createNamespace('team-b');
    expect(await storedRunAsUser('team-b')).toBe('');
    expect((await plane.kubectl(['label', 'namespace', 'team-b', 'secure-defaults.io/inject=enabled'])).code).toBe(0);
    expect(await eventually(() => storedRunAsUser('team-b'), (v) => v === '200000', 10_000)).toBe('200000');
  });

  test('watches come back after the API server restarts', async () => {
    await plane.restartApiServer();
    expect((await plane.kubectl(['apply', '-f', '-'], { input: configMapYaml(policyYaml('v3', '300000-365535')) })).code).toBe(0);
    expect(await eventually(() => storedRunAsUser('team-a'), (v) => v === '300000', 60_000)).toBe('300000');
    expect(logger.entries.some((e) => e.level === 'warn' && /watching configmap secure-defaults\/policy failed|listing configmap/.test(e.message))).toBe(true);
  });
});
