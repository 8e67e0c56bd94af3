// Time and timers are passed in, so reload debouncing, watch backoff, drain deadlines, leader
// election and block waits can be driven step by step in tests instead of waiting on the wall clock.

export interface TimerHandle {
  /** Lets the process exit while the timer is pending (a pending poll must not hold shutdown open). */
  unref?(): unknown;
}

export interface Clock {
  /** Wall-clock milliseconds since the epoch (timestamps in Events and logs). */
  now(): number;
  /** Monotonic milliseconds with sub-millisecond precision (durations). */
  monotonic(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** What code that only stamps or compares wall-clock times needs (leases, allocation). */
export type WallClock = Pick<Clock, 'now'>;

/** Resolves after `ms`, or at once when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
