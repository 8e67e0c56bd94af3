// Namespaces, the ledger ConfigMap and Events in memory, with the API server's optimistic
// concurrency: every write names the resourceVersion it read, or it is a 409 conflict.
import type { AllocationCluster, ClusterNamespace, NamespaceEvent, StoredLedger, WriteResult } from '../../../src/allocation/allocation-cluster.js';

export interface RecordedEvent extends NamespaceEvent {
  readonly namespace: string;
}

export class MemoryCluster implements AllocationCluster {
  private version = 0;
  private readonly namespaces = new Map<string, ClusterNamespace>();
  private ledger: StoredLedger | null = null;
  readonly events: RecordedEvent[] = [];
  /** Runs before each ledger write is judged, to let a test slip in a competing write. */
  beforeLedgerWrite: (() => void) | null = null;
  /** Makes annotateNamespace fail as a dropped connection would. */
  failAnnotations = false;

  private nextVersion(): string {
    this.version += 1;
    return String(this.version);
  }

  addNamespace(name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): ClusterNamespace {
    const ns: ClusterNamespace = { name, uid: `uid-${name}-${this.version}`, resourceVersion: this.nextVersion(), labels, annotations, terminating: false, createdAt: this.version };
    this.namespaces.set(name, ns);
    return ns;
  }

  updateNamespace(name: string, change: (ns: ClusterNamespace) => Partial<ClusterNamespace>): void {
    const ns = this.namespace(name);
    this.namespaces.set(name, { ...ns, ...change(ns), resourceVersion: this.nextVersion() });
  }

  deleteNamespace(name: string): void {
    this.namespaces.delete(name);
  }

  namespace(name: string): ClusterNamespace {
    const ns = this.namespaces.get(name);
    if (!ns) throw new Error(`no namespace ${name}`);
    return ns;
  }

  ledgerData(): Readonly<Record<string, string>> | undefined {
    return this.ledger?.data;
  }

  setLedgerData(data: Record<string, string>): void {
    this.ledger = { data, resourceVersion: this.nextVersion() };
  }

  async listNamespaces(): Promise<ClusterNamespace[]> {
    return [...this.namespaces.values()];
  }

  async readLedger(): Promise<StoredLedger | null> {
    return this.ledger;
  }

  async createLedger(data: Readonly<Record<string, string>>): Promise<WriteResult> {
    this.beforeLedgerWrite?.();
    if (this.ledger !== null) return 'conflict';
    this.ledger = { data: { ...data }, resourceVersion: this.nextVersion() };
    return 'ok';
  }

  async replaceLedger(data: Readonly<Record<string, string>>, resourceVersion: string): Promise<WriteResult> {
    this.beforeLedgerWrite?.();
    if (this.ledger === null || this.ledger.resourceVersion !== resourceVersion) return 'conflict';
    this.ledger = { data: { ...data }, resourceVersion: this.nextVersion() };
    return 'ok';
  }

  async annotateNamespace(name: string, resourceVersion: string, annotations: Readonly<Record<string, string>>): Promise<WriteResult | 'gone'> {
    if (this.failAnnotations) throw new Error('socket hang up');
    const ns = this.namespaces.get(name);
    if (!ns) return 'gone';
    if (ns.resourceVersion !== resourceVersion) return 'conflict';
    this.namespaces.set(name, { ...ns, annotations: { ...ns.annotations, ...annotations }, resourceVersion: this.nextVersion() });
    return 'ok';
  }

  async recordNamespaceEvent(namespace: Pick<ClusterNamespace, 'name' | 'uid'>, event: NamespaceEvent): Promise<void> {
    this.events.push({ namespace: namespace.name, ...event });
  }
}
