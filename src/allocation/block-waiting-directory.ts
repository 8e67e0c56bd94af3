// The webhook's namespace directory when allocation can run (cluster mode): lookups go to the
// namespace cache as before, and a Pod whose namespace still awaits its UID block can wait for the
// cache to see the allocator's annotation (waitForNamespaceBlock), with the wait's time limit and
// the local allocator's nudge bound in here so the admission code needs only the policy and namespace.
import type { CompiledPolicy, NamespaceInfo } from '../engine/model.js';
import type { WallClock, Sleep } from '../foundation/clock.js';
import type { AllocatedBlocks, BlockWaitRequest, NamespaceBlockWait, NamespaceDirectory } from '../ports/admission-ports.js';
import { waitForNamespaceBlock, type NamespaceSource } from './namespace-block-waiter.js';

export interface BlockWaitingDirectoryOptions {
  /** How long a Pod waits for its namespace's block before it is denied. */
  readonly timeoutMs: number;
  readonly clock: WallClock;
  readonly sleep: Sleep;
  /** Asks the local allocator for a pass now (a no-op when allocation is off or another replica leads). */
  readonly requestAllocation: () => void;
}

export class BlockWaitingDirectory implements NamespaceDirectory, AllocatedBlocks {
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
