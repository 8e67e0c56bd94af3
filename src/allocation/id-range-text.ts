// The text form of an ID block as it appears in namespace annotations and in the ledger:
// "1000010000-1000019999", both ends inclusive.
import type { IdRange } from '../engine/model.js';

/** Largest ID we accept: Linux UIDs/GIDs are unsigned 32-bit and 4294967295 is reserved as "no ID". */
export const MAX_ID = 4294967294;

export type IdRangeParse = { readonly ok: true; readonly range: IdRange } | { readonly ok: false; readonly message: string };

const RANGE_TEXT = /^(\d{1,10})-(\d{1,10})$/;

export function parseIdRangeText(text: string): IdRangeParse {
  const match = RANGE_TEXT.exec(text.trim());
  if (!match) {
    return { ok: false, message: `"${text}" is not a range; write it as "MIN-MAX", e.g. "1000010000-1000019999"` };
  }
  const min = Number(match[1]);
  const max = Number(match[2]);
  if (max > MAX_ID) {
    return { ok: false, message: `"${text}": ${max} is above the largest ID ${MAX_ID}; pick a range below it` };
  }
  if (min > max) {
    return { ok: false, message: `"${text}": min ${min} is greater than max ${max}; swap them` };
  }
  return { ok: true, range: { min, max } };
}

export function formatIdRange(range: IdRange): string {
  return `${range.min}-${range.max}`;
}

export function rangeSize(range: IdRange): number {
  return range.max - range.min + 1;
}

export function rangesOverlap(a: IdRange, b: IdRange): boolean {
  return a.min <= b.max && b.min <= a.max;
}

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
