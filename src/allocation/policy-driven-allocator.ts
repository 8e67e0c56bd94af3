// Runs the allocator while the policy in force has spec.allocation, and only then: a policy edit
// that adds spec.allocation starts it, one that removes it stops it (releasing the Lease). An
// AllocatorService stops for good, so each start builds a fresh one; a start waits for the
// previous one to have stopped, so one process never campaigns twice under the same identity.
import type { CompiledPolicy } from '../engine/model.js';
import type { Logger } from '../foundation/logger.js';

/** The part of AllocatorService this needs. */
export interface AllocatorRun {
  start(): void;
  stop(): Promise<void>;
  requestPass(): void;
}

export interface PolicyDrivenAllocatorOptions {
  /** Builds a fresh allocator (its own leader election) for each period allocation is on. */
  readonly createRun: () => AllocatorRun;
  readonly logger: Logger;
}

export class PolicyDrivenAllocator {
  private current: AllocatorRun | null = null;
  /** Settles once every run stopped so far has released its Lease. */
  private stopped: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: PolicyDrivenAllocatorOptions) {}

  /** Told of every accepted policy (null: none loaded). */
  policyChanged(policy: CompiledPolicy | null): void {
    if (this.closed) return;
    const wanted = policy !== null && policy.allocation !== null;
    if (wanted && this.current === null) {
      const run = this.options.createRun();
      this.current = run;
      this.options.logger.info('spec.allocation is set: running the UID block allocator (one replica allocates, elected by Lease)', { component: 'allocator' });
      void this.stopped.then(() => {
        if (this.current === run) run.start();
      });
    } else if (!wanted && this.current !== null) {
      this.options.logger.info('spec.allocation was removed: stopping the UID block allocator', { component: 'allocator' });
      this.stopCurrent();
    }
  }

  isRunning(): boolean {
    return this.current !== null;
  }

  /** A Pod waits for its namespace's block: ask for a pass now rather than at the next batch. */
  requestPass(): void {
    this.current?.requestPass();
  }

  /** Stops for good (shutdown): resolves once the Lease is released. */
  async stop(): Promise<void> {
    this.closed = true;
    this.stopCurrent();
    await this.stopped;
  }

  private stopCurrent(): void {
    const run = this.current;
    if (run === null) return;
    this.current = null;
    const stopping = run.stop().catch((error: unknown) => {
      this.options.logger.warn('allocator did not stop cleanly', { component: 'allocator', error: String(error) });
    });
    this.stopped = Promise.all([this.stopped, stopping]).then(() => undefined);
  }
}
