// One reconcile pass of the allocator as a pure function: from the ledger and the complete list of
// namespaces, the next ledger and the annotations to write. The caller writes the ledger first
// (with optimistic concurrency) and only then the annotations, so a crash in between leaves a
// ledger entry without annotation, which the next pass heals.
import type { IdRange } from '../engine/model.js';
import { findFirstFreeBlock, type BlockPool } from './block-pool.js';
import { formatIdRange, parseIdRangeText, rangesOverlap, sameRange, subtractRange } from './id-range-text.js';
import { sortEntries, type Ledger, type LedgerEntry } from './ledger.js';

export interface AllocationPlanSettings extends BlockPool {
  /** Deleted namespaces' blocks become free again this long after deletion; null keeps them forever. */
  readonly releaseAfterMs: number | null;
}

export interface ObservedNamespace {
  readonly name: string;
  readonly uid: string;
  /** Opted in, matched by no `spec.namespaces` rule, and not terminating. */
  readonly wantsBlock: boolean;
  /** The raw `secure-defaults.io/uid-range` annotation, if any. */
  readonly uidRangeAnnotation: string | undefined;
  /** Why the engine ignores that annotation (includes root, overlaps a rule's range…), if it does. */
  readonly annotationRejection?: string | null;
}

export type ProblemReason = 'UidPoolExhausted' | 'UidRangeCollision' | 'UidRangeInvalid';

export interface AllocationProblem {
  readonly namespace: string;
  readonly reason: ProblemReason;
  /** A sentence with the fix, for the namespace's Event and the log. */
  readonly message: string;
}

export interface NamespaceBlock {
  readonly namespace: string;
  readonly range: IdRange;
}

export interface AllocationPlan {
  readonly ledger: Ledger;
  readonly ledgerChanged: boolean;
  /** Annotations to set, each to formatIdRange(range): fresh blocks and healed ones. */
  readonly annotate: readonly NamespaceBlock[];
  readonly allocated: readonly NamespaceBlock[];
  /** Hand-set annotations taken into the ledger. */
  readonly adopted: readonly NamespaceBlock[];
  /** Blocks of namespaces that are gone, now held in quarantine. */
  readonly quarantined: readonly NamespaceBlock[];
  /** Blocks whose quarantine ended, free again. */
  readonly released: readonly NamespaceBlock[];
  readonly problems: readonly AllocationProblem[];
}

export interface AllocationPlanInput {
  readonly settings: AllocationPlanSettings;
  readonly ledger: Ledger;
  /** Every namespace that exists: an entry whose namespace is missing here is treated as deleted. */
  readonly namespaces: readonly ObservedNamespace[];
  readonly now: number;
}

function describeOwners(entries: readonly LedgerEntry[]): string {
  return entries
    .map((e) => `${formatIdRange(e.range)} of ${e.deletedAt === null ? 'namespace' : 'deleted namespace'} ${e.namespace}`)
    .join(', ');
}

export function planAllocations(input: AllocationPlanInput): AllocationPlan {
  const { settings, now } = input;
  const existing = new Map(input.namespaces.map((ns) => [ns.uid, ns]));
  let entries: LedgerEntry[] = [];
  const quarantined: NamespaceBlock[] = [];
  const released: NamespaceBlock[] = [];
  let changed = false;

  for (const entry of input.ledger.entries) {
    if (entry.deletedAt === null && !existing.has(entry.namespaceUid)) {
      entries.push({ ...entry, deletedAt: now });
      quarantined.push({ namespace: entry.namespace, range: entry.range });
      changed = true;
    } else if (entry.deletedAt !== null && settings.releaseAfterMs !== null && entry.deletedAt + settings.releaseAfterMs <= now) {
      released.push({ namespace: entry.namespace, range: entry.range });
      changed = true;
    } else {
      entries.push(entry);
    }
  }

  const liveByUid = new Map<string, LedgerEntry>();
  for (const entry of entries) if (entry.deletedAt === null) liveByUid.set(entry.namespaceUid, entry);

  const annotate: NamespaceBlock[] = [];
  const allocated: NamespaceBlock[] = [];
  const adopted: NamespaceBlock[] = [];
  const problems: AllocationProblem[] = [];

  // An earlier incarnation of the same namespace name may hand its quarantined block back when
  // the namespace is re-created carrying the old annotation (kubectl apply of a saved manifest).
  const blockers = (ns: ObservedNamespace, range: IdRange, except: LedgerEntry | undefined): LedgerEntry[] =>
    entries.filter(
      (e) =>
        e !== except &&
        rangesOverlap(e.range, range) &&
        !(e.deletedAt !== null && e.namespace === ns.name),
    );
  const takeRange = (ns: ObservedNamespace, range: IdRange, previous: LedgerEntry | undefined): void => {
    const next: LedgerEntry[] = [];
    for (const e of entries) {
      const own = e === previous || (e.deletedAt !== null && e.namespace === ns.name);
      if (!own) {
        next.push(e);
        continue;
      }
      // The namespace's old block (or its earlier incarnation's) may still own files on volumes:
      // whatever of it the new range does not cover stays reserved like a deleted namespace's.
      const deletedAt = e.deletedAt ?? now;
      for (const piece of subtractRange(e.range, range)) next.push({ ...e, range: piece, deletedAt });
    }
    const entry: LedgerEntry = { range, namespace: ns.name, namespaceUid: ns.uid, deletedAt: null };
    next.push(entry);
    entries = next;
    liveByUid.set(ns.uid, entry);
    changed = true;
  };

  const wanting = input.namespaces.filter((ns) => ns.wantsBlock).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // Hand-set annotations first, so that a block handed out in this same pass never takes a
  // range an admin has just written.
  const needFreshBlock: ObservedNamespace[] = [];
  for (const ns of wanting) {
    const live = liveByUid.get(ns.uid);
    if (ns.uidRangeAnnotation === undefined) {
      if (live) annotate.push({ namespace: ns.name, range: live.range });
      else needFreshBlock.push(ns);
      continue;
    }
    const parsed = parseIdRangeText(ns.uidRangeAnnotation);
    if (!parsed.ok) {
      problems.push({
        namespace: ns.name,
        reason: 'UidRangeInvalid',
        message: `annotation secure-defaults.io/uid-range: ${parsed.message}; or remove the annotation to get a block allocated`,
      });
      continue;
    }
    if (ns.annotationRejection) {
      problems.push({
        namespace: ns.name,
        reason: 'UidRangeInvalid',
        message: `${ns.annotationRejection}; fix the annotation or remove it to get a block allocated`,
      });
      continue;
    }
    if (live && sameRange(live.range, parsed.range)) continue;
    const conflicts = blockers(ns, parsed.range, live);
    if (conflicts.length > 0) {
      problems.push({
        namespace: ns.name,
        reason: 'UidRangeCollision',
        message: `annotation secure-defaults.io/uid-range "${ns.uidRangeAnnotation}" overlaps ${describeOwners(conflicts)}; set a range that overlaps no other namespace's, or remove the annotation to get a free block`,
      });
      continue;
    }
    takeRange(ns, parsed.range, live);
    adopted.push({ namespace: ns.name, range: parsed.range });
  }

  for (const ns of needFreshBlock) {
    const block = findFirstFreeBlock(settings, entries.map((e) => e.range));
    if (block === null) {
      problems.push({
        namespace: ns.name,
        reason: 'UidPoolExhausted',
        message: `no free block of ${settings.blockSize} IDs is left in the pool ${formatIdRange(settings.pool)} (spec.allocation.range); widen the range, set spec.allocation.releaseAfter to recycle deleted namespaces' blocks, or annotate this namespace with a range by hand`,
      });
      continue;
    }
    takeRange(ns, block, undefined);
    allocated.push({ namespace: ns.name, range: block });
    annotate.push({ namespace: ns.name, range: block });
  }

  return {
    ledger: { entries: sortEntries(entries) },
    ledgerChanged: changed,
    annotate,
    allocated,
    adopted,
    quarantined,
    released,
    problems,
  };
}
