// One allocation pass against the API server: read every namespace and the ledger, plan, write
// the ledger (compare-and-swap on resourceVersion; a 409 means another writer won, so re-read and
// plan again), then annotate namespaces. Ledger first, annotation second: a crash in between
// leaves a ledger entry without annotation, which the next pass writes.
import { UID_RANGE_ANNOTATION } from '../engine/model.js';
import type { AllocationCluster, ClusterNamespace } from './allocation-cluster.js';
import type { Logger } from '../foundation/logger.js';
import { planAllocations, type AllocationPlan, type AllocationProblem, type ObservedNamespace } from './allocation-plan.js';
import type { AllocatorMetrics } from './allocator-metrics.js';
import type { AllocatorPolicy } from './allocator-policy.js';
import { countFreeBlocks } from './block-pool.js';
import { formatIdRange } from './id-range-text.js';
import {
  CONFIGMAP_DATA_LIMIT_BYTES,
  EMPTY_LEDGER,
  decodeLedger,
  describeLedgerErrors,
  encodeLedger,
  encodedSizeBytes,
  type Ledger,
} from './ledger.js';
import type { WallClock } from '../foundation/clock.js';

export type PassOutcome =
  | { readonly status: 'disabled' }
  | { readonly status: 'ledger-corrupt'; readonly message: string }
  | { readonly status: 'ledger-full'; readonly message: string }
  | { readonly status: 'conflicts'; readonly attempts: number }
  | {
      readonly status: 'done';
      readonly plan: AllocationPlan;
      /** Annotations not written because the namespace changed meanwhile: run another pass soon. */
      readonly annotationConflicts: number;
    };

export interface NamespaceBlockAllocatorOptions {
  readonly cluster: AllocationCluster;
  /** The current policy's allocation view; null when allocation is off. Read at every pass, so policy reloads apply. */
  readonly policy: () => AllocatorPolicy | null;
  readonly clock: WallClock;
  readonly logger: Logger;
  readonly metrics: AllocatorMetrics;
  /** Ledger write attempts per pass before giving up until the next pass. */
  readonly maxLedgerAttempts?: number;
}

export function observeNamespace(policy: AllocatorPolicy, ns: ClusterNamespace): ObservedNamespace {
  const info = { name: ns.name, labels: ns.labels, annotations: ns.annotations };
  return {
    name: ns.name,
    uid: ns.uid,
    wantsBlock: !ns.terminating && policy.wantsBlock(info),
    uidRangeAnnotation: ns.annotations[UID_RANGE_ANNOTATION],
    annotationRejection: policy.annotationRejection(info),
  };
}

export class NamespaceBlockAllocator {
  /** Last problem reported per namespace, so that a standing problem makes one Event, not one per pass. */
  private readonly reported = new Map<string, string>();
  /** The damaged-ledger error last logged: it is logged once, not at every pass, while it lasts. */
  private lastLedgerError: string | null = null;

  constructor(private readonly options: NamespaceBlockAllocatorOptions) {}

  async runPass(): Promise<PassOutcome> {
    const outcome = await this.pass();
    this.options.metrics.passes.inc({ outcome: outcome.status });
    return outcome;
  }

  private async pass(): Promise<PassOutcome> {
    const { cluster, clock, logger, metrics } = this.options;
    const policy = this.options.policy();
    if (policy === null) return { status: 'disabled' };
    const attempts = this.options.maxLedgerAttempts ?? 8;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      // Ledger before namespaces: every namespace a ledger entry names existed when the ledger was
      // read, so a namespace missing from the later list really is gone. The other order could
      // take a namespace another replica allocated for in between for a deleted one.
      const stored = await cluster.readLedger();
      const namespaces = await cluster.listNamespaces();
      let ledger: Ledger = EMPTY_LEDGER;
      if (stored !== null) {
        const decoded = decodeLedger(stored.data);
        if (!decoded.ok) {
          const message = `ledger ConfigMap is damaged, allocation stopped until it is repaired: ${describeLedgerErrors(decoded.errors)}; run \`secure-defaults allocations repair\``;
          metrics.ledgerCorrupt.set(1);
          if (message !== this.lastLedgerError) logger.error(message, { component: 'allocator' });
          this.lastLedgerError = message;
          return { status: 'ledger-corrupt', message };
        }
        ledger = decoded.ledger;
      }
      metrics.ledgerCorrupt.set(0);
      this.lastLedgerError = null;
      const observed = namespaces.map((ns) => observeNamespace(policy, ns));
      const plan = planAllocations({ settings: policy.settings, ledger, namespaces: observed, now: clock.now() });
      if (plan.ledgerChanged) {
        const data = encodeLedger(plan.ledger);
        const size = encodedSizeBytes(data);
        if (size > CONFIGMAP_DATA_LIMIT_BYTES - 4096) {
          const message = `the ledger would grow to ${size} bytes, past the 1 MiB ConfigMap limit; set spec.allocation.releaseAfter so deleted namespaces' blocks are dropped, or run \`secure-defaults allocations repair\` to drop stale entries`;
          logger.error(message, { component: 'allocator' });
          return { status: 'ledger-full', message };
        }
        const written = stored === null ? await cluster.createLedger(data) : await cluster.replaceLedger(data, stored.resourceVersion);
        if (written === 'conflict') {
          metrics.ledgerConflicts.inc();
          logger.info('ledger changed since it was read; reading it again', { component: 'allocator', attempt });
          continue;
        }
        metrics.ledgerBytes.set(size);
      } else if (stored !== null) {
        metrics.ledgerBytes.set(encodedSizeBytes(stored.data));
      }
      this.recordCounts(plan, policy);
      const annotationConflicts = await this.annotate(plan, namespaces);
      await this.report(plan.problems, namespaces);
      return { status: 'done', plan, annotationConflicts };
    }
    logger.warn('gave up writing the ledger after repeated conflicts; the next pass tries again', { component: 'allocator', attempts });
    return { status: 'conflicts', attempts };
  }

  private recordCounts(plan: AllocationPlan, policy: AllocatorPolicy): void {
    const { metrics, logger } = this.options;
    for (const block of plan.allocated) logger.info('allocated UID block', { component: 'allocator', namespace: block.namespace, range: formatIdRange(block.range) });
    for (const block of plan.adopted) logger.info('adopted hand-set UID range', { component: 'allocator', namespace: block.namespace, range: formatIdRange(block.range) });
    for (const block of plan.quarantined) logger.info('namespace gone; its block stays reserved', { component: 'allocator', namespace: block.namespace, range: formatIdRange(block.range) });
    for (const block of plan.released) logger.info('released the block of a deleted namespace after its quarantine', { component: 'allocator', namespace: block.namespace, range: formatIdRange(block.range) });
    metrics.blocksAllocated.inc(plan.allocated.length);
    metrics.blocksAdopted.inc(plan.adopted.length);
    metrics.blocksReleased.inc(plan.released.length);
    const live = plan.ledger.entries.filter((e) => e.deletedAt === null).length;
    metrics.blocksLive.set(live);
    metrics.blocksQuarantined.set(plan.ledger.entries.length - live);
    metrics.poolFreeBlocks.set(countFreeBlocks(policy.settings, plan.ledger.entries.map((e) => e.range)));
  }

  private async annotate(plan: AllocationPlan, namespaces: readonly ClusterNamespace[]): Promise<number> {
    const byName = new Map(namespaces.map((ns) => [ns.name, ns]));
    let conflicts = 0;
    for (const block of plan.annotate) {
      const ns = byName.get(block.namespace);
      if (!ns) continue;
      try {
        const result = await this.options.cluster.annotateNamespace(ns.name, ns.resourceVersion, {
          [UID_RANGE_ANNOTATION]: formatIdRange(block.range),
        });
        if (result === 'conflict') conflicts += 1;
      } catch (error) {
        // The ledger already holds the block; the next pass writes the annotation.
        conflicts += 1;
        this.options.logger.warn('could not annotate namespace; will retry', { component: 'allocator', namespace: ns.name, error: String(error) });
      }
    }
    return conflicts;
  }

  private async report(problems: readonly AllocationProblem[], namespaces: readonly ClusterNamespace[]): Promise<void> {
    const { cluster, logger, metrics } = this.options;
    const byName = new Map(namespaces.map((ns) => [ns.name, ns]));
    const current = new Set<string>();
    for (const problem of problems) {
      current.add(problem.namespace);
      metrics.problems.inc({ reason: problem.reason });
      const key = `${problem.reason}: ${problem.message}`;
      if (this.reported.get(problem.namespace) === key) continue;
      this.reported.set(problem.namespace, key);
      logger.error(`namespace ${problem.namespace}: ${problem.message}`, { component: 'allocator', namespace: problem.namespace, reason: problem.reason });
      const ns = byName.get(problem.namespace);
      if (!ns) continue;
      try {
        await cluster.recordNamespaceEvent(ns, { type: 'Warning', reason: problem.reason, message: problem.message });
      } catch (error) {
        logger.warn('could not record Event on namespace', { component: 'allocator', namespace: ns.name, error: String(error) });
      }
    }
    for (const name of [...this.reported.keys()]) if (!current.has(name)) this.reported.delete(name);
  }
}
