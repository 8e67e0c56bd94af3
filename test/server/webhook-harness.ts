// Starts the real webhook (real HTTPS server, real TLS) on port 0 for a test, and talks to it
// with node:https trusting the certificate it started with.
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest, Agent } from 'node:https';
import { Registry } from 'prom-client';
import type { AdmissionDecision, AdmissionInput, CompiledPolicy, PolicyParseResult } from '../../src/engine/model.js';
import { systemClock } from '../../src/foundation/clock.js';
import type { LogFields, Logger } from '../../src/foundation/logger.js';
import { type NamespaceDirectory, type PolicySource } from '../../src/ports/admission-ports.js';
import { inMemoryNamespaces, noAllocatedBlocks, staticPolicySource } from '../../src/ports/standalone-ports.js';
import { generateSelfSignedCertificate } from '../../src/server/self-signed-certificate.js';
import type { TlsPair } from '../../src/server/tls-pair.js';
import { startWebhook, type RunningWebhook, type WebhookConfig } from '../../src/server/webhook.js';
import { createWebhookMetrics } from '../../src/metrics/webhook-metrics.js';
import { OPT_IN_LABEL } from '../../src/engine/model.js';

export interface LogEntry {
  readonly level: 'error' | 'warn' | 'info' | 'debug';
  readonly message: string;
  readonly fields: LogFields;
}

export class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = [];
  error(message: string, fields: LogFields = {}): void {
    this.entries.push({ level: 'error', message, fields });
  }
  warn(message: string, fields: LogFields = {}): void {
    this.entries.push({ level: 'warn', message, fields });
  }
  info(message: string, fields: LogFields = {}): void {
    this.entries.push({ level: 'info', message, fields });
  }
  debug(message: string, fields: LogFields = {}): void {
    this.entries.push({ level: 'debug', message, fields });
  }
  decisions(): LogEntry[] {
    return this.entries.filter((e) => e.message === 'admission decision');
  }
}

/** A stand-in policy: the HTTP layer only passes it through to decideAdmission. */
export function fakePolicy(name = 'test-policy'): CompiledPolicy {
  return {
    name,
    mode: 'fill',
    defaults: {
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
      dropCapabilities: ['ALL'],
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: false,
      fsGroupChangePolicy: null,
    },
    allowPodOptOut: false,
    allocation: null,
    resolveIdDefaults: () => null,
    resolveIdDefaultsWithWarnings: () => ({ defaults: null, warnings: [] }),
  };
}

/**
 * A tiny engine for HTTP-layer tests: adds runAsNonRoot to the Pod's securityContext when it is
 * missing and refuses Pods labelled deny=yes. The real engine is exercised in webhook-engine tests.
 */
export function fakeDecideAdmission(input: AdmissionInput): AdmissionDecision {
  const pod = input.pod as { metadata?: { labels?: Record<string, string> }; spec: { securityContext?: Record<string, unknown> } };
  if (pod.metadata?.labels?.deny === 'yes') {
    return { allowed: false, message: 'spec.containers[app]: refused by the test engine', violations: [{ path: 'spec.containers[app]', message: 'refused' }], warnings: [], warningReasons: [] };
  }
  if (input.target === 'ephemeralContainers') return { allowed: true, patch: [], injected: [], warnings: [], warningReasons: [] };
  if (pod.spec.securityContext?.runAsNonRoot !== undefined) return { allowed: true, patch: [], injected: [], warnings: [], warningReasons: [] };
  const patch = pod.spec.securityContext
    ? [{ op: 'add' as const, path: '/spec/securityContext/runAsNonRoot', value: true }]
    : [{ op: 'add' as const, path: '/spec/securityContext', value: { runAsNonRoot: true } }];
  return { allowed: true, patch, injected: ['spec.securityContext.runAsNonRoot'], warnings: ['test warning'], warningReasons: ['other'] };
}

export function fakeParsePolicy(text: string): PolicyParseResult {
  if (text.includes('broken')) return { ok: false, errors: [{ path: 'spec.fallback.uidRange', message: '"20000-1999": min is greater than max' }] };
  return { ok: true, policy: fakePolicy(), warnings: [] };
}

export const OPTED_IN = { name: 'team-a', labels: { [OPT_IN_LABEL]: 'enabled' }, annotations: {} };
export const NOT_OPTED_IN = { name: 'legacy', labels: {}, annotations: {} };

export interface TestWebhook {
  readonly webhook: RunningWebhook;
  readonly logger: RecordingLogger;
  readonly registry: Registry;
  readonly ca: string;
  readonly agent: Agent;
  post(path: string, body: string | object, headers?: Record<string, string>): Promise<HttpAnswer>;
  get(path: string): Promise<HttpAnswer>;
  stop(): Promise<void>;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json(): any;
}

let sharedPair: Promise<TlsPair> | null = null;
/** One generated certificate for the whole test file: generating is cheap but not free. */
export function testTlsPair(): Promise<TlsPair> {
  sharedPair ??= generateSelfSignedCertificate();
  return sharedPair;
}

/** The whole of an HTTP answer, as text. */
export function readAnswer(res: IncomingMessage): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
    });
    res.on('error', reject);
  });
}

export function httpsCall(
  port: number,
  options: { method: string; path: string; ca: string | readonly string[]; agent?: Agent; body?: string | Buffer; headers?: Record<string, string>; servername?: string },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        method: options.method,
        path: options.path,
        ca: typeof options.ca === 'string' ? options.ca : [...options.ca],
        agent: options.agent ?? false,
        headers: options.headers,
        servername: options.servername ?? 'localhost',
      },
      (res) => readAnswer(res).then(resolve, reject),
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

export async function startTestWebhook(overrides: Partial<WebhookConfig> = {}): Promise<TestWebhook> {
  const logger = new RecordingLogger();
  const registry = new Registry();
  const pair = await testTlsPair();
  const policySource: PolicySource = staticPolicySource(fakePolicy());
  const namespaces: NamespaceDirectory = inMemoryNamespaces([OPTED_IN, NOT_OPTED_IN]);
  const webhook = await startWebhook({
    host: '127.0.0.1',
    port: 0,
    tls: { kind: 'pair', pair },
    policySource,
    namespaces,
    allocatedBlocks: noAllocatedBlocks,
    decideAdmission: fakeDecideAdmission,
    parsePolicy: fakeParsePolicy,
    policyConfigMap: { namespace: 'secure-defaults', name: 'policy' },
    failurePolicy: 'open',
    logger,
    metrics: createWebhookMetrics(registry),
    registry,
    clock: systemClock,
    ...overrides,
  });
  const ca = overrides.tls?.kind === 'pair' ? overrides.tls.pair.certPem : webhook.initialCertificatePem;
  const agent = new Agent({ keepAlive: true, ca, maxSockets: 8 });
  return {
    webhook,
    logger,
    registry,
    ca,
    agent,
    post: (path, body, headers = { 'content-type': 'application/json' }) =>
      httpsCall(webhook.port, { method: 'POST', path, ca, agent, body: typeof body === 'string' ? body : JSON.stringify(body), headers }),
    get: (path) => httpsCall(webhook.port, { method: 'GET', path, ca, agent }),
    async stop() {
      agent.destroy();
      await webhook.shutdown({ delayMs: 0, drainTimeoutMs: 2000 });
    },
  };
}

let uidCounter = 0;
export function podReview(options: {
  uid?: string;
  namespace?: string;
  operation?: string;
  subResource?: string;
  object?: unknown;
  oldObject?: unknown;
  resource?: string;
  dryRun?: boolean;
} = {}): { apiVersion: string; kind: string; request: Record<string, unknown> } {
  const namespace = options.namespace ?? OPTED_IN.name;
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: options.uid ?? `uid-${++uidCounter}`,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: options.resource ?? 'pods' },
      ...(options.subResource ? { subResource: options.subResource } : {}),
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      namespace,
      operation: options.operation ?? 'CREATE',
      userInfo: { username: 'alice' },
      object:
        'object' in options
          ? options.object
          : { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'web-', namespace }, spec: { containers: [{ name: 'app', image: 'nginx' }] } },
      ...(options.oldObject !== undefined ? { oldObject: options.oldObject } : {}),
      dryRun: options.dryRun ?? false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}

/** An AdmissionReview of the policy ConfigMap, as the API server sends it to /validate-policy. */
export function configMapReview(options: {
  uid: string;
  namespace?: string;
  name?: string;
  operation?: string;
  data?: Record<string, string> | null;
  resource?: string;
  username?: string;
}) {
  const namespace = options.namespace ?? 'secure-defaults';
  const name = options.name ?? 'policy';
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: options.uid,
      kind: { group: '', version: 'v1', kind: 'ConfigMap' },
      resource: { group: '', version: 'v1', resource: options.resource ?? 'configmaps' },
      namespace,
      name,
      operation: options.operation ?? 'UPDATE',
      ...(options.username !== undefined ? { userInfo: { username: options.username } } : {}),
      object: options.data === null ? null : { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: options.data ?? { 'policy.yaml': 'kind: SecureDefaultsPolicy' } },
    },
  };
}

export function decodePatch(response: { patch?: string }): unknown {
  return response.patch === undefined ? undefined : JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
}
