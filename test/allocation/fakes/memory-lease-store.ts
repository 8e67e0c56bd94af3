// A Lease kept in memory with the API server's optimistic concurrency: a write must name the
// resourceVersion it read, or it is a conflict.
import type { LeaseRecord, LeaseStore, StoredLease } from '../../../src/allocation/leader-election.js';

export class MemoryLeaseStore {
  private stored: StoredLease | null = null;
  private version = 0;

  current(): StoredLease | null {
    return this.stored;
  }

  /** Sets the lease as another writer (another replica, or an admin) would. */
  put(record: LeaseRecord): void {
    this.version += 1;
    this.stored = { record, resourceVersion: String(this.version) };
  }

  /** A view of the store as one replica sees it; `reachable()` false makes every call fail like a dead network. */
  clientFor(reachable: () => boolean = () => true): LeaseStore {
    const check = (): void => {
      if (!reachable()) throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
    };
    return {
      get: async () => {
        check();
        return this.stored;
      },
      create: async (record) => {
        check();
        if (this.stored !== null) return 'conflict';
        this.put(record);
        return 'ok';
      },
      update: async (record, resourceVersion) => {
        check();
        if (this.stored === null || this.stored.resourceVersion !== resourceVersion) return 'conflict';
        this.put(record);
        return 'ok';
      },
    };
  }
}
