import { describe, expect, it } from '@jest/globals';
import { LeaderElector, type LeaseStore } from '../../src/allocation/leader-election.js';
import { FakeTime } from './fakes/fake-time.js';
import { MemoryLeaseStore } from './fakes/memory-lease-store.js';

const quietLogger = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
const TIMING = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

function candidate(identity: string, store: LeaseStore, time: FakeTime, events: string[] = []): LeaderElector {
  return new LeaderElector({
    identity,
    store,
    clock: time,
    sleep: time.sleep,
    logger: quietLogger,
    ...TIMING,
    onStartedLeading: (leadership) => {
      events.push(`${identity} started`);
      leadership.addEventListener('abort', () => events.push(`${identity} leadership aborted`));
    },
    onStoppedLeading: () => events.push(`${identity} stopped`),
  });
}

describe('LeaderElector.tryAcquireOrRenew', () => {
  it('creates a missing lease and holds it', async () => {
    const time = new FakeTime();
    const lease = new MemoryLeaseStore();
    const a = candidate('a', lease.clientFor(), time);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(lease.current()?.record).toEqual({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: time.now(),
      renewTime: time.now(),
      leaseTransitions: 0,
    });
  });

  it('renews without changing acquireTime or transitions', async () => {
    const time = new FakeTime();
    const lease = new MemoryLeaseStore();
    const a = candidate('a', lease.clientFor(), time);
    await a.tryAcquireOrRenew();
    const acquired = time.now();
    await time.advance(2_000);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(lease.current()?.record).toMatchObject({ acquireTime: acquired, renewTime: acquired + 2_000, leaseTransitions: 0 });
  });

  it('lets another candidate take over only after it has seen the record unchanged for leaseDuration', async () => {
    const time = new FakeTime();
    const lease = new MemoryLeaseStore();
    const a = candidate('a', lease.clientFor(), time);
    const b = candidate('b', lease.clientFor(), time);
    await a.tryAcquireOrRenew();
    await time.advance(5_000);
    expect(await b.tryAcquireOrRenew()).toBe(false); // first sight of a's record starts b's count
    await time.advance(14_999);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    await time.advance(1);
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(lease.current()?.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1, acquireTime: time.now() });
    expect(await a.tryAcquireOrRenew()).toBe(false);
  });

  it('judges expiry by its own clock, not by a renewTime written with a skewed one', async () => {
    const time = new FakeTime();
    const lease = new MemoryLeaseStore();
    lease.put({ holderIdentity: 'skewed', leaseDurationSeconds: 15, acquireTime: 0, renewTime: 0, leaseTransitions: 4 });
    const b = candidate('b', lease.clientFor(), time);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    await time.advance(15_000);
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(lease.current()?.record.leaseTransitions).toBe(5);
  });

  it('a renewal by the holder restarts the others\' count', async () => {
    const time = new FakeTime();
    const lease = new MemoryLeaseStore();
    const a = candidate('a', lease.clientFor(), time);
    const b = candidate('b', lease.clientFor(), time);
    await a.tryAcquireOrRenew();
    await b.tryAcquireOrRenew();
    await time.advance(10_000);
    await a.tryAcquireOrRenew();
    await time.advance(6_000);
    expect(await b.tryAcquireOrRenew()).toBe(false); // 16 s since b first looked, but a renewed 6 s ago
  });

  it('takes a released lease at once', async () => {
    const time = new FakeTime();
    const lease = new MemoryLeaseStore();
    lease.put({ holderIdentity: '', leaseDurationSeconds: 1, acquireTime: 0, renewTime: 0, leaseTransitions: 2 });
    expect(await candidate('b', lease.clientFor(), time).tryAcquireOrRenew()).toBe(true);
  });

  it('gives the lease to exactly one of two candidates racing for an expired lease', async () => {
    const time = new FakeTime();
    const lease = new MemoryLeaseStore();
    lease.put({ holderIdentity: '', leaseDurationSeconds: 1, acquireTime: 0, renewTime: 0, leaseTransitions: 0 });
    const results = await Promise.all(['a', 'b', 'c'].map((id) => candidate(id, lease.clientFor(), time).tryAcquireOrRenew()));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('refuses timings that would let two leaders overlap', () => {
    const time = new FakeTime();
    expect(
      () =>
        new LeaderElector({
          identity: 'a',
          store: new MemoryLeaseStore().clientFor(),
          clock: time,
          sleep: time.sleep,
          logger: quietLogger,
          leaseDurationMs: 10_000,
          renewDeadlineMs: 10_000,
          onStartedLeading: () => {},
        }),
    ).toThrow(/leaseDuration > renewDeadline > retryPeriod/);
  });
});

describe('LeaderElector.run', () => {
  it('fails over: a leader cut off from the API server steps down before the other takes over', async () => {
    const time = new FakeTime();
    const lease = new MemoryLeaseStore();
    let aReachable = true;
    const events: string[] = [];
    const a = candidate('a', lease.clientFor(() => aReachable), time, events);
    const stopA = new AbortController();
    const runA = a.run(stopA.signal);
    await time.advance(0);
    const b = candidate('b', lease.clientFor(), time, events);
    const stopB = new AbortController();
    const runB = b.run(stopB.signal);
    await time.advance(30_000);
    expect(events).toEqual(['a started']);
    expect(lease.current()?.record.holderIdentity).toBe('a');

    aReachable = false;
    const cutAt = time.now();
    let aStoppedAt = 0;
    let bStartedAt = 0;
    while (!bStartedAt) {
      await time.advance(500);
      if (!aStoppedAt && events.includes('a stopped')) aStoppedAt = time.now();
      if (events.includes('b started')) bStartedAt = time.now();
      expect(a.isLeader() && b.isLeader()).toBe(false);
      expect(time.now() - cutAt).toBeLessThan(60_000);
    }
    expect(aStoppedAt).toBeGreaterThan(0);
    expect(aStoppedAt - cutAt).toBeLessThanOrEqual(TIMING.renewDeadlineMs + TIMING.retryPeriodMs);
    expect(aStoppedAt).toBeLessThan(bStartedAt);
    expect(events).toEqual(['a started', 'a leadership aborted', 'a stopped', 'b started']);
    expect(lease.current()?.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });

    // a comes back and stays a follower while b renews.
    aReachable = true;
    await time.advance(60_000);
    expect(a.isLeader()).toBe(false);
    expect(b.isLeader()).toBe(true);
    stopA.abort();
    stopB.abort();
    await time.advance(0);
    await Promise.all([runA, runB]);
  });

  it('releases the lease on shutdown so that the next candidate need not wait for expiry', async () => {
    const time = new FakeTime();
    const lease = new MemoryLeaseStore();
    const events: string[] = [];
    const a = candidate('a', lease.clientFor(), time, events);
    const b = candidate('b', lease.clientFor(), time, events);
    const stopA = new AbortController();
    const stopB = new AbortController();
    const runA = a.run(stopA.signal);
    await time.advance(0);
    const runB = b.run(stopB.signal);
    await time.advance(4_000);
    stopA.abort();
    await runA;
    expect(lease.current()?.record.holderIdentity).toBe('');
    await time.advance(TIMING.retryPeriodMs);
    expect(events).toEqual(['a started', 'a leadership aborted', 'a stopped', 'b started']);
    stopB.abort();
    await time.advance(0);
    await runB;
  });
});
