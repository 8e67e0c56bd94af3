// Prometheus metrics of the UID block allocator, registered on a Registry the caller owns.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ProblemReason } from './allocation-plan.js';

export interface AllocatorMetrics {
  readonly blocksAllocated: Counter<string>;
  readonly blocksAdopted: Counter<string>;
  readonly blocksReleased: Counter<string>;
  readonly problems: Counter<'reason'>;
  readonly ledgerConflicts: Counter<string>;
  readonly passes: Counter<'outcome'>;
  readonly blocksLive: Gauge<string>;
  readonly blocksQuarantined: Gauge<string>;
  readonly poolFreeBlocks: Gauge<string>;
  readonly ledgerCorrupt: Gauge<string>;
  readonly ledgerBytes: Gauge<string>;
  readonly leader: Gauge<string>;
}

export const PROBLEM_REASONS: readonly ProblemReason[] = ['UidPoolExhausted', 'UidRangeCollision', 'UidRangeInvalid'];

export function createAllocatorMetrics(registry: Registry): AllocatorMetrics {
  const registers = [registry];
  const problems = new Counter({
    name: 'secure_defaults_allocation_problems_total',
    help: 'Namespaces left without a usable block in a pass, by reason (UidPoolExhausted, UidRangeCollision, UidRangeInvalid)',
    labelNames: ['reason'] as const,
    registers,
  });
  for (const reason of PROBLEM_REASONS) problems.inc({ reason }, 0);
  return {
    blocksAllocated: new Counter({ name: 'secure_defaults_allocation_blocks_allocated_total', help: 'UID blocks handed out to namespaces', registers }),
    blocksAdopted: new Counter({ name: 'secure_defaults_allocation_blocks_adopted_total', help: 'Hand-set uid-range annotations taken into the ledger', registers }),
    blocksReleased: new Counter({ name: 'secure_defaults_allocation_blocks_released_total', help: 'Blocks of deleted namespaces freed after their quarantine', registers }),
    problems,
    ledgerConflicts: new Counter({ name: 'secure_defaults_allocation_ledger_conflicts_total', help: 'Ledger writes refused with 409 Conflict and retried', registers }),
    passes: new Counter({ name: 'secure_defaults_allocation_passes_total', help: 'Allocation passes, by outcome', labelNames: ['outcome'] as const, registers }),
    blocksLive: new Gauge({ name: 'secure_defaults_allocation_blocks_live', help: 'Blocks held by existing namespaces', registers }),
    blocksQuarantined: new Gauge({ name: 'secure_defaults_allocation_blocks_quarantined', help: 'Blocks of deleted namespaces still reserved', registers }),
    poolFreeBlocks: new Gauge({ name: 'secure_defaults_allocation_pool_free_blocks', help: 'Whole blocks left free in spec.allocation.range', registers }),
    ledgerCorrupt: new Gauge({ name: 'secure_defaults_allocation_ledger_corrupt', help: '1 while the ledger cannot be read and allocation is stopped; run `secure-defaults allocations repair`', registers }),
    ledgerBytes: new Gauge({ name: 'secure_defaults_allocation_ledger_bytes', help: 'Size of the ledger ConfigMap data (the API server limit is 1 MiB)', registers }),
    leader: new Gauge({ name: 'secure_defaults_allocation_leader', help: '1 while this replica holds the allocator lease', registers }),
  };
}
