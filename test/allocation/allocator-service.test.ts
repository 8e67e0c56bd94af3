import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { createAllocatorMetrics } from '../../src/allocation/allocator-metrics.js';
import type { AllocatorPolicy } from '../../src/allocation/allocator-policy.js';
import { AllocatorService } from '../../src/allocation/allocator-service.js';
import { NamespaceBlockAllocator, type PassOutcome } from '../../src/allocation/namespace-block-allocator.js';
import { OPT_IN_LABEL, UID_RANGE_ANNOTATION } from '../../src/engine/model.js';
import { FakeTime } from './fakes/fake-time.js';
import { MemoryCluster } from './fakes/memory-cluster.js';
import { MemoryLeaseStore } from './fakes/memory-lease-store.js';

const OPTED_IN = { [OPT_IN_LABEL]: 'enabled' };
const policy: AllocatorPolicy = {
  settings: { pool: { min: 100_000, max: 199_999 }, blockSize: 1_000, releaseAfterMs: null },
  wantsBlock: (ns) => ns.labels[OPT_IN_LABEL] === 'enabled',
  annotationRejection: () => null,
};
const quiet = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };

/** A change feed the test fires by hand. */
function manualFeed() {
  let listener: (() => void) | null = null;
  let stops = 0;
  return {
    feed: (onChange: () => void) => {
      listener = onChange;
      return { stop: () => void (stops += 1, (listener = null)) };
    },
    fire: () => listener?.(),
    listening: () => listener !== null,
    stops: () => stops,
  };
}

function replica(identity: string, cluster: MemoryCluster, lease: MemoryLeaseStore, time: FakeTime, reachable: () => boolean = () => true) {
  const metrics = createAllocatorMetrics(new Registry());
  const passes: PassOutcome[] = [];
  const feed = manualFeed();
  const allocator = new NamespaceBlockAllocator({ cluster, policy: () => policy, clock: time, logger: quiet, metrics });
  const service = new AllocatorService({
    identity,
    leaseStore: lease.clientFor(reachable),
    allocator: { runPass: () => (reachable() ? allocator.runPass() : Promise.reject(new Error('ECONNREFUSED'))) },
    namespaceChanges: feed.feed,
    clock: time,
    sleep: time.sleep,
    logger: quiet,
    metrics,
    resyncMs: 30_000,
    batchMs: 200,
    onPass: (o) => passes.push(o),
  });
  return { service, passes, feed };
}

describe('AllocatorService', () => {
  it('allocates on the leader only, soon after a namespace appears', async () => {
    const time = new FakeTime();
    const cluster = new MemoryCluster();
    const lease = new MemoryLeaseStore();
    const a = replica('a', cluster, lease, time);
    const b = replica('b', cluster, lease, time);
    a.service.start();
    await time.advance(0);
    b.service.start();
    await time.advance(1_000);
    expect(a.service.isLeader()).toBe(true);
    expect(b.service.isLeader()).toBe(false);
    expect(a.feed.listening()).toBe(true);
    expect(b.feed.listening()).toBe(false);

    cluster.addNamespace('team', OPTED_IN);
    a.feed.fire();
    await time.advance(199);
    expect(cluster.namespace('team').annotations[UID_RANGE_ANNOTATION]).toBeUndefined();
    await time.advance(1);
    expect(cluster.namespace('team').annotations[UID_RANGE_ANNOTATION]).toBe('100000-100999');
    expect(b.passes).toEqual([]);
    await Promise.all([a.service.stop(), b.service.stop(), time.advance(0)]);
  });

  it('gathers a burst of namespace changes into one pass', async () => {
    const time = new FakeTime();
    const cluster = new MemoryCluster();
    const a = replica('a', cluster, new MemoryLeaseStore(), time);
    a.service.start();
    await time.advance(1_000);
    const before = a.passes.length;
    for (let i = 0; i < 20; i++) {
      cluster.addNamespace(`ns-${i}`, OPTED_IN);
      a.feed.fire();
    }
    await time.advance(500);
    expect(a.passes.length - before).toBe(1);
    await Promise.all([a.service.stop(), time.advance(0)]);
  });

  it('runs a resync pass even when no change is reported', async () => {
    const time = new FakeTime();
    const cluster = new MemoryCluster();
    const a = replica('a', cluster, new MemoryLeaseStore(), time);
    a.service.start();
    await time.advance(1_000);
    cluster.addNamespace('silent', OPTED_IN); // no feed event
    await time.advance(30_500);
    expect(cluster.namespace('silent').annotations[UID_RANGE_ANNOTATION]).toBe('100000-100999');
    await Promise.all([a.service.stop(), time.advance(0)]);
  });

  it('hands allocation over when the leader is cut off, and stops its namespace feed', async () => {
    const time = new FakeTime();
    const cluster = new MemoryCluster();
    const lease = new MemoryLeaseStore();
    let aUp = true;
    const a = replica('a', cluster, lease, time, () => aUp);
    const b = replica('b', cluster, lease, time);
    a.service.start();
    await time.advance(0);
    b.service.start();
    await time.advance(1_000);
    aUp = false;
    await time.advance(40_000);
    expect(a.service.isLeader()).toBe(false);
    expect(a.feed.stops()).toBe(1);
    expect(b.service.isLeader()).toBe(true);
    cluster.addNamespace('after-failover', OPTED_IN);
    b.feed.fire();
    await time.advance(300);
    expect(cluster.namespace('after-failover').annotations[UID_RANGE_ANNOTATION]).toBe('100000-100999');
    await Promise.all([a.service.stop(), b.service.stop(), time.advance(0)]);
  });
});
