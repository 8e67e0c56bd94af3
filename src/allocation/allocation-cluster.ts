// What the allocator needs from the API server, as a port: the real one is
// kube-allocation-cluster.ts, tests use an in-memory one with the same conflict semantics.

export interface ClusterNamespace {
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** metadata.deletionTimestamp is set: the namespace is going away. */
  readonly terminating: boolean;
  /** metadata.creationTimestamp in ms, when known: repair lets the older of two clashing namespaces keep its range. */
  readonly createdAt?: number | null;
}

export interface StoredLedger {
  readonly data: Readonly<Record<string, string>>;
  readonly resourceVersion: string;
}

/** `conflict` is a 409: someone else wrote since we read; re-read and try again. */
export type WriteResult = 'ok' | 'conflict';

export interface NamespaceEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

export interface AllocationCluster {
  listNamespaces(): Promise<ClusterNamespace[]>;
  /** null when the ledger ConfigMap does not exist yet. */
  readLedger(): Promise<StoredLedger | null>;
  createLedger(data: Readonly<Record<string, string>>): Promise<WriteResult>;
  replaceLedger(data: Readonly<Record<string, string>>, resourceVersion: string): Promise<WriteResult>;
  /**
   * Sets the uid-range annotation, only if the namespace is still at `resourceVersion` (so an
   * annotation an admin set meanwhile is never overwritten). `gone` when the namespace was deleted.
   */
  annotateNamespace(name: string, resourceVersion: string, annotations: Readonly<Record<string, string>>): Promise<WriteResult | 'gone'>;
  recordNamespaceEvent(namespace: Pick<ClusterNamespace, 'name' | 'uid'>, event: NamespaceEvent): Promise<void>;
}
