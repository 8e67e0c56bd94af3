// Leader election over a coordination.k8s.io/v1 Lease, after client-go's leaderelection package
// (client-node has none). Expiry is judged by the local clock from when this candidate last saw
// the record change, never by comparing renewTime with our clock, so clock skew between replicas
// cannot make two of them leader. renewDeadline < leaseDuration makes a leader that cannot renew
// step down before anyone else may take over.
import type { Sleep, WallClock } from '../foundation/clock.js';
import type { Logger } from '../foundation/logger.js';

export interface LeaseRecord {
  /** '' when the lease was released. */
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  /** ms since epoch */
  readonly acquireTime: number | null;
  readonly renewTime: number | null;
  readonly leaseTransitions: number;
}

export interface StoredLease {
  readonly record: LeaseRecord;
  readonly resourceVersion: string;
}

/** The Lease object, as far as election needs it. `conflict` means someone else wrote first (409). */
export interface LeaseStore {
  get(): Promise<StoredLease | null>;
  create(record: LeaseRecord): Promise<'ok' | 'conflict'>;
  update(record: LeaseRecord, resourceVersion: string): Promise<'ok' | 'conflict'>;
}

export interface LeaderElectorOptions {
  readonly identity: string;
  readonly store: LeaseStore;
  readonly clock: WallClock;
  readonly sleep: Sleep;
  readonly logger: Logger;
  /** client-go defaults: 15 s, 10 s, 2 s. */
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  /** Called when this candidate becomes leader; the signal aborts when leadership ends. */
  readonly onStartedLeading: (leadership: AbortSignal) => void;
  readonly onStoppedLeading?: () => void;
}

export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private observed: LeaseRecord | null = null;
  private observedKey = '';
  private observedAt = 0;
  private leading = false;

  constructor(private readonly options: LeaderElectorOptions) {
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs && this.retryPeriodMs > 0)) {
      throw new Error(
        `leader election needs leaseDuration > renewDeadline > retryPeriod > 0; got ${this.leaseDurationMs} ms, ${this.renewDeadlineMs} ms, ${this.retryPeriodMs} ms`,
      );
    }
  }

  /** True from onStartedLeading until just before onStoppedLeading. */
  isLeader(): boolean {
    return this.leading;
  }

  /** The holder we last saw, '' for none. */
  observedHolder(): string {
    return this.observed?.holderIdentity ?? '';
  }

  /** One attempt to take or keep the lease; never throws for a conflict (another candidate won). */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { identity, store, clock } = this.options;
    const now = clock.now();
    const fresh: LeaseRecord = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    };
    const current = await store.get();
    if (current === null) {
      if ((await store.create(fresh)) !== 'ok') return false;
      this.observe(fresh, now);
      return true;
    }
    const key = JSON.stringify(current.record);
    if (key !== this.observedKey) this.observe(current.record, now);
    const holder = current.record.holderIdentity;
    const stillValid = this.observedAt + current.record.leaseDurationSeconds * 1000 > now;
    if (holder !== '' && holder !== identity && stillValid) return false;
    const next: LeaseRecord =
      holder === identity
        ? { ...fresh, acquireTime: current.record.acquireTime, leaseTransitions: current.record.leaseTransitions }
        : { ...fresh, leaseTransitions: current.record.leaseTransitions + 1 };
    if ((await store.update(next, current.resourceVersion)) !== 'ok') return false;
    this.observe(next, now);
    return true;
  }

  /**
   * Campaigns until `signal` aborts: acquire, lead while renewals succeed, step down when they
   * stop succeeding for renewDeadline, then campaign again. On abort a leader releases the lease
   * so that another replica takes over at once rather than after leaseDuration.
   */
  async run(signal: AbortSignal): Promise<void> {
    const { sleep, clock, logger, identity } = this.options;
    while (!signal.aborted) {
      if (!(await this.attempt())) {
        await sleep(this.retryPeriodMs, signal);
        continue;
      }
      logger.info('became leader', { identity, lease: this.describe() });
      const leadership = new AbortController();
      this.leading = true;
      this.options.onStartedLeading(leadership.signal);
      let lastRenew = clock.now();
      while (!signal.aborted) {
        await sleep(this.retryPeriodMs, signal);
        if (signal.aborted) break;
        if (await this.attempt(this.renewDeadlineMs - (clock.now() - lastRenew))) {
          lastRenew = clock.now();
        } else if (clock.now() - lastRenew >= this.renewDeadlineMs || this.observedHolder() !== identity) {
          logger.warn('lost leadership: could not renew the lease in time', { identity, holder: this.observedHolder() });
          break;
        }
      }
      this.leading = false;
      leadership.abort();
      this.options.onStoppedLeading?.();
      if (signal.aborted) await this.release();
    }
  }

  /** Gives the lease up if we hold it, so that another candidate need not wait for it to expire. */
  async release(): Promise<void> {
    if (this.observedHolder() !== this.options.identity) return;
    try {
      const current = await this.options.store.get();
      if (current === null || current.record.holderIdentity !== this.options.identity) return;
      const now = this.options.clock.now();
      const released: LeaseRecord = { ...current.record, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now };
      if ((await this.options.store.update(released, current.resourceVersion)) === 'ok') this.observe(released, now);
    } catch (error) {
      this.options.logger.warn('could not release the lease; others take over once it expires', { error: String(error) });
    }
  }

  private observe(record: LeaseRecord, at: number): void {
    this.observed = record;
    this.observedKey = JSON.stringify(record);
    this.observedAt = at;
  }

  private describe(): string {
    return this.observed ? `${this.observed.holderIdentity} (transitions ${this.observed.leaseTransitions})` : 'none';
  }

  /** tryAcquireOrRenew that treats an API error or a hang longer than `timeoutMs` as a failed attempt. */
  private async attempt(timeoutMs = this.renewDeadlineMs): Promise<boolean> {
    const timeout = new AbortController();
    try {
      return await Promise.race([
        this.tryAcquireOrRenew(),
        this.options.sleep(Math.max(0, timeoutMs), timeout.signal).then(() => false),
      ]);
    } catch (error) {
      this.options.logger.warn('lease request failed', { identity: this.options.identity, error: String(error) });
      return false;
    } finally {
      timeout.abort();
    }
  }
}
