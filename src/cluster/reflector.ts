// List, then watch from the list's resourceVersion, forever: the loop behind the namespace cache
// and the policy ConfigMap. client-node's informer does not come back after a watch error, so
// this one owns its restarts: a watch the server ends on schedule is resumed at once from the
// last resourceVersion; an error (connection lost, 5xx, a watch that goes silent) relists after
// capped exponential backoff with jitter; "410 Gone" (resourceVersion too old) relists at once.
import type { Clock, TimerHandle } from '../foundation/clock.js';
import type { Logger } from '../foundation/logger.js';
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffSettings } from '../foundation/backoff.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ObjectWithMetadata {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string };
}

export interface ListResult<T> {
  readonly items: readonly T[];
  readonly resourceVersion: string;
}

export interface WatchCallbacks {
  /** One event as the API server sent it: ADDED/MODIFIED/DELETED/BOOKMARK/ERROR and its object. */
  onEvent(type: string, object: unknown): void;
  /** The watch ended: null when the server closed it normally. Called at most once. */
  onClose(error: unknown): void;
}

/** The two API calls a reflector makes, so tests can drive it without an API server. */
export interface ListWatch<T> {
  list(): Promise<ListResult<T>>;
  watch(resourceVersion: string, timeoutSeconds: number, callbacks: WatchCallbacks): Promise<{ stop(): void }>;
}

export interface ReflectorHandlers<T> {
  /** The complete current set, after every (re)list. */
  replace(items: readonly T[]): void;
  apply(type: WatchEventType, object: T): void;
}

export interface ReflectorOptions<T> {
  /** For logs: "namespaces", "configmap secure-defaults/policy". */
  readonly name: string;
  readonly listWatch: ListWatch<T>;
  readonly handlers: ReflectorHandlers<T>;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly random?: () => number;
  readonly backoff?: BackoffSettings;
  /** Server-side watch timeout; each watch picks a value between this and twice it (as client-go). */
  readonly minWatchTimeoutSeconds?: number;
  /** A list call that takes longer than this counts as failed. */
  readonly listTimeoutMs?: number;
}

function statusCodeOf(object: unknown): number | null {
  if (typeof object === 'object' && object !== null && typeof (object as { code?: unknown }).code === 'number') {
    return (object as { code: number }).code;
  }
  return null;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null) return JSON.stringify(error);
  return String(error);
}

export class Reflector<T extends ObjectWithMetadata> {
  private readonly options: ReflectorOptions<T>;
  private readonly random: () => number;
  private readonly backoff: BackoffSettings;
  private resourceVersion = '';
  private synced = false;
  private stopped = true;
  private failures = 0;
  /** Identifies the current list or watch; callbacks of an abandoned one are ignored. */
  private epoch = 0;
  private currentWatch: { stop(): void } | null = null;
  private timer: TimerHandle | null = null;
  private watchdog: TimerHandle | null = null;

  constructor(options: ReflectorOptions<T>) {
    this.options = options;
    this.random = options.random ?? Math.random;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  /** True once the first list has been delivered (and stays true across relists). */
  hasSynced(): boolean {
    return this.synced;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.list();
  }

  stop(): void {
    this.stopped = true;
    this.epoch++;
    this.clearTimers();
    this.currentWatch?.stop();
    this.currentWatch = null;
  }

  private clearTimers(): void {
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    if (this.watchdog) this.options.clock.clearTimeout(this.watchdog);
    this.timer = null;
    this.watchdog = null;
  }

  private async list(): Promise<void> {
    const epoch = ++this.epoch;
    const { clock, listWatch, name } = this.options;
    let timeout: TimerHandle | null = null;
    const timedOut = new Promise<never>((_, reject) => {
      timeout = clock.setTimeout(() => reject(new Error(`list did not answer within ${this.options.listTimeoutMs ?? 30_000} ms`)), this.options.listTimeoutMs ?? 30_000);
    });
    let result: ListResult<T>;
    try {
      result = await Promise.race([listWatch.list(), timedOut]);
    } catch (error) {
      if (epoch !== this.epoch) return;
      this.retryAfterFailure(`listing ${name} failed: ${describe(error)}`);
      return;
    } finally {
      if (timeout) clock.clearTimeout(timeout);
    }
    if (epoch !== this.epoch) return;
    this.resourceVersion = result.resourceVersion;
    this.options.handlers.replace(result.items);
    if (!this.synced) this.options.logger.info('cache synced', { cache: name, items: result.items.length, resourceVersion: result.resourceVersion });
    this.synced = true;
    await this.watch();
  }

  private async watch(): Promise<void> {
    const epoch = ++this.epoch;
    const { clock, listWatch, name } = this.options;
    const minTimeout = this.options.minWatchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.round(minTimeout * (1 + this.random()));
    const startedAt = clock.monotonic();
    let sawEvent = false;
    let closed = false;
    // The server ends the watch after timeoutSeconds and sends bookmarks meanwhile; silence well
    // past that means a dead connection the TCP stack has not noticed.
    const armWatchdog = (): void => {
      if (this.watchdog) clock.clearTimeout(this.watchdog);
      this.watchdog = clock.setTimeout(() => close(new Error(`watch was silent for ${timeoutSeconds + 30} s`)), (timeoutSeconds + 30) * 1000);
    };
    const close = (error: unknown, relistNow = false): void => {
      if (closed || epoch !== this.epoch) return;
      closed = true;
      this.currentWatch?.stop();
      this.currentWatch = null;
      this.clearTimers();
      if (this.stopped) return;
      if (relistNow) {
        void this.list();
      } else if (error !== null && error !== undefined) {
        this.retryAfterFailure(`watching ${name} failed: ${describe(error)}`);
      } else if (!sawEvent && clock.monotonic() - startedAt < 1000) {
        // A watch that ends at once with nothing said is a failure (a proxy cutting it), not a timeout.
        this.retryAfterFailure(`watch of ${name} closed immediately`);
      } else {
        this.options.logger.debug('watch ended; resuming', { cache: name, resourceVersion: this.resourceVersion });
        void this.watch();
      }
    };
    const callbacks: WatchCallbacks = {
      onEvent: (type, object) => {
        if (closed || epoch !== this.epoch) return;
        armWatchdog();
        if (type === 'ERROR') {
          const code = statusCodeOf(object);
          if (code === 410) {
            this.options.logger.info('watch resourceVersion expired; relisting', { cache: name, resourceVersion: this.resourceVersion });
            close(null, true);
          } else {
            close(new Error(`server sent an error event: ${describe(object)}`));
          }
          return;
        }
        const rv = (object as ObjectWithMetadata | null)?.metadata?.resourceVersion;
        if (typeof rv === 'string' && rv !== '') this.resourceVersion = rv;
        // Any sign of life (bookmarks included) means the connection works again.
        this.failures = 0;
        sawEvent = true;
        if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
        this.options.handlers.apply(type, object as T);
      },
      onClose: (error) => close(error ?? null),
    };
    armWatchdog();
    try {
      const handle = await listWatch.watch(this.resourceVersion, timeoutSeconds, callbacks);
      if (closed || epoch !== this.epoch) {
        handle.stop();
        return;
      }
      this.currentWatch = handle;
    } catch (error) {
      close(error);
    }
  }

  private retryAfterFailure(message: string): void {
    this.failures++;
    const delayMs = backoffDelayMs(this.failures, this.backoff, this.random);
    this.options.logger.warn(`${message}; retrying`, { cache: this.options.name, attempt: this.failures, retryInMs: delayMs });
    const epoch = ++this.epoch;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      if (epoch === this.epoch && !this.stopped) void this.list();
    }, delayMs);
  }
}
