// "MIN-MAX" ID ranges as users write them in policies and namespace annotations.
import type { IdRange } from './model.js';

/** Linux accepts larger IDs, but Kubernetes validates runAsUser/runAsGroup/fsGroup as int32. */
export const MAX_ID = 2147483647;

export type IdRangeParse = { readonly ok: true; readonly range: IdRange } | { readonly ok: false; readonly reason: string };

const RANGE_SYNTAX = /^\s*(\d{1,16})\s*-\s*(\d{1,16})\s*$/;

/** Parses "10000-19999"; the reason of a failure quotes the text and says how to fix it. */
export function parseIdRange(text: string): IdRangeParse {
  const quoted = JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
  const match = RANGE_SYNTAX.exec(text);
  if (match === null) {
    return { ok: false, reason: `${quoted}: expected "MIN-MAX" with whole numbers, e.g. "10000-19999"` };
  }
  const min = Number(match[1]);
  const max = Number(match[2]);
  if (min > max) return { ok: false, reason: `${quoted}: min is greater than max; write the smaller ID first` };
  if (max > MAX_ID) {
    return { ok: false, reason: `${quoted}: ${max} is above the highest ID Kubernetes accepts (${MAX_ID}); lower the range` };
  }
  if (min === 0) return { ok: false, reason: `${quoted}: includes 0 (root); start the range at 1 or above` };
  return { ok: true, range: { min, max } };
}

export function formatIdRange(range: IdRange): string {
  return `${range.min}-${range.max}`;
}

export function idRangesOverlap(a: IdRange, b: IdRange): boolean {
  return a.min <= b.max && b.min <= a.max;
}

export function idRangeContains(range: IdRange, id: number): boolean {
  return id >= range.min && id <= range.max;
}
