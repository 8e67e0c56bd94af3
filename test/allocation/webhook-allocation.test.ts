// Allocation inside the webhook, with the real AllocatorService, leader election, allocator and
// namespace cache over the in-memory cluster and Lease: every namespace write of the fake cluster
// is delivered to each replica's cache as a watch event would be.
import { describe, expect, it } from '@jest/globals';
import type { V1Namespace } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import type { ClusterNamespace } from '../../src/allocation/allocation-cluster.js';
import { createAllocatorMetrics } from '../../src/allocation/allocator-metrics.js';
import { AllocatorService } from '../../src/allocation/allocator-service.js';
import { currentAllocatorPolicy, namespaceChangesFrom } from '../../src/cluster/kube-allocator-run.js';
import { NamespaceBlockAllocator } from '../../src/allocation/namespace-block-allocator.js';
import { startWebhookAllocation, type PolicyFeed, type WebhookAllocation } from '../../src/allocation/webhook-allocation.js';
import { NamespaceCache } from '../../src/cluster/namespace-cache.js';
import { decideAdmission, parsePolicy } from '../../src/engine/index.js';
import type { CompiledPolicy } from '../../src/engine/model.js';
import { readAdmissionReview } from '../../src/admission/admission-review.js';
import type { AdmissionOutcome } from '../../src/admission/admission-pipeline.js';
import { admitPod } from '../../src/admission/pod-admission.js';
import { decodePatch, podReview } from '../server/webhook-harness.js';
import { FakeTime, flushMicrotasks } from './fakes/fake-time.js';
import { MemoryCluster } from './fakes/memory-cluster.js';
import { MemoryLeaseStore } from './fakes/memory-lease-store.js';

const OPT_IN = { 'secure-defaults.io/inject': 'enabled' };
const UID_RANGE = 'secure-defaults.io/uid-range';
const quiet = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };

function compile(allocation: boolean): CompiledPolicy {
  const parsed = parsePolicy(`apiVersion: secure-defaults.io/v1alpha1
kind: SecureDefaultsPolicy
metadata: { name: p }
spec:
  fallback: { uidRange: "100000-165535" }
${allocation ? '  allocation: { range: "1000000000-1999999999", blockSize: 10000 }\n' : ''}`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.policy;
}

const toV1 = (ns: ClusterNamespace): V1Namespace => ({ metadata: { name: ns.name, uid: ns.uid, resourceVersion: ns.resourceVersion, labels: { ...ns.labels }, annotations: { ...ns.annotations } } });

/** The in-memory API server, telling every watching cache of each namespace write. */
class WatchedCluster extends MemoryCluster {
  readonly caches: NamespaceCache[] = [];
  override addNamespace(name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): ClusterNamespace {
    const ns = super.addNamespace(name, labels, annotations);
    for (const cache of this.caches) cache.apply('ADDED', toV1(ns));
    return ns;
  }
  /** Adds a namespace whose watch event is still on its way: only a direct read or a list sees it. */
  addUnwatchedNamespace(name: string, labels: Record<string, string>): void {
    super.addNamespace(name, labels);
  }
  findNamespace(name: string): ClusterNamespace | null {
    try {
      return this.namespace(name);
    } catch {
      return null;
    }
  }
  override async annotateNamespace(name: string, resourceVersion: string, annotations: Readonly<Record<string, string>>) {
    const result = await super.annotateNamespace(name, resourceVersion, annotations);
    if (result === 'ok') for (const cache of this.caches) cache.apply('MODIFIED', toV1(this.namespace(name)));
    return result;
  }
}

class PolicyFeedFake implements PolicyFeed {
  private snapshot: { policy: CompiledPolicy } | null = null;
  private readonly listeners = new Set<(snapshot: { policy: CompiledPolicy }) => void>();
  current() {
    return this.snapshot;
  }
  onPolicyChange(listener: (snapshot: { policy: CompiledPolicy }) => void) {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
  load(policy: CompiledPolicy): void {
    this.snapshot = { policy };
    for (const listener of this.listeners) listener(this.snapshot);
  }
}

function replica(identity: string, cluster: WatchedCluster, leases: MemoryLeaseStore, time: FakeTime, policies: PolicyFeedFake) {
  // A watch-cache miss reads the namespace from the API server, as the real cache does.
  const cache = new NamespaceCache(async (name) => {
    const ns = cluster.findNamespace(name);
    return ns ? { name: ns.name, labels: ns.labels, annotations: ns.annotations } : null;
  });
  cache.replace([]);
  cluster.caches.push(cache);
  const registry = new Registry();
  const metrics = createAllocatorMetrics(registry);
  let runs = 0;
  const allocation: WebhookAllocation = startWebhookAllocation({
    namespaces: cache,
    policies,
    createRun: (policy, namespaces) => {
      runs += 1;
      return new AllocatorService({
        identity,
        leaseStore: leases.clientFor(),
        allocator: new NamespaceBlockAllocator({ cluster, policy: currentAllocatorPolicy(policy), clock: time, logger: quiet, metrics }),
        namespaceChanges: namespaceChangesFrom(namespaces),
        clock: time,
        sleep: time.sleep,
        logger: quiet,
        metrics,
        // Long enough that only a namespace change or a waiting Pod can explain a pass.
        resyncMs: 600_000,
        batchMs: 200,
      });
    },
    waitMs: 3000,
    clock: time,
    sleep: time.sleep,
    logger: quiet,
  });
  const admit = (namespace: string): { done: boolean; outcome?: AdmissionOutcome } => {
    const reading = readAdmissionReview(JSON.stringify(podReview({ namespace })));
    if (reading.kind !== 'request') throw new Error('bad fixture');
    const box: { done: boolean; outcome?: AdmissionOutcome } = { done: false };
    void admitPod(reading.request, {
      policySource: { current: () => (policies.current() ? { policy: policies.current()!.policy, generation: 1 } : null) },
      namespaces: allocation.namespaces,
      allocatedBlocks: allocation.namespaces,
      decideAdmission,
      failurePolicy: 'open',
    }).then((outcome) => Object.assign(box, { done: true, outcome }));
    return box;
  };
  return { allocation, admit, registry, cache, runs: () => runs };
}

function runAsUserOf(outcome: AdmissionOutcome | undefined): number | undefined {
  const patch = (decodePatch(outcome?.response ?? {}) ?? []) as Array<{ path: string; value: { runAsUser?: number } }>;
  return patch.find((op) => op.path === '/spec/securityContext')?.value.runAsUser;
}

describe('allocation inside the webhook', () => {
  it('a Pod on a follower replica waits for the block the leader allocates, and gets its first UID', async () => {
    const time = new FakeTime();
    const cluster = new WatchedCluster();
    const leases = new MemoryLeaseStore();
    const policies = new PolicyFeedFake();
    const a = replica('replica-a', cluster, leases, time, policies);
    const b = replica('replica-b', cluster, leases, time, policies);
    policies.load(compile(true));
    await time.advance(1000);
    expect(leases.current()?.record.holderIdentity).toBe('replica-a');

    cluster.addNamespace('fresh', OPT_IN);
    const pod = b.admit('fresh');
    await time.advance(100);
    expect(pod.done).toBe(false);
    await time.advance(2000);
    expect(pod.done).toBe(true);
    const block = cluster.namespace('fresh').annotations[UID_RANGE];
    expect(block).toMatch(/^\d+-\d+$/);
    expect(runAsUserOf(pod.outcome)).toBe(Number(block!.split('-')[0]));
    expect(pod.outcome?.log.waitedForBlockMs).toBeGreaterThan(0);

    await Promise.all([a.allocation.stop(), b.allocation.stop()]);
  });

  it('a waiting Pod on the leader asks for a pass at once instead of the next resync', async () => {
    const time = new FakeTime();
    const cluster = new WatchedCluster();
    const leases = new MemoryLeaseStore();
    const policies = new PolicyFeedFake();
    policies.load(compile(true));
    const a = replica('replica-a', cluster, leases, time, policies);
    await time.advance(1000);
    // The Pod comes before the namespace's watch event: the webhook reads the namespace directly,
    // and nothing has told the allocator yet; without the Pod's request it would wait for the
    // 10-minute resync and the Pod would be denied.
    cluster.addUnwatchedNamespace('quiet', OPT_IN);
    const pod = a.admit('quiet');
    await time.advance(1000);
    expect(pod.done).toBe(true);
    expect(pod.outcome?.result).toBe('patched');
    expect(runAsUserOf(pod.outcome)).toBe(Number(cluster.namespace('quiet').annotations[UID_RANGE]!.split('-')[0]));
    await a.allocation.stop();
  });

  it('turning spec.allocation off releases the Lease; turning it on again campaigns anew', async () => {
    const time = new FakeTime();
    const cluster = new WatchedCluster();
    const leases = new MemoryLeaseStore();
    const policies = new PolicyFeedFake();
    const a = replica('replica-a', cluster, leases, time, policies);
    policies.load(compile(false));
    await time.advance(5000);
    expect(leases.current()).toBeNull();
    expect(a.runs()).toBe(0);

    policies.load(compile(true));
    await time.advance(100);
    expect(leases.current()?.record.holderIdentity).toBe('replica-a');
    expect(await a.registry.getSingleMetricAsString('secure_defaults_allocation_leader')).toMatch(/ 1$/m);

    policies.load(compile(false));
    await time.advance(100);
    expect(leases.current()?.record.holderIdentity).toBe('');
    expect(await a.registry.getSingleMetricAsString('secure_defaults_allocation_leader')).toMatch(/ 0$/m);
    // Without allocation a Pod is not held: the namespace gets spec.fallback.
    cluster.addNamespace('later', OPT_IN);
    const pod = a.admit('later');
    await flushMicrotasks();
    expect(runAsUserOf(pod.outcome)).toBe(100000);

    policies.load(compile(true));
    await time.advance(100);
    expect(a.runs()).toBe(2);
    expect(leases.current()?.record.holderIdentity).toBe('replica-a');
    await time.advance(1000);
    expect(cluster.namespace('later').annotations[UID_RANGE]).toBeDefined();

    await a.allocation.stop();
    expect(leases.current()?.record.holderIdentity).toBe('');
  });
});
