// Prometheus metrics of the webhook, registered on a Registry the caller owns (no global
// registry: two servers in one test process must not share counters).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** How an admission request ended, the `result` label. */
export type AdmissionResult = 'patched' | 'allowed' | 'skipped' | 'denied' | 'errored' | 'invalid';

export interface WebhookMetrics {
  observeAdmission(endpoint: string, operation: string, result: AdmissionResult, seconds: number): void;
  countInjected(paths: readonly string[]): void;
  setPolicyGeneration(generation: number): void;
  countPolicyReloadError(): void;
  countTlsReloadError(): void;
}

// Container names inside paths would make one time series per workload; keep only the field.
export function injectedFieldLabel(path: string): string {
  return path.replace(/\[[^\]]*\]/g, '[]');
}

export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  const registers = [registry];
  const requests = new Counter({
    name: 'secure_defaults_admission_requests_total',
    help: 'Admission requests answered, by endpoint, operation and result.',
    labelNames: ['endpoint', 'operation', 'result'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'secure_defaults_admission_duration_seconds',
    help: 'Time from reading an admission request to sending the answer.',
    labelNames: ['endpoint', 'operation'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const injected = new Counter({
    name: 'secure_defaults_injected_fields_total',
    help: 'Fields the webhook filled in on admitted Pods, by field path (container names elided).',
    labelNames: ['field'] as const,
    registers,
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
  generation.set(0);
  return {
    observeAdmission(endpoint, operation, result, seconds) {
      requests.inc({ endpoint, operation, result });
      latency.observe({ endpoint, operation }, seconds);
    },
    countInjected(paths) {
      for (const path of paths) injected.inc({ field: injectedFieldLabel(path) });
    },
    setPolicyGeneration: (value) => generation.set(value),
    countPolicyReloadError: () => reloadErrors.inc(),
    countTlsReloadError: () => tlsReloadErrors.inc(),
  };
}
