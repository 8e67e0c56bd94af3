// Allocation inside `serve` (cluster mode): the allocator follows the policy in force (on while it
// has spec.allocation), and Pods wait through the namespace cache for their namespace's block,
// nudging the local allocator. Every replica runs this; the Lease decides which one allocates.
import type { CompiledPolicy, NamespaceInfo } from '../engine/model.js';
import type { Logger } from '../foundation/logger.js';
import { BlockWaitingDirectory } from './block-waiting-directory.js';
import type { WallClock, Sleep } from '../foundation/clock.js';
import type { NamespaceSource } from './namespace-block-waiter.js';
import { PolicyDrivenAllocator, type AllocatorRun } from './policy-driven-allocator.js';

export interface PolicyFeed {
  current(): { readonly policy: CompiledPolicy } | null;
  /** Calls `listener` with each newly accepted policy; returns the unsubscribe function. */
  onPolicyChange(listener: (snapshot: { readonly policy: CompiledPolicy }) => void): () => void;
}

export interface WebhookAllocationOptions {
  /** The webhook's namespace cache. */
  readonly namespaces: NamespaceSource & { lookup(name: string): Promise<NamespaceInfo | null> };
  readonly policies: PolicyFeed;
  /** Builds one allocator run reading `policy` at each pass and woken by `namespaces` changes. */
  readonly createRun: (policy: () => CompiledPolicy | null, namespaces: Pick<NamespaceSource, 'subscribe'>) => AllocatorRun;
  /** How long a Pod waits for its namespace's block before it is denied. */
  readonly waitMs: number;
  readonly clock: WallClock;
  readonly sleep: Sleep;
  readonly logger: Logger;
}

export interface WebhookAllocation {
  /** The namespace directory to serve with: the cache's lookups plus waiting for blocks. */
  readonly namespaces: BlockWaitingDirectory;
  readonly allocator: PolicyDrivenAllocator;
  /** Stops following the policy and stops the allocator, releasing the Lease. */
  stop(): Promise<void>;
}

export function startWebhookAllocation(options: WebhookAllocationOptions): WebhookAllocation {
  const currentPolicy = (): CompiledPolicy | null => options.policies.current()?.policy ?? null;
  const allocator = new PolicyDrivenAllocator({ createRun: () => options.createRun(currentPolicy, options.namespaces), logger: options.logger });
  const unsubscribe = options.policies.onPolicyChange((snapshot) => allocator.policyChanged(snapshot.policy));
  allocator.policyChanged(currentPolicy());
  const namespaces = new BlockWaitingDirectory(options.namespaces, {
    timeoutMs: options.waitMs,
    clock: options.clock,
    sleep: options.sleep,
    requestAllocation: () => allocator.requestPass(),
  });
  return {
    namespaces,
    allocator,
    async stop() {
      unsubscribe();
      await allocator.stop();
    },
  };
}
