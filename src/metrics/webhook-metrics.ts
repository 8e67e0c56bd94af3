// The webhook's metrics port (WebhookMetrics) in Prometheus form, registered on a Registry the
// caller owns (no global registry: two servers in one test process must not share counters).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AdmissionResult, WebhookMetrics } from '../ports/admission-ports.js';

/** The AdmissionReview operations; anything else (or none: an unreadable review) is counted as "unknown". */
const OPERATIONS: ReadonlySet<string> = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

/** The `operation` label: bounded, so a client cannot grow the series with made-up operations. */
export function operationLabel(operation: string): string {
  return OPERATIONS.has(operation) ? operation : 'unknown';
}

export interface BuildInfo {
  readonly version: string;
  /** e.g. "v24.22.3" (process.version). */
  readonly node: string;
}

/** `secure_defaults_build_info{version,node} 1`, for dashboards and "which version runs where". */
export function registerBuildInfo(registry: Registry, build: BuildInfo): void {
  new Gauge({
    name: 'secure_defaults_build_info',
    help: 'Always 1; the labels say which secure-defaults version runs on which Node.js.',
    labelNames: ['version', 'node'] as const,
    registers: [registry],
  }).set({ version: build.version, node: build.node }, 1);
}

// Container names inside paths would make one time series per workload; keep only the field.
export function injectedFieldLabel(path: string): string {
  return path.indexOf('[') === -1 ? path : path.replace(/\[[^\]]*\]/g, '[]');
}

/** Paths repeat from Pod to Pod of a workload; past this many distinct ones the cache starts over. */
const LABEL_CACHE_LIMIT = 4096;

/**
 * Counts kept in plain Maps on the request path and handed to prom-client when it is scraped:
 * prom-client's inc() builds a label-hash string and validates labels on every call, several
 * times per admission.
 */
class LabelledCounts<Key> {
  private readonly counts = new Map<Key, { labels: Record<string, string>; value: number }>();
  add(key: Key, labels: () => Record<string, string>, value: number): void {
    const entry = this.counts.get(key);
    if (entry !== undefined) entry.value += value;
    else this.counts.set(key, { labels: labels(), value });
  }
  /** Replaces the counter's series with these counts (a counter's collect hook). */
  publish(counter: Counter<string>): void {
    counter.reset();
    for (const { labels, value } of this.counts.values()) counter.inc(labels, value);
  }
}

export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  const registers = [registry];
  // endpoint → operation → result: nested lookups instead of a concatenated key per request.
  const requestCounts = new LabelledCounts<string>();
  const requestKeys = new Map<string, Map<string, Map<AdmissionResult, string>>>();
  const requestKey = (endpoint: string, operation: string, result: AdmissionResult): string => {
    let byOperation = requestKeys.get(endpoint);
    if (byOperation === undefined) requestKeys.set(endpoint, (byOperation = new Map()));
    let byResult = byOperation.get(operation);
    if (byResult === undefined) byOperation.set(operation, (byResult = new Map()));
    let key = byResult.get(result);
    if (key === undefined) byResult.set(result, (key = JSON.stringify([endpoint, operation, result])));
    return key;
  };
  new Counter({
    name: 'secure_defaults_admission_requests_total',
    help: 'Admission requests answered, by webhook endpoint (mutate, validate-policy), operation and result.',
    // Not `endpoint`: the Prometheus Operator sets that on every scraped series (the Service port's name).
    labelNames: ['webhook_endpoint', 'operation', 'result'] as const,
    registers,
    collect() {
      requestCounts.publish(this);
    },
  });
  const latency = new Histogram({
    name: 'secure_defaults_admission_duration_seconds',
    help: 'Time from reading an admission request to sending the answer.',
    labelNames: ['webhook_endpoint', 'operation'] as const,
    // Up to the longest webhook timeout the API server allows (30 s), so p99 near the timeout can be seen.
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const injectedCounts = new LabelledCounts<string>();
  const fieldLabels = new Map<string, string>();
  const fieldLabel = (path: string): string => {
    let label = fieldLabels.get(path);
    if (label === undefined) {
      if (fieldLabels.size >= LABEL_CACHE_LIMIT) fieldLabels.clear();
      fieldLabels.set(path, (label = injectedFieldLabel(path)));
    }
    return label;
  };
  new Counter({
    name: 'secure_defaults_injected_fields_total',
    help: 'Fields the webhook filled in on admitted Pods, by field path (container names elided).',
    labelNames: ['field'] as const,
    registers,
    collect() {
      injectedCounts.publish(this);
    },
  });
  // Namespaces are opted in one by one and reasons are a fixed set (Violation.reason), so the
  // series stay few; a JSON pair is the key, as namespace names may hold any character but "/".
  // The Pod's namespace is `resource_namespace` (as Kyverno names it): Prometheus gives every
  // scraped series the target's own `namespace`, which would win and rename ours exported_namespace.
  const wouldDenyCounts = new LabelledCounts<string>();
  new Counter({
    name: 'secure_defaults_would_deny_total',
    help: 'Violations that enforce mode would have refused, in namespaces whose rule is in warn mode (the Pods were admitted), by the Pod\'s namespace (resource_namespace) and reason.',
    labelNames: ['resource_namespace', 'reason'] as const,
    registers,
    collect() {
      wouldDenyCounts.publish(this);
    },
  });
  const generation = new Gauge({
    name: 'secure_defaults_policy_generation',
    help: 'Generation of the policy in use: starts at 1 and goes up by one on every accepted change; 0 while none is loaded.',
    registers,
  });
  const reloadErrors = new Counter({
    name: 'secure_defaults_policy_reload_errors_total',
    help: 'Policy changes refused because they did not parse or validate (the last good policy stays in use).',
    registers,
  });
  const tlsReloadErrors = new Counter({
    name: 'secure_defaults_tls_reload_errors_total',
    help: 'Attempts to load a changed TLS certificate/key pair that failed (the previous pair stays in use).',
    registers,
  });
  const certificateExpiry = new Gauge({
    name: 'secure_defaults_tls_certificate_expiry_timestamp_seconds',
    help: 'When the serving certificate in use expires (its notAfter), as Unix seconds; 0 until one is loaded.',
    registers,
  });
  const warningCounts = new LabelledCounts<string>();
  new Counter({
    name: 'secure_defaults_warnings_total',
    help: 'Warnings sent back with admitted or denied Pods (defaults left out, and why), by reason.',
    labelNames: ['reason'] as const,
    registers,
    collect() {
      warningCounts.publish(this);
    },
  });
  const ready = new Gauge({
    name: 'secure_defaults_ready',
    help: '1 while this replica is ready to judge Pods (what /readyz answers), else 0.',
    registers,
  });
  generation.set(0);
  certificateExpiry.set(0);
  ready.set(0);
  return {
    observeAdmission(endpoint, rawOperation, result, seconds) {
      const operation = operationLabel(rawOperation);
      requestCounts.add(requestKey(endpoint, operation, result), () => ({ webhook_endpoint: endpoint, operation, result }), 1);
      latency.observe({ webhook_endpoint: endpoint, operation }, seconds);
    },
    countInjected(paths) {
      for (const path of paths) {
        const field = fieldLabel(path);
        injectedCounts.add(field, () => ({ field }), 1);
      }
    },
    countWouldDeny(namespace, reasons) {
      for (const reason of reasons) wouldDenyCounts.add(JSON.stringify([namespace, reason]), () => ({ resource_namespace: namespace, reason }), 1);
    },
    setPolicyGeneration: (value) => generation.set(value),
    countPolicyReloadError: () => reloadErrors.inc(),
    countTlsReloadError: () => tlsReloadErrors.inc(),
    setCertificateExpiry: (unixSeconds) => certificateExpiry.set(unixSeconds),
    setReady: (value) => ready.set(value ? 1 : 0),
    countWarnings(reasons) {
      for (const reason of reasons) warningCounts.add(reason, () => ({ reason }), 1);
    },
  };
}
