// Time and timers are passed in, so reload debouncing, watch backoff and drain deadlines can be
// driven step by step in tests instead of waiting on the wall clock.

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
