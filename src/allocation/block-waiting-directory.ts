// The webhook's namespace directory when allocation can run (cluster mode): lookups go to the
// namespace cache as before, and a Pod whose namespace still awaits its UID block can wait for the
// cache to see the allocator's annotation (waitForNamespaceBlock), with the wait's time limit and
// the local allocator's nudge bound in here so the admission code needs only the policy and namespace.
import type { CompiledPolicy, NamespaceInfo } from '../engine/model.js';
import type { WallClock, Sleep } from '../foundation/clock.js';
import { waitForNamespaceBlock, type NamespaceBlockWait, type NamespaceSource } from './namespace-block-waiter.js';

export interface BlockWaitingDirectoryOptions {
  /** How long a Pod waits for its namespace's block before it is denied. */
  readonly timeoutMs: number;
  readonly clock: WallClock;
  readonly sleep: Sleep;
  /** Asks the local allocator for a pass now (a no-op when allocation is off or another replica leads). */
  readonly requestAllocation: () => void;
}

export interface BlockWaitRequest {
  /**
   * A dry-run request only waits: it does not ask for an allocation pass, so `kubectl
   * --dry-run=server` has no effect beyond its answer (the namespace gets its block in any case,
   * from the allocator's own namespace watch).
   */
  readonly dryRun: boolean;
}

export class BlockWaitingDirectory {
  constructor(
    private readonly cache: NamespaceSource & { lookup(name: string): Promise<NamespaceInfo | null> },
    private readonly options: BlockWaitingDirectoryOptions,
  ) {}

  lookup(name: string): Promise<NamespaceInfo | null> {
    return this.cache.lookup(name);
  }

  awaitAllocatedBlock(policy: CompiledPolicy, namespace: NamespaceInfo, request: BlockWaitRequest): Promise<NamespaceBlockWait> {
    const { timeoutMs, clock, sleep, requestAllocation } = this.options;
    return waitForNamespaceBlock({
      source: this.cache,
      policy,
      name: namespace.name,
      known: namespace,
      timeoutMs,
      clock,
      sleep,
      ...(request.dryRun ? {} : { requestAllocation }),
    });
  }
}
