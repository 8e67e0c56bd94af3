// Everything the API-server benchmark loads, started once: the e2e rig's etcd + kube-apiserver
// (test/e2e/rig/control-plane.ts), the trivial webhook and the compiled `secure-defaults serve` as
// child processes, one namespace per admission setup, the webhook configurations and the
// MutatingAdmissionPolicy. Shared by `npm run bench:apiserver` and its e2e test.
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { issueCertificate } from '../../test/e2e/rig/certificates.js';
import { startControlPlane, type ControlPlane } from '../../test/e2e/rig/control-plane.js';
import { buildAdmissionBody } from '../bodies/admission-review-bodies.js';
import { typicalPodAsSent, TYPICAL_POD_SERVICE_ACCOUNT } from '../bodies/pod-fixtures.js';
import { findFreePort, startServer, tail, type RunningServer } from '../server-process.js';
import { createdPodProblems, mutatingAdmissionPolicy, namespaceLabels, namespaceOf, webhookConfiguration, type SetupName } from './admission-setups.js';
import { parsePrometheusText } from './apiserver-metrics.js';
import type { ClientCredentials } from './pod-create-load.js';

export interface RigOptions {
  readonly setups: readonly SetupName[];
  /**
   * The compiled tree: <distRoot>/src/cli/main.js and <distRoot>/bench/servers/fixed-patch-server.js;
   * a promise lets a compile run while the control plane starts.
   */
  readonly distRoot: string | Promise<string>;
  /** Policy YAML put in our webhook's ConfigMap. */
  readonly policyFile: string;
  /** node/V8 flags for both webhook processes alike. */
  readonly nodeFlags: readonly string[];
  /** Our webhook's --log-level (the chart's default is info). */
  readonly logLevel: string;
  /** Where the webhooks' stdout/stderr files go. */
  readonly logDir: string;
  /** Called with progress lines. */
  readonly log?: (line: string) => void;
}

export interface PreparedSetup {
  readonly name: SetupName;
  readonly namespace: string;
  /** POST here to create a Pod in the setup's namespace. */
  readonly podsUrl: URL;
}

export interface ApiServerRig {
  readonly plane: ControlPlane;
  readonly credentials: ClientCredentials;
  readonly setups: readonly PreparedSetup[];
  /** Setups asked for but not available on this API server, with why. */
  readonly unavailable: readonly { readonly name: SetupName; readonly reason: string }[];
  /** The Pod every setup gets, serialized once. */
  readonly podBody: Buffer;
  readonly webhooks: readonly RunningServer[];
  /** The API server's version, e.g. v1.37.2. */
  readonly serverVersion: string;
  /** One create per setup, checked against what the setup must do to it; the Pods are deleted again. */
  checkSetups(): Promise<string[]>;
  /** One create of the typical Pod in the setup's namespace: the HTTP status and the stored Pod. */
  createOne(setup: PreparedSetup, query?: string): Promise<{ readonly status: number; readonly pod: Record<string, unknown> | undefined; readonly body: string }>;
  /** Deletes every Pod in the namespace (unscheduled Pods go at once) and waits until none is left. */
  deletePods(namespace: string): Promise<number>;
  /** kube-apiserver's /metrics, parsed. */
  metrics(): Promise<Map<string, number>>;
  /** A CPU profile of kube-apiserver over the next `seconds` (pprof's protobuf, as /debug/pprof/profile serves it). */
  cpuProfile(seconds: number): Promise<Buffer>;
  /** The webhook processes' exit status, if one has died. */
  deadWebhooks(): string[];
  stop(): Promise<void>;
}

const POLICY_NAMESPACE = 'secure-defaults';
const POLICY_CONFIGMAP = 'secure-defaults-policy';

interface ApiAnswer {
  readonly status: number;
  readonly body: string;
}

/** One request to the rig's API server as its admin (short-lived connection; for setup, not load). */
function apiCall(server: string, credentials: ClientCredentials, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  return apiCallBytes(server, credentials, method, path, body).then((answer) => ({ status: answer.status, body: answer.body.toString('utf8') }));
}

function apiCallBytes(server: string, credentials: ClientCredentials, method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<{ readonly status: number; readonly body: Buffer }> {
  const url = new URL(path, server);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: credentials.caPem,
        cert: credentials.certPem,
        key: credentials.keyPem,
        timeout: timeoutMs,
        headers: { accept: 'application/json', ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

async function adminCredentials(plane: ControlPlane): Promise<ClientCredentials> {
  const kubeconfig = parseYaml(await readFile(plane.kubeconfigPath, 'utf8')) as { users: { user: Record<string, string> }[] };
  const user = kubeconfig.users[0]?.user ?? {};
  const decode = (field: string): string => Buffer.from(user[field] ?? '', 'base64').toString('utf8');
  return { caPem: plane.caPem, certPem: decode('client-certificate-data'), keyPem: decode('client-key-data') };
}

/** Which API version serves MutatingAdmissionPolicy here, or why none does. */
async function mutatingPolicyVersion(server: string, credentials: ClientCredentials): Promise<{ version?: string; reason: string }> {
  for (const version of ['v1', 'v1beta1']) {
    const answer = await apiCall(server, credentials, 'GET', `/apis/admissionregistration.k8s.io/${version}`);
    if (answer.status !== 200) continue;
    const resources = (JSON.parse(answer.body) as { resources?: { name: string }[] }).resources ?? [];
    if (resources.some((resource) => resource.name === 'mutatingadmissionpolicies')) return { version: `admissionregistration.k8s.io/${version}`, reason: '' };
  }
  return { reason: 'this kube-apiserver serves no MutatingAdmissionPolicy API (admissionregistration.k8s.io/v1 or v1beta1)' };
}

/**
 * Our webhook's answer for the typical Pod (bench/bodies' AdmissionReview of it, in `namespace`):
 * its patch and audit annotations, for the replay webhook to repeat verbatim.
 */
async function recordAnswer(url: string, caPem: string, namespace: string): Promise<{ patch: string; auditAnnotations?: Record<string, string> }> {
  const review = JSON.parse(buildAdmissionBody('typical').withUid('bench-record')) as { request: { namespace: string; object: { metadata: { namespace: string } } } };
  review.request.namespace = namespace;
  review.request.object.metadata.namespace = namespace;
  const payload = Buffer.from(JSON.stringify(review));
  const ask = (): Promise<string> => new Promise<string>((resolve, reject) => {
    const req = request(url, { method: 'POST', ca: caPem, timeout: 10_000, headers: { 'content-type': 'application/json', 'content-length': payload.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(payload);
  });
  type Answer = { response?: { patch?: string; auditAnnotations?: Record<string, string> } };
  // Until its namespace informer has seen the opted-in namespace, our webhook answers without a patch.
  let text = await ask();
  for (let attempt = 0; attempt < 40 && typeof (JSON.parse(text) as Answer).response?.patch !== 'string'; attempt += 1) {
    await sleep(250);
    text = await ask();
  }
  const response = (JSON.parse(text) as Answer).response;
  if (typeof response?.patch !== 'string') throw new Error(`secure-defaults answered the typical Pod with no patch, so there is nothing to replay: ${text.slice(0, 400)}`);
  return { patch: response.patch, ...(response.auditAnnotations ? { auditAnnotations: response.auditAnnotations } : {}) };
}

async function waitForReady(url: string, caPem: string, timeoutMs: number, server: RunningServer): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await new Promise<number>((resolve) => {
      const req = request(url, { ca: caPem, timeout: 2_000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.on('timeout', () => req.destroy());
      req.end();
    });
    if (status === 200) return;
    if (server.exitStatus() !== null) break;
    await sleep(200);
  }
  throw new Error(`${server.name} was not ready at ${url} within ${timeoutMs} ms (${server.exitStatus() ?? 'still running'}); its output ends with:\n${tail(server.stdoutFile)}\n${tail(server.stderrFile)}`);
}

export async function startApiServerRig(options: RigOptions): Promise<ApiServerRig> {
  const log = options.log ?? (() => undefined);
  const webhooks: RunningServer[] = [];
  // The API server compacts etcd every 5 minutes by default; thousands of created and deleted
  // Pods per round would grow etcd's history faster than that.
  const [plane, distRoot] = await Promise.all([
    startControlPlane({ apiServerArgs: ['--etcd-compaction-interval=1m', '--delete-collection-workers=4'] }),
    Promise.resolve(options.distRoot),
  ]);
  const stop = async (): Promise<void> => {
    await Promise.all(webhooks.map((webhook) => webhook.stop(5_000)));
    await plane.stop();
  };
  try {
    const credentials = await adminCredentials(plane);
    const call = (method: string, path: string, body?: unknown): Promise<ApiAnswer> => apiCall(plane.server, credentials, method, path, body);
    const versionAnswer = await call('GET', '/version');
    const serverVersion = (JSON.parse(versionAnswer.body) as { gitVersion?: string }).gitVersion ?? 'unknown';
    log(`kube-apiserver ${serverVersion} at ${plane.server} (logs: ${plane.logFiles.apiServer})`);

    const apply = async (manifests: readonly unknown[]): Promise<void> => {
      const result = await plane.kubectl(['apply', '-f', '-'], { input: manifests.map((manifest) => toYaml(manifest)).join('---\n') });
      if (result.code !== 0) throw new Error(`kubectl apply: ${result.stderr}`);
    };

    const serving = await issueCertificate(plane.ca, { commonName: 'bench webhooks', ipAddresses: ['127.0.0.1'], usage: 'server' });
    const certFile = join(options.logDir, 'webhook.crt');
    const keyFile = join(options.logDir, 'webhook.key');
    await writeFile(certFile, serving.certPem);
    await writeFile(keyFile, serving.keyPem, { mode: 0o600 });
    const tls = ['--tls-cert', certFile, '--tls-key', keyFile];

    const unavailable: { name: SetupName; reason: string }[] = [];
    const configurations: unknown[] = [];
    let setups = [...options.setups];

    // Namespaces first: our webhook (cluster mode) learns of its opted-in namespace from its
    // informer. One apply for all of them, each with the `default` ServiceAccount (as
    // plane.createNamespace makes it; no controller does here) and the Pod's own.
    const serviceAccount = (name: string, namespace: string) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
    await apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: POLICY_NAMESPACE } },
      ...setups.map((setup) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespaceOf(setup), labels: namespaceLabels(setup) } })),
    ]);
    await apply(setups.flatMap((setup) => [serviceAccount('default', namespaceOf(setup)), serviceAccount(TYPICAL_POD_SERVICE_ACCOUNT, namespaceOf(setup))]));
    if (setups.includes('trivial')) {
      const port = await findFreePort();
      const server = await startServer({
        name: 'trivial-webhook',
        nodeArgs: [...options.nodeFlags, join(distRoot, 'bench', 'servers', 'fixed-patch-server.js'), '--port', String(port), ...tls],
        port,
        logDir: options.logDir,
        readyTimeoutMs: 20_000,
      });
      webhooks.push(server);
      configurations.push(webhookConfiguration('trivial', `https://127.0.0.1:${port}/mutate`, plane.caPem));
    }
    if (setups.includes('secure-defaults')) {
      const policy = await readFile(options.policyFile, 'utf8');
      await apply([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: POLICY_CONFIGMAP, namespace: POLICY_NAMESPACE }, data: { 'policy.yaml': policy } }]);
      const port = await findFreePort();
      // The chart's Deployment args (Fail → --fail-closed), with the admin kubeconfig: RBAC is
      // proven by test/e2e/webhook-end-to-end.test.ts, not here.
      const server = await startServer({
        name: 'secure-defaults',
        nodeArgs: [
          ...options.nodeFlags,
          join(distRoot, 'src', 'cli', 'main.js'),
          'serve',
          '--host', '127.0.0.1',
          '--port', String(port),
          ...tls,
          '--policy-configmap', `${POLICY_NAMESPACE}/${POLICY_CONFIGMAP}`,
          '--kubeconfig', plane.kubeconfigPath,
          '--log-level', options.logLevel,
          '--fail-closed',
          '--shutdown-delay', '0',
        ],
        port,
        logDir: options.logDir,
        readyTimeoutMs: 30_000,
      });
      webhooks.push(server);
      await waitForReady(`https://127.0.0.1:${port}/readyz`, plane.caPem, 30_000, server);
      configurations.push(webhookConfiguration('secure-defaults', `https://127.0.0.1:${port}/mutate`, plane.caPem));
      if (setups.includes('replay')) {
        const replyFile = join(options.logDir, 'secure-defaults-answer.json');
        await writeFile(replyFile, JSON.stringify(await recordAnswer(`https://127.0.0.1:${port}/mutate`, plane.caPem, namespaceOf('secure-defaults'))));
        const replayPort = await findFreePort();
        webhooks.push(
          await startServer({
            name: 'replay-webhook',
            nodeArgs: [...options.nodeFlags, join(distRoot, 'bench', 'servers', 'fixed-patch-server.js'), '--port', String(replayPort), ...tls, '--reply-file', replyFile],
            port: replayPort,
            logDir: options.logDir,
            readyTimeoutMs: 20_000,
          }),
        );
        configurations.push(webhookConfiguration('replay', `https://127.0.0.1:${replayPort}/mutate`, plane.caPem));
      }
    } else if (setups.includes('replay')) {
      unavailable.push({ name: 'replay', reason: 'replay repeats the answer of secure-defaults, which is not among the setups' });
      setups = setups.filter((setup) => setup !== 'replay');
    }
    if (setups.includes('policy')) {
      const found = await mutatingPolicyVersion(plane.server, credentials);
      if (found.version === undefined) {
        unavailable.push({ name: 'policy', reason: found.reason });
        setups = setups.filter((setup) => setup !== 'policy');
      } else {
        log(`MutatingAdmissionPolicy: ${found.version}`);
        configurations.push(...mutatingAdmissionPolicy(found.version));
      }
    }
    if (configurations.length > 0) await apply(configurations);

    const prepared: PreparedSetup[] = setups.map((name) => ({
      name,
      namespace: namespaceOf(name),
      podsUrl: new URL(`/api/v1/namespaces/${namespaceOf(name)}/pods`, plane.server),
    }));
    const podBody = Buffer.from(JSON.stringify(typicalPodAsSent()));

    const deletePods = async (namespace: string): Promise<number> => {
      let deleted = 0;
      for (let attempt = 0; attempt < 20; attempt += 1) {
        const listed = await call('GET', `/api/v1/namespaces/${namespace}/pods?limit=500`);
        const count = (JSON.parse(listed.body) as { items?: unknown[] }).items?.length ?? 0;
        if (count === 0) return deleted;
        const answer = await call('DELETE', `/api/v1/namespaces/${namespace}/pods`);
        if (answer.status !== 200) throw new Error(`deleting the Pods of ${namespace}: HTTP ${answer.status} ${answer.body.slice(0, 400)}`);
        deleted += (JSON.parse(answer.body) as { items?: unknown[] }).items?.length ?? 0;
      }
      throw new Error(`the Pods of ${namespace} were still there after 20 deletecollection calls`);
    };

    const createOne = async (setup: PreparedSetup, query = ''): Promise<{ status: number; pod: Record<string, unknown> | undefined; body: string }> => {
      const answer = await call('POST', `${setup.podsUrl.pathname}${query}`, JSON.parse(podBody.toString('utf8')));
      return { status: answer.status, body: answer.body, pod: answer.status === 201 ? (JSON.parse(answer.body) as Record<string, unknown>) : undefined };
    };
    const checkOnce = async (setup: PreparedSetup): Promise<string[]> => {
      const created = await createOne(setup);
      if (created.pod === undefined) return [`${setup.name}: a Pod create in ${setup.namespace} was answered HTTP ${created.status}: ${created.body.slice(0, 600)}`];
      return createdPodProblems(setup.name, created.pod);
    };
    const checkSetups = async (): Promise<string[]> => {
      const problems: string[] = [];
      for (const setup of prepared) {
        // Webhook configurations and policies reach the admission chain through an informer: a
        // create right after `kubectl apply` may still miss them. Retry briefly before judging.
        let found = await checkOnce(setup);
        for (let attempt = 0; found.length > 0 && attempt < 40; attempt += 1) {
          await sleep(250);
          found = await checkOnce(setup);
        }
        problems.push(...found);
        await deletePods(setup.namespace);
      }
      return problems;
    };

    return {
      plane,
      credentials,
      setups: prepared,
      unavailable,
      podBody,
      webhooks,
      serverVersion,
      checkSetups,
      createOne,
      deletePods,
      async metrics() {
        const answer = await call('GET', '/metrics');
        if (answer.status !== 200) throw new Error(`GET /metrics: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
        return parsePrometheusText(answer.body);
      },
      async cpuProfile(seconds) {
        const whole = Math.max(1, Math.round(seconds));
        const answer = await apiCallBytes(plane.server, credentials, 'GET', `/debug/pprof/profile?seconds=${whole}`, undefined, (whole + 60) * 1000);
        if (answer.status !== 200) throw new Error(`GET /debug/pprof/profile: HTTP ${answer.status} ${answer.body.toString('utf8').slice(0, 300)}`);
        return answer.body;
      },
      deadWebhooks: () => webhooks.filter((webhook) => webhook.exitStatus() !== null).map((webhook) => `${webhook.name}: ${webhook.exitStatus()}; ${tail(webhook.stderrFile, 10)}`),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
