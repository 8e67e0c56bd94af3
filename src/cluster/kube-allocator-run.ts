// Builds the allocator the webhook runs in-process: an AllocatorService over the API server (its
// Lease and ledger in the webhook's own namespace), fed by the webhook's namespace cache instead
// of a second namespace watch, reading the policy in force at each pass.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { CompiledPolicy } from '../engine/model.js';
import type { Logger } from '../foundation/logger.js';
import { createAllocatorMetrics, type AllocatorMetrics } from '../allocation/allocator-metrics.js';
import { allocatorPolicyFrom, type AllocatorPolicy } from '../allocation/allocator-policy.js';
import { AllocatorService, type NamespaceChangeFeed } from '../allocation/allocator-service.js';
import { KubeAllocationCluster, KubeLeaseStore } from './kube-allocation-cluster.js';
import { realSleep, type WallClock } from '../foundation/clock.js';
import { NamespaceBlockAllocator } from '../allocation/namespace-block-allocator.js';
import type { NamespaceSource } from '../allocation/namespace-block-waiter.js';
import type { AllocatorRun } from '../allocation/policy-driven-allocator.js';

export interface KubeAllocatorSettings {
  /** Namespace of the ledger ConfigMap and the Lease: the webhook's own. */
  readonly namespace: string;
  readonly ledgerName: string;
  readonly leaseName: string;
  /** Unique per replica: the Pod name. */
  readonly identity: string;
  readonly registry: MetricsRegistry;
  readonly clock: WallClock;
  readonly logger: Logger;
}

/** Namespace change notifications from the namespace cache (every add, update and relist). */
export function namespaceChangesFrom(source: Pick<NamespaceSource, 'subscribe'>): NamespaceChangeFeed {
  return (onChange) => ({ stop: source.subscribe(() => onChange()) });
}

/** The allocator's view of whatever policy is in force, recomputed only when the policy object changes. */
export function currentAllocatorPolicy(current: () => CompiledPolicy | null): () => AllocatorPolicy | null {
  let seen: CompiledPolicy | null = null;
  let view: AllocatorPolicy | null = null;
  return () => {
    const policy = current();
    if (policy !== seen) {
      seen = policy;
      view = policy === null ? null : allocatorPolicyFrom(policy);
    }
    return view;
  };
}

/**
 * A factory of allocator runs over the API server. Metrics are registered once, on the first run,
 * since a registry refuses a second metric of the same name.
 */
export function kubeAllocatorRuns(kubeConfig: KubeConfig, settings: KubeAllocatorSettings) {
  let metrics: AllocatorMetrics | null = null;
  return (policy: () => CompiledPolicy | null, namespaces: Pick<NamespaceSource, 'subscribe'>): AllocatorRun => {
    metrics ??= createAllocatorMetrics(settings.registry);
    const { clock, logger, identity } = settings;
    const allocator = new NamespaceBlockAllocator({
      cluster: new KubeAllocationCluster(kubeConfig, { namespace: settings.namespace, ledgerName: settings.ledgerName, instance: identity }),
      policy: currentAllocatorPolicy(policy),
      clock,
      logger,
      metrics,
    });
    return new AllocatorService({
      identity,
      leaseStore: new KubeLeaseStore(kubeConfig, settings.namespace, settings.leaseName),
      allocator,
      namespaceChanges: namespaceChangesFrom(namespaces),
      clock,
      sleep: realSleep,
      logger,
      metrics,
    });
  };
}

