// The allocation ledger: every ID block ever handed out (or adopted from a hand-set annotation)
// and to which namespace, kept in a ConfigMap so that it outlives any replica. This module is
// the ledger's shape and its text form; it does no I/O.
import type { IdRange } from '../engine/model.js';
import { formatIdRange, parseIdRangeText, rangesOverlap } from './id-range-text.js';

export const LEDGER_FORMAT = 'secure-defaults.io/uid-ledger/v1';
/** ConfigMap data keys. */
export const LEDGER_FORMAT_KEY = 'format';
export const LEDGER_BLOCKS_KEY = 'blocks';
/** The API server refuses a ConfigMap whose data is larger than this (1 MiB). */
export const CONFIGMAP_DATA_LIMIT_BYTES = 1024 * 1024;

export interface LedgerEntry {
  readonly range: IdRange;
  readonly namespace: string;
  /** metadata.uid of the namespace: a namespace deleted and created again under the same name is another namespace. */
  readonly namespaceUid: string;
  /**
   * When the namespace was first seen gone (ms since epoch), or null while it exists. The block
   * stays reserved after that: files on persistent volumes may still carry its IDs.
   */
  readonly deletedAt: number | null;
}

export interface Ledger {
  /** Sorted by range.min; no two ranges overlap. */
  readonly entries: readonly LedgerEntry[];
}

export const EMPTY_LEDGER: Ledger = { entries: [] };

export interface LedgerLineError {
  /** 1-based line of the `blocks` text, or 0 for the ConfigMap as a whole. */
  readonly line: number;
  readonly message: string;
}

export type LedgerDecode =
  | { readonly ok: true; readonly ledger: Ledger }
  | {
      readonly ok: false;
      readonly errors: readonly LedgerLineError[];
      /** The lines that did parse, for `allocations repair` to keep what it can. */
      readonly salvaged: readonly LedgerEntry[];
    };

const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const UID_TEXT = /^[A-Za-z0-9-]{1,64}$/;
const DELETED_PREFIX = 'deleted=';

function compareEntries(a: LedgerEntry, b: LedgerEntry): number {
  return a.range.min - b.range.min || a.range.max - b.range.max;
}

export function sortEntries(entries: readonly LedgerEntry[]): LedgerEntry[] {
  return [...entries].sort(compareEntries);
}

/** One line per block, e.g. `1000010000-1000019999 team-a 6a1f…-uid deleted=2026-01-02T03:04:05.000Z`. */
export function encodeLedger(ledger: Ledger): Record<string, string> {
  const lines = sortEntries(ledger.entries).map((entry) => {
    const base = `${formatIdRange(entry.range)} ${entry.namespace} ${entry.namespaceUid}`;
    return entry.deletedAt === null ? base : `${base} ${DELETED_PREFIX}${new Date(entry.deletedAt).toISOString()}`;
  });
  return { [LEDGER_FORMAT_KEY]: LEDGER_FORMAT, [LEDGER_BLOCKS_KEY]: lines.length === 0 ? '' : `${lines.join('\n')}\n` };
}

export function encodedSizeBytes(data: Readonly<Record<string, string>>): number {
  let size = 0;
  for (const [key, value] of Object.entries(data)) size += Buffer.byteLength(key) + Buffer.byteLength(value);
  return size;
}

function parseLine(text: string, line: number): LedgerEntry | LedgerLineError {
  const fields = text.trim().split(/\s+/);
  if (fields.length < 3 || fields.length > 4) {
    return { line, message: `expected "MIN-MAX NAMESPACE NAMESPACE-UID [deleted=TIME]", got "${text}"` };
  }
  const [rangeText = '', namespace = '', namespaceUid = '', deletedText] = fields;
  const range = parseIdRangeText(rangeText);
  if (!range.ok) return { line, message: range.message };
  if (!NAMESPACE_NAME.test(namespace)) return { line, message: `"${namespace}" is not a namespace name` };
  if (!UID_TEXT.test(namespaceUid)) return { line, message: `"${namespaceUid}" is not a namespace uid` };
  let deletedAt: number | null = null;
  if (deletedText !== undefined) {
    const when = deletedText.startsWith(DELETED_PREFIX) ? Date.parse(deletedText.slice(DELETED_PREFIX.length)) : NaN;
    if (Number.isNaN(when)) {
      return { line, message: `"${deletedText}" should be "deleted=" followed by an RFC 3339 time` };
    }
    deletedAt = when;
  }
  return { range: range.range, namespace, namespaceUid, deletedAt };
}

/**
 * Reads a ledger ConfigMap's data. Any damage (unknown format, a line that does not parse, two
 * blocks that overlap, one namespace holding two live blocks) makes the whole ledger unusable:
 * allocating from a ledger we cannot trust could hand out a block twice.
 */
export function decodeLedger(data: Readonly<Record<string, string>> | undefined): LedgerDecode {
  const errors: LedgerLineError[] = [];
  const format = data?.[LEDGER_FORMAT_KEY];
  if (format !== LEDGER_FORMAT) {
    errors.push({
      line: 0,
      message:
        format === undefined
          ? `data.${LEDGER_FORMAT_KEY} is missing; expected "${LEDGER_FORMAT}"`
          : `data.${LEDGER_FORMAT_KEY} is "${format}"; this version reads only "${LEDGER_FORMAT}"`,
    });
  }
  const blocks = data?.[LEDGER_BLOCKS_KEY];
  if (blocks === undefined) errors.push({ line: 0, message: `data.${LEDGER_BLOCKS_KEY} is missing` });
  const parsed: LedgerEntry[] = [];
  (blocks ?? '').split('\n').forEach((text, index) => {
    if (text.trim() === '') return;
    const result = parseLine(text, index + 1);
    if ('message' in result) errors.push(result);
    else parsed.push(result);
  });
  const salvaged = sortEntries(parsed);
  const liveOwners = new Map<string, LedgerEntry>();
  for (const entry of salvaged) {
    if (entry.deletedAt !== null) continue;
    const other = liveOwners.get(entry.namespaceUid);
    if (other) {
      errors.push({
        line: 0,
        message: `namespace ${entry.namespace} (uid ${entry.namespaceUid}) holds two live blocks, ${formatIdRange(other.range)} and ${formatIdRange(entry.range)}`,
      });
    }
    liveOwners.set(entry.namespaceUid, entry);
  }
  for (const [a, b] of findOverlappingPairs(salvaged)) {
    errors.push({
      line: 0,
      message: `blocks overlap: ${formatIdRange(a.range)} (${a.namespace}) and ${formatIdRange(b.range)} (${b.namespace})`,
    });
  }
  return errors.length === 0 ? { ok: true, ledger: { entries: salvaged } } : { ok: false, errors, salvaged };
}

/** Every overlapping pair among ranges sorted by min (a sweep, so thousands of entries stay cheap). */
export function findOverlappingPairs<T extends { readonly range: IdRange }>(sortedByMin: readonly T[]): Array<[T, T]> {
  const pairs: Array<[T, T]> = [];
  const open: T[] = [];
  for (const item of sortedByMin) {
    for (let i = open.length - 1; i >= 0; i--) {
      if ((open[i] as T).range.max < item.range.min) open.splice(i, 1);
    }
    for (const earlier of open) {
      if (rangesOverlap(earlier.range, item.range)) pairs.push([earlier, item]);
    }
    open.push(item);
  }
  return pairs;
}

export function describeLedgerErrors(errors: readonly LedgerLineError[]): string {
  return errors.map((e) => (e.line > 0 ? `line ${e.line}: ${e.message}` : e.message)).join('; ');
}
