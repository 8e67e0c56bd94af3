// A Pod created in a namespace that was just opted in may arrive before the allocator has given
// the namespace its block. Like OpenShift, admission then waits briefly for the block rather than
// admitting the Pod with a wrong or missing UID. Waiting only reads the namespace cache: the
// allocator acts on namespaces, never on Pods, so a dry-run request can wait too without
// causing an allocation of its own.
import { UID_RANGE_ANNOTATION, type CompiledPolicy, type NamespaceInfo } from '../engine/model.js';
import { awaitsAllocatedBlock } from './allocator-policy.js';
import type { WallClock, Sleep } from '../foundation/clock.js';
import type { NamespaceBlockWait } from '../ports/admission-ports.js';

/** The server's namespace cache, as far as waiting needs it. */
export interface NamespaceSource {
  get(name: string): NamespaceInfo | undefined;
  /** Calls `listener` after each add or update of any namespace; returns the unsubscribe function. */
  subscribe(listener: (namespace: NamespaceInfo) => void): () => void;
}

export interface WaitForNamespaceBlockOptions {
  readonly source: NamespaceSource;
  readonly policy: CompiledPolicy;
  readonly name: string;
  /**
   * The namespace as the caller last read it, used while the source has not seen it yet (the
   * webhook reads a namespace created a moment ago straight from the API server).
   */
  readonly known?: NamespaceInfo;
  readonly timeoutMs: number;
  readonly clock: WallClock;
  readonly sleep: Sleep;
  /** Nudges a local allocator to run now rather than at its next batch (AllocatorService.requestPass). */
  readonly requestAllocation?: () => void;
}

export async function waitForNamespaceBlock(options: WaitForNamespaceBlockOptions): Promise<NamespaceBlockWait> {
  const { source, policy, name, clock } = options;
  const initial = source.get(name) ?? options.known;
  if (initial === undefined || !awaitsAllocatedBlock(policy, initial)) return { status: 'not-needed', namespace: initial };
  const started = clock.now();
  options.requestAllocation?.();
  const timeout = new AbortController();
  let settled: NamespaceInfo | null = null;
  const check = (namespace: NamespaceInfo | undefined): void => {
    if (settled || namespace === undefined || namespace.name !== name || awaitsAllocatedBlock(policy, namespace)) return;
    settled = namespace;
    timeout.abort();
  };
  const unsubscribe = source.subscribe(check);
  try {
    check(source.get(name)); // an update between the first look and subscribing would be missed otherwise
    if (!settled) await options.sleep(options.timeoutMs, timeout.signal);
  } finally {
    unsubscribe();
  }
  const result: NamespaceInfo | null = settled;
  if (result !== null) {
    return (result as NamespaceInfo).annotations[UID_RANGE_ANNOTATION] === undefined
      ? { status: 'not-needed', namespace: result }
      : { status: 'ready', namespace: result, waitedMs: clock.now() - started };
  }
  return {
    status: 'timeout',
    namespace: source.get(name) ?? initial,
    message: `namespace "${name}" has no UID block yet (annotation ${UID_RANGE_ANNOTATION}); the allocator did not assign one within ${options.timeoutMs} ms. Retry in a moment; if this persists, see its Events (for example a full pool): \`kubectl get events -n default --field-selector involvedObject.kind=Namespace,involvedObject.name=${name}\``,
  };
}
