// One real kube-apiserver with the webhook process registered against it, as a flow suite's
// beforeAll builds it: the policy ConfigMap, the serving certificate, the webhook configurations,
// and the ways the suites poke at them (restart, rotate, re-register, edit the policy).
import { test } from '@jest/globals';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { startControlPlane, type ControlPlane, type KubectlResult } from '../../rig/control-plane.js';
import { buildWebhookBin } from './webhook-build.js';
import { freePort, logTail, sleep, startWebhookProcess, writeServingCertificate, type ServingCertificate, type WebhookProcess } from './webhook-process.js';
import { mutatingWebhookConfiguration, policyValidatingWebhookConfiguration, type RegistrationOptions } from './webhook-registration.js';

export const SYSTEM_NAMESPACE = 'secure-defaults';
export const POLICY_CONFIGMAP = 'secure-defaults-policy';
export const OPT_IN = { 'secure-defaults.io/inject': 'enabled' } as const;
export const ENFORCE_RESTRICTED = { 'pod-security.kubernetes.io/enforce': 'restricted' } as const;
export const ENFORCE_PRIVILEGED = { 'pod-security.kubernetes.io/enforce': 'privileged' } as const;
export const INJECTED_ANNOTATION = 'secure-defaults.io/injected';
/**
 * The flags the chart passes with its default values (failurePolicy Fail, so --fail-closed;
 * no shutdown delay, because the chart's preStop sleep plays that part; 20 s to drain).
 */
export const CHART_SERVE_ARGS: readonly string[] = ['--fail-closed', '--shutdown-delay', '0', '--drain-timeout', '20'];
/** Opted in, no PodSecurity label: used to see whether the webhook is in effect. */
const PROBE_NAMESPACE = 'flow-probe';

/** A Pod exactly as kubectl prints it; tests read it as plain JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StoredPod = any;

export type PodCreation = { readonly ok: true; readonly pod: V1Pod } | { readonly ok: false; readonly status: number; readonly message: string };

export interface FlowEnvironment {
  readonly plane: ControlPlane;
  readonly core: CoreV1Api;
  readonly logFile: string;
  readonly port: number;
  webhook(): WebhookProcess;
  certificate(): ServingCertificate;
  /** Starts the webhook process (again) on the same port and, unless told not to, waits for /readyz. */
  startWebhook(extraArgs?: readonly string[], options?: { readonly waitReady?: boolean }): Promise<WebhookProcess>;
  /** Re-signs the serving certificate (new key, new serial) and swaps it in. */
  rotateCertificate(): Promise<ServingCertificate>;
  /** Applies both webhook configurations and waits until the mutating one answers (when the process runs). */
  register(failurePolicy: 'Fail' | 'Ignore'): Promise<void>;
  removePolicyValidation(): Promise<void>;
  /** kubectl apply of the policy ConfigMap with this document under policy.yaml. */
  applyPolicy(policyYaml: string): Promise<KubectlResult>;
  createNamespace(name: string, labels?: Readonly<Record<string, string>>): Promise<void>;
  /** kubectl create of a Pod: what a user sees (exit code, stderr). */
  kubectlCreatePod(namespace: string, name: string, spec: Record<string, unknown>, annotations?: Record<string, string>): Promise<KubectlResult>;
  /** The same through the API (cheap enough for streams; dryRun asks the whole admission chain without storing). */
  createPod(namespace: string, name: string, spec: Record<string, unknown>, options?: { dryRun?: boolean; generateName?: boolean }): Promise<PodCreation>;
  /** kubectl get pod -o json: what the API server stored. */
  storedPod(namespace: string, name: string): Promise<StoredPod>;
  kubectlJson(args: readonly string[]): Promise<StoredPod>;
  teardown(): Promise<void>;
}

export function container(name: string, securityContext?: Record<string, unknown>): Record<string, unknown> {
  return { name, image: 'registry.k8s.io/pause:3.10', ...(securityContext ? { securityContext } : {}) };
}

/** Polls until probe returns a value; the elapsed time is returned so suites can report it. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined | false>, intervalMs = 250): Promise<{ value: T; elapsedMs: number }> {
  const started = Date.now();
  let last: unknown = null;
  for (;;) {
    try {
      const value = await probe();
      if (value !== null && value !== undefined && value !== false) return { value, elapsedMs: Date.now() - started };
    } catch (error) {
      last = error;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(intervalMs);
  }
}

export function policyConfigMapManifest(policyYaml: string): string {
  return toYaml({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: POLICY_CONFIGMAP, namespace: SYSTEM_NAMESPACE },
    data: { 'policy.yaml': policyYaml },
  });
}

function describeApiError(error: unknown): { status: number; message: string } {
  const err = error as { code?: unknown; body?: unknown; message?: string };
  const status = typeof err.code === 'number' ? err.code : 0;
  let message = err.message ?? String(error);
  if (typeof err.body === 'string') {
    try {
      const parsed = JSON.parse(err.body) as { message?: unknown };
      if (typeof parsed.message === 'string') message = parsed.message;
    } catch {
      message = err.body;
    }
  }
  return { status, message };
}

export async function startFlowEnvironment(initialPolicy: string): Promise<FlowEnvironment> {
  const workDir = await mkdtemp(join(tmpdir(), 'secure-defaults-flows-'));
  const certDir = join(workDir, 'tls');
  await mkdir(certDir);
  const logFile = join(workDir, 'webhook.log');
  const [planeResult, entryResult] = await Promise.allSettled([startControlPlane(), buildWebhookBin()]);
  if (planeResult.status === 'rejected' || entryResult.status === 'rejected') {
    if (planeResult.status === 'fulfilled') await planeResult.value.stop();
    await rm(workDir, { recursive: true, force: true });
    throw planeResult.status === 'rejected' ? planeResult.reason : (entryResult as PromiseRejectedResult).reason;
  }
  const plane = planeResult.value;
  const entry = entryResult.value;
  const port = await freePort();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(plane.kubeconfigPath);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  let certificate = await writeServingCertificate(plane.ca, certDir);
  let webhook: WebhookProcess | null = null;
  const registration = (failurePolicy: 'Fail' | 'Ignore'): RegistrationOptions => ({
    port,
    caPem: plane.caPem,
    systemNamespace: SYSTEM_NAMESPACE,
    policyConfigMapName: POLICY_CONFIGMAP,
    failurePolicy,
  });

  const kubectlOk = async (args: readonly string[], input?: string): Promise<KubectlResult> => {
    const result = await plane.kubectl(args, input === undefined ? {} : { input });
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${result.stderr}`);
    return result;
  };

  const env: FlowEnvironment = {
    plane,
    core,
    logFile,
    port,
    webhook() {
      if (webhook === null) throw new Error('the webhook has not been started');
      return webhook;
    },
    certificate: () => certificate,
    async startWebhook(extraArgs = CHART_SERVE_ARGS, { waitReady = true } = {}) {
      if (webhook !== null && !webhook.hasExited()) throw new Error(`the webhook (pid ${webhook.pid}) is still running`);
      webhook = startWebhookProcess({
        entry,
        port,
        certificate,
        caPem: plane.caPem,
        kubeconfigPath: plane.kubeconfigPath,
        policyConfigMap: `${SYSTEM_NAMESPACE}/${POLICY_CONFIGMAP}`,
        logFile,
        extraArgs,
      });
      if (waitReady) await webhook.waitReady(90_000);
      return webhook;
    },
    async rotateCertificate() {
      certificate = await writeServingCertificate(plane.ca, certDir);
      return certificate;
    },
    async register(failurePolicy) {
      const options = registration(failurePolicy);
      await kubectlOk(['apply', '-f', '-'], [mutatingWebhookConfiguration(options), policyValidatingWebhookConfiguration(options)].map((doc) => toYaml(doc)).join('---\n'));
      if (webhook === null || webhook.hasExited()) return;
      // The API server picks up webhook configurations through an informer: wait until a Pod
      // in an opted-in namespace is really sent to the webhook.
      await waitFor('the mutating webhook to be called by the API server', 30_000, async () => {
        const created = await env.createPod(PROBE_NAMESPACE, 'probe', { containers: [container('app')] }, { dryRun: true });
        return created.ok && created.pod.metadata?.annotations?.[INJECTED_ANNOTATION] !== undefined;
      });
    },
    async removePolicyValidation() {
      await kubectlOk(['delete', 'validatingwebhookconfiguration', 'secure-defaults', '--ignore-not-found']);
    },
    applyPolicy: (policyYaml) => plane.kubectl(['apply', '-f', '-'], { input: policyConfigMapManifest(policyYaml) }),
    createNamespace: (name, labels = {}) => plane.createNamespace(name, labels),
    kubectlCreatePod: (namespace, name, spec, annotations) =>
      plane.kubectl(['create', '-f', '-'], {
        input: toYaml({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, ...(annotations ? { annotations } : {}) }, spec }),
      }),
    async createPod(namespace, name, spec, options = {}) {
      const metadata = options.generateName ? { generateName: `${name}-` } : { name };
      try {
        const pod = await core.createNamespacedPod({
          namespace,
          body: { apiVersion: 'v1', kind: 'Pod', metadata, spec: spec as unknown as V1Pod['spec'] },
          ...(options.dryRun ? { dryRun: 'All' } : {}),
        });
        return { ok: true, pod };
      } catch (error) {
        return { ok: false, ...describeApiError(error) };
      }
    },
    async storedPod(namespace, name) {
      return env.kubectlJson(['get', 'pod', name, '-n', namespace]);
    },
    async kubectlJson(args) {
      const result = await kubectlOk([...args, '-o', 'json']);
      return JSON.parse(result.stdout);
    },
    async teardown() {
      const keep = process.env['SECURE_DEFAULTS_KEEP_RIG'] === '1';
      if (webhook !== null) await webhook.stop('SIGKILL');
      await plane.stop();
      if (keep) console.log(`flow environment kept in ${workDir}`);
      else await rm(workDir, { recursive: true, force: true });
    },
  };

  try {
    await plane.createNamespace(SYSTEM_NAMESPACE);
    await plane.createNamespace(PROBE_NAMESPACE, OPT_IN);
    await kubectlOk(['apply', '-f', '-'], policyConfigMapManifest(initialPolicy));
    await env.startWebhook();
    await env.register('Fail');
    return env;
  } catch (error) {
    const tail = logTail(logFile);
    await env.teardown();
    throw new Error(`the flow environment did not start: ${(error as Error).message}\n--- webhook log ---\n${tail}`, { cause: error });
  }
}

type FlowTest = (name: string, body: () => Promise<void>, timeoutMs?: number) => void;

/**
 * `test`, but a failure also quotes the end of the webhook's log: most failures here are only
 * explained by what the webhook process said. `.knownBug` is `test.failing`: for a flow that
 * exposes a reported, not yet fixed bug; it turns red once the bug is fixed, so the marker goes.
 */
export function flowTestWithLog(logFile: () => string): FlowTest & { knownBug: FlowTest } {
  const withLog = (body: () => Promise<void>) => async (): Promise<void> => {
    try {
      await body();
    } catch (error) {
      if (error instanceof Error) error.message += `\n--- webhook log (last lines) ---\n${logTail(logFile(), 30)}`;
      throw error;
    }
  };
  const flowTest: FlowTest = (name, body, timeoutMs) => test(name, withLog(body), timeoutMs);
  const knownBug: FlowTest = (name, body, timeoutMs) => test.failing(name, withLog(body), timeoutMs);
  return Object.assign(flowTest, { knownBug });
}
