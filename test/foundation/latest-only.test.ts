import { describe, expect, it } from '@jest/globals';
import { LatestOnly } from '../../src/foundation/latest-only.js';

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('LatestOnly', () => {
  it('applies a task that answers at once, before run returns', () => {
    const latest = new LatestOnly();
    const applied: number[] = [];
    latest.run(() => 1, (value) => applied.push(value), () => undefined);
    expect(applied).toEqual([1]);
    expect(latest.isRunning()).toBe(false);
  });

  it('aborts the running task when a newer one starts, and drops its outcome even when it arrives last', async () => {
    const latest = new LatestOnly();
    const older = deferred<string>();
    const newer = deferred<string>();
    const signals: AbortSignal[] = [];
    const applied: string[] = [];
    latest.run((signal) => (signals.push(signal), older.promise), (value) => applied.push(value), () => applied.push('failed'));
    latest.run((signal) => (signals.push(signal), newer.promise), (value) => applied.push(value), () => applied.push('failed'));
    expect(signals.map((s) => s.aborted)).toEqual([true, false]);
    newer.resolve('newer');
    await latest.settled();
    older.resolve('older');
    await new Promise((r) => setTimeout(r, 0));
    expect(applied).toEqual(['newer']);
  });

  it('reports a thrown or rejected task to fail, unless a newer one came first', async () => {
    const latest = new LatestOnly();
    const failures: string[] = [];
    latest.run(() => {
      throw new Error('thrown');
    }, () => undefined, (error) => failures.push((error as Error).message));
    const rejected = deferred<void>();
    latest.run(() => rejected.promise, () => undefined, (error) => failures.push((error as Error).message));
    rejected.reject(new Error('rejected'));
    await latest.settled();
    const dropped = deferred<void>();
    latest.run(() => dropped.promise, () => undefined, (error) => failures.push((error as Error).message));
    latest.cancel();
    dropped.reject(new Error('dropped'));
    await new Promise((r) => setTimeout(r, 0));
    expect(failures).toEqual(['thrown', 'rejected']);
  });

  it('settles only when no task runs, including one started while waiting', async () => {
    const latest = new LatestOnly();
    const first = deferred<number>();
    const second = deferred<number>();
    const applied: number[] = [];
    latest.run(() => first.promise, (value) => applied.push(value), () => undefined);
    let settled = false;
    const waiting = latest.settled().then(() => (settled = true));
    first.resolve(1);
    latest.run(() => second.promise, (value) => applied.push(value), () => undefined);
    await new Promise((r) => setTimeout(r, 0));
    expect(settled).toBe(false);
    second.resolve(2);
    await waiting;
    expect(applied).toEqual([2]);
  });
});
