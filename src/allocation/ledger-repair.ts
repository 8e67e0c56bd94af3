// `allocations repair` as a pure function: a new ledger rebuilt from what the namespaces carry
// (their uid-range annotations are what Pods are actually hardened from), keeping whatever of the
// old ledger is still trustworthy, and every conflict an admin must resolve by hand.
import type { IdRange } from '../engine/model.js';
import type { ClusterNamespace } from './allocation-cluster.js';
import { rangeFit, type BlockPool } from './block-pool.js';
import { formatIdRange, parseIdRangeText, rangesOverlap, sameRange } from './id-range-text.js';
import { describeLedgerErrors, sortEntries, type Ledger, type LedgerDecode, type LedgerEntry } from './ledger.js';
import { UID_RANGE_ANNOTATION } from '../engine/model.js';

export type RepairFindingKind =
  /** Two namespaces carry overlapping annotations: the later by name must get a new range. */
  | 'overlap'
  | 'invalid-annotation'
  | 'outside-pool'
  | 'unaligned'
  /** The old ledger could not be read; listed so the admin sees what was wrong with it. */
  | 'ledger-damage'
  /** An old ledger entry dropped because an annotation now claims its IDs. */
  | 'dropped-entry';

export interface RepairFinding {
  readonly kind: RepairFindingKind;
  /** Whether the admin must act; informational findings (unaligned, outside the pool) are not conflicts. */
  readonly conflict: boolean;
  readonly namespace?: string;
  readonly message: string;
}

export interface RepairInput {
  readonly namespaces: readonly ClusterNamespace[];
  /** The old ledger as decoded (null when there was none). */
  readonly previous: LedgerDecode | null;
  /** The policy's pool, when known, to report annotations outside it or unaligned. */
  readonly pool: BlockPool | null;
  readonly now: number;
}

export interface RepairResult {
  readonly ledger: Ledger;
  readonly findings: readonly RepairFinding[];
}

function previousEntries(previous: LedgerDecode | null): readonly LedgerEntry[] {
  if (previous === null) return [];
  return previous.ok ? previous.ledger.entries : previous.salvaged;
}

export function planLedgerRepair(input: RepairInput): RepairResult {
  const findings: RepairFinding[] = [];
  if (input.previous && !input.previous.ok) {
    findings.push({ kind: 'ledger-damage', conflict: false, message: `old ledger: ${describeLedgerErrors(input.previous.errors)}` });
  }
  const old = previousEntries(input.previous);
  const existing = new Map(input.namespaces.map((ns) => [ns.uid, ns]));

  // Annotated namespaces first: the annotation is what the engine hardens Pods from. A namespace
  // whose annotation the old ledger confirms wins an overlap; otherwise the older namespace (it
  // most likely had the range first), then the first by name.
  const confirmed = (ns: ClusterNamespace, range: IdRange): boolean =>
    old.some((e) => e.namespaceUid === ns.uid && e.deletedAt === null && sameRange(e.range, range));
  const annotated: Array<{ ns: ClusterNamespace; range: IdRange }> = [];
  for (const ns of input.namespaces) {
    const text = ns.annotations[UID_RANGE_ANNOTATION];
    if (text === undefined) continue;
    const parsed = parseIdRangeText(text);
    if (!parsed.ok) {
      findings.push({ kind: 'invalid-annotation', conflict: true, namespace: ns.name, message: `${UID_RANGE_ANNOTATION}: ${parsed.message}` });
      continue;
    }
    annotated.push({ ns, range: parsed.range });
  }
  const age = (ns: ClusterNamespace): number => ns.createdAt ?? Number.MAX_SAFE_INTEGER;
  annotated.sort(
    (a, b) =>
      Number(confirmed(b.ns, b.range)) - Number(confirmed(a.ns, a.range)) ||
      age(a.ns) - age(b.ns) ||
      (a.ns.name < b.ns.name ? -1 : a.ns.name > b.ns.name ? 1 : 0),
  );

  const entries: LedgerEntry[] = [];
  for (const { ns, range } of annotated) {
    const clash = entries.find((e) => rangesOverlap(e.range, range));
    if (clash) {
      findings.push({
        kind: 'overlap',
        conflict: true,
        namespace: ns.name,
        message: `${UID_RANGE_ANNOTATION} "${formatIdRange(range)}" overlaps ${formatIdRange(clash.range)} of namespace ${clash.namespace}; give ${ns.name} another range (or remove its annotation and let the allocator pick one), then run repair again`,
      });
      continue;
    }
    entries.push({ range, namespace: ns.name, namespaceUid: ns.uid, deletedAt: null });
    if (input.pool) {
      const fit = rangeFit(input.pool, range);
      if (fit === 'outside-pool' || fit === 'straddles-pool') {
        findings.push({ kind: 'outside-pool', conflict: false, namespace: ns.name, message: `"${formatIdRange(range)}" is ${fit === 'outside-pool' ? 'outside' : 'partly outside'} the pool ${formatIdRange(input.pool.pool)}; kept as set by hand` });
      } else if (fit === 'unaligned') {
        findings.push({ kind: 'unaligned', conflict: false, namespace: ns.name, message: `"${formatIdRange(range)}" is not one of the pool's ${input.pool.blockSize}-ID blocks; kept as set by hand` });
      }
    }
  }

  // Then what the old ledger knew that no annotation says: blocks of deleted namespaces (still
  // reserved) and blocks whose annotation was never written (the allocator will write it).
  for (const entry of old) {
    const ns = existing.get(entry.namespaceUid);
    if (entry.deletedAt === null && ns && ns.annotations[UID_RANGE_ANNOTATION] !== undefined) continue; // superseded by its annotation
    // A gone namespace's block, or a second live block of one namespace, stays reserved as deleted.
    const holdsLive = entries.some((e) => e.deletedAt === null && e.namespaceUid === entry.namespaceUid);
    const kept: LedgerEntry = entry.deletedAt === null && (!ns || holdsLive) ? { ...entry, deletedAt: input.now } : entry;
    const clash = entries.find((e) => rangesOverlap(e.range, kept.range));
    if (clash) {
      findings.push({
        kind: 'dropped-entry',
        conflict: false,
        namespace: entry.namespace,
        message: `old ledger entry ${formatIdRange(entry.range)} of ${entry.deletedAt === null && ns ? '' : 'deleted '}namespace ${entry.namespace} dropped: namespace ${clash.namespace} carries ${formatIdRange(clash.range)}`,
      });
      continue;
    }
    entries.push(kept);
  }
  return { ledger: { entries: sortEntries(entries) }, findings };
}
