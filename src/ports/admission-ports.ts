// What the admission code needs from the world outside it, as small interfaces: the policy in
// force, what is known about a namespace, the allocator's UID blocks it may have to wait for, and
// where its measurements go.
// The Kubernetes adapters (src/cluster) and the allocator (src/allocation) implement them; the
// standalone ones (standalone-ports.ts) serve `--policy FILE` and the tests; src/metrics holds the
// Prometheus metrics. `serve` wires them.
import type { CompiledPolicy, NamespaceInfo, PolicyParseResult, WarningReason } from '../engine/model.js';

export interface PolicySnapshot {
  readonly policy: CompiledPolicy;
  /** Goes up by one each time a new policy is accepted; lets logs and metrics say which one judged a Pod. */
  readonly generation: number;
}

export interface PolicySource {
  /** The last good policy, or null while none has been loaded yet. */
  current(): PolicySnapshot | null;
}

/**
 * Reads and validates a policy text. The webhook's parses run in a worker thread and answer later
 * (src/server/worker-policy-parser.ts); tests and the CLI may answer at once. `signal` aborts a parse
 * whose answer is no longer wanted (a newer text arrived); it then rejects.
 */
export type PolicyTextParser = (yamlText: string, signal?: AbortSignal) => PolicyParseResult | Promise<PolicyParseResult>;

export interface NamespaceDirectory {
  /** The namespace, or null when it does not exist. Rejects when it cannot be found out (API server down). */
  lookup(name: string): Promise<NamespaceInfo | null>;
}

export type NamespaceBlockWait =
  /** Nothing to wait for: allocation off, namespace not opted in or covered by a rule, or it already has its annotation. */
  | { readonly status: 'not-needed'; readonly namespace: NamespaceInfo | undefined }
  | { readonly status: 'ready'; readonly namespace: NamespaceInfo; readonly waitedMs: number }
  /** Still no block: deny the Pod with `message` (it says to retry and where to look). */
  | { readonly status: 'timeout'; readonly namespace: NamespaceInfo; readonly message: string };

export interface BlockWaitRequest {
  /**
   * A dry-run request only waits: it does not ask for an allocation pass, so `kubectl
   * --dry-run=server` has no effect beyond its answer (the namespace gets its block in any case,
   * from the allocator's own namespace watch).
   */
  readonly dryRun: boolean;
}

/**
 * The allocator's UID blocks as the webhook sees them. Like OpenShift's SCC admission for a
 * namespace without its UID range annotation, a Pod is not judged without its namespace's block:
 * this waits briefly for it, which covers "create namespace, then Pod".
 */
export interface AllocatedBlocks {
  /** 'not-needed' at once when the policy allocates nothing or the namespace needs no block or has one. */
  awaitAllocatedBlock(policy: CompiledPolicy, namespace: NamespaceInfo, request: BlockWaitRequest): Promise<NamespaceBlockWait>;
}

/** A readiness condition: null when satisfied, else why the server is not ready. */
export type ReadinessCheck = () => string | null;

export interface ConfigMapRef {
  readonly namespace: string;
  readonly name: string;
}

/** What a policy source reports as it accepts or refuses policies (secure_defaults_policy_*). */
export interface PolicyLoadMetrics {
  setPolicyGeneration(generation: number): void;
  countPolicyReloadError(): void;
}

/** How an admission request ended, the `result` label. */
export type AdmissionResult = 'patched' | 'allowed' | 'skipped' | 'denied' | 'errored' | 'invalid';

export interface WebhookMetrics extends PolicyLoadMetrics {
  observeAdmission(endpoint: string, operation: string, result: AdmissionResult, seconds: number): void;
  countInjected(paths: readonly string[]): void;
  /** Warn mode: one per violation enforce mode would have refused, by namespace and reason. */
  countWouldDeny(namespace: string, reasons: readonly string[]): void;
  countTlsReloadError(): void;
  /** The serving certificate's notAfter, as Unix seconds (set at start and on every reload). */
  setCertificateExpiry(unixSeconds: number): void;
  /** One per warning sent back to the Pod's author, by the reason its writer gave (src/engine/warning-reasons.ts). */
  countWarnings(reasons: readonly WarningReason[]): void;
  /** Whether /readyz would answer 200, set when scraped (alerts: "no ready replica"). */
  setReady(ready: boolean): void;
}
