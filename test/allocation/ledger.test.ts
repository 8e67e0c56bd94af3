import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  CONFIGMAP_DATA_LIMIT_BYTES,
  decodeLedger,
  encodeLedger,
  encodedSizeBytes,
  LEDGER_FORMAT,
  type LedgerEntry,
} from '../../src/allocation/ledger.js';

const uid = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const entry = (min: number, max: number, namespace: string, n: number, deletedAt: number | null = null): LedgerEntry => ({
  range: { min, max },
  namespace,
  namespaceUid: uid(n),
  deletedAt,
});

describe('ledger text form', () => {
  it('writes one sorted line per block and reads it back', () => {
    const ledger = {
      entries: [entry(2000, 2999, 'team-b', 2, Date.parse('2026-01-02T03:04:05.000Z')), entry(1000, 1999, 'team-a', 1)],
    };
    const data = encodeLedger(ledger);
    expect(data).toEqual({
      format: LEDGER_FORMAT,
      blocks: `1000-1999 team-a ${uid(1)}\n2000-2999 team-b ${uid(2)} deleted=2026-01-02T03:04:05.000Z\n`,
    });
    expect(decodeLedger(data)).toEqual({ ok: true, ledger: { entries: [ledger.entries[1], ledger.entries[0]] } });
  });

  it('reads an empty ledger', () => {
    expect(decodeLedger(encodeLedger({ entries: [] }))).toEqual({ ok: true, ledger: { entries: [] } });
  });

  it.each([
    ['no data at all', undefined, [/format is missing/, /blocks is missing/]],
    ['a newer format', { format: 'secure-defaults.io/uid-ledger/v9', blocks: '' }, [/reads only "secure-defaults.io\/uid-ledger\/v1"/]],
    ['a line with a bad range', { format: LEDGER_FORMAT, blocks: `20-10 a ${uid(1)}\n` }, [/line 1: .*"20-10": min is greater than max/]],
    ['a line with too few fields', { format: LEDGER_FORMAT, blocks: `\n10-20 a\n` }, [/line 2: expected "MIN-MAX NAMESPACE/]],
    ['a bad namespace name', { format: LEDGER_FORMAT, blocks: `10-20 Team_A ${uid(1)}` }, [/"Team_A" is not a namespace name/]],
    ['a bad deletion time', { format: LEDGER_FORMAT, blocks: `10-20 a ${uid(1)} deleted=yesterday` }, [/deleted=.*RFC 3339/]],
    [
      'overlapping blocks',
      { format: LEDGER_FORMAT, blocks: `10-20 a ${uid(1)}\n15-30 b ${uid(2)}\n` },
      [/blocks overlap: 10-20 \(a\) and 15-30 \(b\)/],
    ],
    [
      'one namespace holding two live blocks',
      { format: LEDGER_FORMAT, blocks: `10-20 a ${uid(1)}\n30-40 a ${uid(1)}\n` },
      [/namespace a .* holds two live blocks, 10-20 and 30-40/],
    ],
  ])('refuses a ledger with %s, saying what is wrong', (_name, data, messages) => {
    const result = decodeLedger(data);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.errors.map((e) => (e.line > 0 ? `line ${e.line}: ${e.message}` : e.message)).join('\n');
    for (const message of messages) expect(text).toMatch(message);
  });

  it('salvages the lines that parse from a damaged ledger', () => {
    const result = decodeLedger({ format: LEDGER_FORMAT, blocks: `10-20 a ${uid(1)}\ngarbage\n30-40 b ${uid(2)}\n` });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.salvaged.map((e) => e.namespace)).toEqual(['a', 'b']);
  });

  it('round-trips any valid ledger', () => {
    const entriesArb = fc
      .uniqueArray(fc.integer({ min: 1, max: 100_000 }), { maxLength: 40 })
      .chain((starts) =>
        fc.tuple(
          fc.constant(starts.sort((a, b) => a - b)),
          fc.array(fc.option(fc.integer({ min: 0, max: 4_000_000_000_000 }), { nil: null }), {
            minLength: starts.length,
            maxLength: starts.length,
          }),
        ),
      )
      .map(([starts, deleted]) => starts.map((min, i) => entry(min * 10, min * 10 + 9, `ns-${i}`, i, deleted[i] ?? null)));
    fc.assert(
      fc.property(entriesArb, (entries) => {
        expect(decodeLedger(encodeLedger({ entries }))).toEqual({ ok: true, ledger: { entries } });
      }),
    );
  });

  it('fits 6,500 worst-case entries (63-character names, deleted) in one ConfigMap', () => {
    const longName = (i: number): string => `n${String(i).padStart(6, '0')}`.padEnd(63, 'x');
    const entries = Array.from({ length: 6_500 }, (_, i) =>
      entry(1_000_000_000 + i * 10_000, 1_000_000_000 + i * 10_000 + 9_999, longName(i), i, Date.parse('2026-01-02T03:04:05.000Z')),
    );
    expect(encodedSizeBytes(encodeLedger({ entries }))).toBeLessThan(CONFIGMAP_DATA_LIMIT_BYTES);
  });
});
