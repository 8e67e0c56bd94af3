// The allocator's ports over @kubernetes/client-node: namespaces, the ledger ConfigMap, Events,
// and the election Lease. Only translation lives here (HTTP 409/404 to results, MicroTime text);
// every decision is in the pure modules.
import { ApiException, CoordinationV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Lease, type V1Namespace } from '@kubernetes/client-node';
import type { AllocationCluster, ClusterNamespace, NamespaceEvent, StoredLedger, WriteResult } from '../allocation/allocation-cluster.js';
import type { LeaseRecord, LeaseStore, StoredLease } from '../allocation/leader-election.js';
import { DEFAULT_LEASE_NAME, DEFAULT_LEDGER_NAME } from '../allocation/allocation-object-names.js';

const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'secure-defaults' };
const EVENT_SOURCE = 'secure-defaults-allocator';
export const CLUSTER_SCOPED_EVENT_NAMESPACE = 'default';

export function httpStatusOf(error: unknown): number | null {
  if (error instanceof ApiException) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : null;
}

async function conflictAware(write: () => Promise<unknown>): Promise<WriteResult> {
  try {
    await write();
    return 'ok';
  } catch (error) {
    if (httpStatusOf(error) === 409) return 'conflict';
    throw error;
  }
}

export function toClusterNamespace(ns: V1Namespace): ClusterNamespace {
  return {
    name: ns.metadata?.name ?? '',
    uid: ns.metadata?.uid ?? '',
    resourceVersion: ns.metadata?.resourceVersion ?? '',
    labels: ns.metadata?.labels ?? {},
    annotations: ns.metadata?.annotations ?? {},
    terminating: ns.metadata?.deletionTimestamp !== undefined && ns.metadata.deletionTimestamp !== null,
    createdAt: ns.metadata?.creationTimestamp ? new Date(ns.metadata.creationTimestamp).getTime() : null,
  };
}

export interface KubeAllocationClusterOptions {
  /** The webhook's own namespace, where the ledger ConfigMap lives. */
  readonly namespace: string;
  readonly ledgerName?: string;
  /** Identity written on Events (reportingInstance): the Pod name. */
  readonly instance: string;
}

export class KubeAllocationCluster implements AllocationCluster {
  private readonly core: CoreV1Api;
  private readonly ledgerName: string;

  constructor(
    kubeConfig: KubeConfig,
    private readonly options: KubeAllocationClusterOptions,
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.ledgerName = options.ledgerName ?? DEFAULT_LEDGER_NAME;
  }

  async listNamespaces(): Promise<ClusterNamespace[]> {
    const list = await this.core.listNamespace();
    return list.items.map(toClusterNamespace);
  }

  async readLedger(): Promise<StoredLedger | null> {
    try {
      const cm = await this.core.readNamespacedConfigMap({ name: this.ledgerName, namespace: this.options.namespace });
      return { data: cm.data ?? {}, resourceVersion: cm.metadata?.resourceVersion ?? '' };
    } catch (error) {
      if (httpStatusOf(error) === 404) return null;
      throw error;
    }
  }

  createLedger(data: Readonly<Record<string, string>>): Promise<WriteResult> {
    return conflictAware(() =>
      this.core.createNamespacedConfigMap({
        namespace: this.options.namespace,
        body: { metadata: { name: this.ledgerName, namespace: this.options.namespace, labels: MANAGED_BY }, data: { ...data } },
      }),
    );
  }

  replaceLedger(data: Readonly<Record<string, string>>, resourceVersion: string): Promise<WriteResult> {
    return conflictAware(() =>
      this.core.replaceNamespacedConfigMap({
        name: this.ledgerName,
        namespace: this.options.namespace,
        body: { metadata: { name: this.ledgerName, namespace: this.options.namespace, labels: MANAGED_BY, resourceVersion }, data: { ...data } },
      }),
    );
  }

  async annotateNamespace(name: string, resourceVersion: string, annotations: Readonly<Record<string, string>>): Promise<WriteResult | 'gone'> {
    try {
      // resourceVersion in a merge patch is a precondition: the API server answers 409 if the
      // namespace changed since we listed it, so an admin's concurrent edit is never overwritten.
      await this.core.patchNamespace(
        { name, body: { metadata: { resourceVersion, annotations: { ...annotations } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      return 'ok';
    } catch (error) {
      const status = httpStatusOf(error);
      if (status === 409) return 'conflict';
      if (status === 404) return 'gone';
      throw error;
    }
  }

  async recordNamespaceEvent(namespace: Pick<ClusterNamespace, 'name' | 'uid'>, event: NamespaceEvent): Promise<void> {
    const now = new Date();
    // A Namespace is cluster-scoped: the API server accepts its Events only in "default" (with an
    // empty involvedObject.namespace), which is also where `kubectl describe namespace` finds them.
    await this.core.createNamespacedEvent({
      namespace: CLUSTER_SCOPED_EVENT_NAMESPACE,
      body: {
        metadata: { generateName: `${namespace.name}.`, namespace: CLUSTER_SCOPED_EVENT_NAMESPACE },
        involvedObject: { apiVersion: 'v1', kind: 'Namespace', name: namespace.name, uid: namespace.uid },
        type: event.type,
        reason: event.reason,
        message: event.message,
        // core/v1 Events that set reportingComponent must also carry action and eventTime
        // (events.k8s.io style); source.host names the replica the way kubelet's events do.
        source: { component: EVENT_SOURCE, host: this.options.instance },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  }
}

/**
 * Lease times are MicroTime, which the API server parses with exactly six fractional digits;
 * client-node passes our value through untouched, and Date#toISOString has three.
 */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function readTime(value: unknown): number | null {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}

export class KubeLeaseStore implements LeaseStore {
  private readonly coordination: CoordinationV1Api;

  constructor(
    kubeConfig: KubeConfig,
    private readonly namespace: string,
    private readonly name: string = DEFAULT_LEASE_NAME,
  ) {
    this.coordination = kubeConfig.makeApiClient(CoordinationV1Api);
  }

  async get(): Promise<StoredLease | null> {
    try {
      const lease = await this.coordination.readNamespacedLease({ name: this.name, namespace: this.namespace });
      const spec = lease.spec ?? {};
      return {
        resourceVersion: lease.metadata?.resourceVersion ?? '',
        record: {
          holderIdentity: spec.holderIdentity ?? '',
          leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
          acquireTime: readTime(spec.acquireTime),
          renewTime: readTime(spec.renewTime),
          leaseTransitions: spec.leaseTransitions ?? 0,
        },
      };
    } catch (error) {
      if (httpStatusOf(error) === 404) return null;
      throw error;
    }
  }

  create(record: LeaseRecord): Promise<'ok' | 'conflict'> {
    return conflictAware(() => this.coordination.createNamespacedLease({ namespace: this.namespace, body: this.toLease(record, undefined) }));
  }

  update(record: LeaseRecord, resourceVersion: string): Promise<'ok' | 'conflict'> {
    return conflictAware(() =>
      this.coordination.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body: this.toLease(record, resourceVersion) }),
    );
  }

  private toLease(record: LeaseRecord, resourceVersion: string | undefined): V1Lease {
    const time = (ms: number | null): Date | undefined => (ms === null ? undefined : (formatMicroTime(ms) as unknown as Date));
    return {
      metadata: { name: this.name, namespace: this.namespace, labels: MANAGED_BY, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
      spec: {
        holderIdentity: record.holderIdentity,
        leaseDurationSeconds: record.leaseDurationSeconds,
        acquireTime: time(record.acquireTime),
        renewTime: time(record.renewTime),
        leaseTransitions: record.leaseTransitions,
      },
    };
  }
}
