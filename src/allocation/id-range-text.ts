// The text form of an ID block as it appears in namespace annotations and in the ledger:
// "1000010000-1000019999", both ends inclusive.
import { formatIdRange, idRangesOverlap, parseIdRange } from '../engine/id-range.js';
import type { IdRange } from '../engine/model.js';

export { formatIdRange };

export type IdRangeParse = { readonly ok: true; readonly range: IdRange } | { readonly ok: false; readonly message: string };

/**
 * The engine's own reading of a range, so that the allocator and the hardening engine never
 * disagree about an annotation (a block the engine would ignore must not count as allocated).
 */
export function parseIdRangeText(text: string): IdRangeParse {
  const parsed = parseIdRange(text);
  return parsed.ok ? parsed : { ok: false, message: parsed.reason };
}

export function rangeSize(range: IdRange): number {
  return range.max - range.min + 1;
}

export const rangesOverlap = idRangesOverlap;

export function rangeContains(outer: IdRange, inner: IdRange): boolean {
  return outer.min <= inner.min && inner.max <= outer.max;
}

export function sameRange(a: IdRange, b: IdRange): boolean {
  return a.min === b.min && a.max === b.max;
}

/** What is left of `from` once `cut` is taken out: zero, one or two ranges. */
export function subtractRange(from: IdRange, cut: IdRange): IdRange[] {
  if (!rangesOverlap(from, cut)) return [from];
  const pieces: IdRange[] = [];
  if (from.min < cut.min) pieces.push({ min: from.min, max: cut.min - 1 });
  if (from.max > cut.max) pieces.push({ min: cut.max + 1, max: from.max });
  return pieces;
}
