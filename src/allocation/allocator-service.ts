// Runs the allocator on exactly one replica: campaigns for the Lease, and while leading runs an
// allocation pass whenever namespaces change (batched, so a burst of new namespaces costs one
// ledger write), after a failed or conflicted pass, and every resync period in any case.
import type { Logger } from '../foundation/logger.js';
import type { AllocatorMetrics } from './allocator-metrics.js';
import { LeaderElector, type LeaseStore } from './leader-election.js';
import type { WallClock, Sleep } from '../foundation/clock.js';
import type { NamespaceBlockAllocator, PassOutcome } from './namespace-block-allocator.js';

/** Calls `onChange` whenever a namespace is added or changed, until stopped. */
export type NamespaceChangeFeed = (onChange: () => void) => { stop(): void };

export interface AllocatorServiceOptions {
  /** Unique per replica, e.g. the Pod name. */
  readonly identity: string;
  readonly leaseStore: LeaseStore;
  readonly allocator: Pick<NamespaceBlockAllocator, 'runPass'>;
  readonly namespaceChanges: NamespaceChangeFeed;
  readonly clock: WallClock;
  readonly sleep: Sleep;
  readonly logger: Logger;
  readonly metrics: AllocatorMetrics;
  /** A full pass at least this often while leading. */
  readonly resyncMs?: number;
  /** How long to gather namespace changes into one pass. */
  readonly batchMs?: number;
  /** Delay before retrying a pass that failed, conflicted or could not annotate. */
  readonly retryMs?: number;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  /** Told after every pass (tests and the e2e child process report progress through it). */
  readonly onPass?: (outcome: PassOutcome) => void;
}

export class AllocatorService {
  private readonly elector: LeaderElector;
  private readonly stopping = new AbortController();
  private running: Promise<void> | null = null;
  private pending = false;
  private wake: (() => void) | null = null;

  constructor(private readonly options: AllocatorServiceOptions) {
    this.elector = new LeaderElector({
      identity: options.identity,
      store: options.leaseStore,
      clock: options.clock,
      sleep: options.sleep,
      logger: options.logger,
      ...(options.leaseDurationMs === undefined ? {} : { leaseDurationMs: options.leaseDurationMs }),
      ...(options.renewDeadlineMs === undefined ? {} : { renewDeadlineMs: options.renewDeadlineMs }),
      ...(options.retryPeriodMs === undefined ? {} : { retryPeriodMs: options.retryPeriodMs }),
      onStartedLeading: (leadership) => {
        options.metrics.leader.set(1);
        void this.lead(leadership);
      },
      onStoppedLeading: () => options.metrics.leader.set(0),
    });
  }

  start(): void {
    this.running ??= this.elector.run(this.stopping.signal);
  }

  /** Stops allocating and releases the Lease, so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  isLeader(): boolean {
    return this.elector.isLeader();
  }

  /** Asks for a pass soon (e.g. a Pod waits for its namespace's block); a no-op on followers. */
  requestPass(): void {
    this.pending = true;
    this.wake?.();
  }

  private async lead(leadership: AbortSignal): Promise<void> {
    const { sleep, logger, allocator } = this.options;
    const resyncMs = this.options.resyncMs ?? 30_000;
    const batchMs = this.options.batchMs ?? 200;
    const retryMs = this.options.retryMs ?? 1_000;
    const feed = this.options.namespaceChanges(() => this.requestPass());
    this.pending = true;
    try {
      while (!leadership.aborted) {
        if (!this.pending) await this.waitForRequest(resyncMs, leadership);
        if (leadership.aborted) break;
        await sleep(batchMs, leadership);
        if (leadership.aborted) break;
        this.pending = false;
        let outcome: PassOutcome | null = null;
        try {
          outcome = await allocator.runPass();
        } catch (error) {
          logger.warn('allocation pass failed; retrying', { component: 'allocator', error: String(error) });
        }
        if (outcome) this.options.onPass?.(outcome);
        const again = outcome === null || outcome.status === 'conflicts' || (outcome.status === 'done' && outcome.annotationConflicts > 0);
        if (again) {
          await sleep(retryMs, leadership);
          this.pending = true;
        }
      }
    } finally {
      feed.stop();
    }
  }

  private async waitForRequest(timeoutMs: number, leadership: AbortSignal): Promise<void> {
    const done = new AbortController();
    const onLeadershipEnd = (): void => done.abort();
    leadership.addEventListener('abort', onLeadershipEnd, { once: true });
    this.wake = () => done.abort();
    await this.options.sleep(timeoutMs, done.signal);
    this.wake = null;
    leadership.removeEventListener('abort', onLeadershipEnd);
  }
}
