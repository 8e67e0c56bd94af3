// Virtual time for code that takes a clock and a sleep: nothing happens until the test advances it.
import type { WallClock, Sleep } from '../../../src/foundation/clock.js';

interface Timer {
  readonly at: number;
  readonly wake: () => void;
}

export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

export class FakeTime implements WallClock {
  private current: number;
  private timers: Timer[] = [];

  constructor(start = Date.parse('2026-06-01T00:00:00Z')) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  readonly sleep: Sleep = (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer: Timer = {
        at: this.current + ms,
        wake: () => {
          this.timers = this.timers.filter((t) => t !== timer);
          signal?.removeEventListener('abort', timer.wake);
          resolve();
        },
      };
      this.timers.push(timer);
      signal?.addEventListener('abort', timer.wake, { once: true });
    });

  /** Moves time forward by `ms`, waking sleepers in order and letting their work run between. */
  async advance(ms: number): Promise<void> {
    const end = this.current + ms;
    for (;;) {
      await flushMicrotasks();
      const due = [...this.timers].sort((a, b) => a.at - b.at)[0];
      if (!due || due.at > end) break;
      this.current = Math.max(this.current, due.at);
      due.wake();
    }
    this.current = end;
    await flushMicrotasks();
  }
}
