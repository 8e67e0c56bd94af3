import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { ClusterNamespace } from '../../src/allocation/allocation-cluster.js';
import { planLedgerRepair } from '../../src/allocation/ledger-repair.js';
import { decodeLedger, encodeLedger, findOverlappingPairs, LEDGER_FORMAT, type LedgerEntry } from '../../src/allocation/ledger.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const pool = { pool: { min: 1000, max: 1999 }, blockSize: 100 };
const ns = (name: string, range?: string): ClusterNamespace => ({
  name,
  uid: `uid-${name}`,
  resourceVersion: '1',
  labels: {},
  annotations: range === undefined ? {} : { 'secure-defaults.io/uid-range': range },
  terminating: false,
});
const entry = (min: number, max: number, name: string, deletedAt: number | null = null): LedgerEntry => ({ range: { min, max }, namespace: name, namespaceUid: `uid-${name}`, deletedAt });

describe('planLedgerRepair', () => {
  it('rebuilds a lost ledger from the annotations', () => {
    const result = planLedgerRepair({ namespaces: [ns('b', '1100-1199'), ns('a', '1000-1099'), ns('plain')], previous: null, pool, now: NOW });
    expect(result.ledger.entries).toEqual([entry(1000, 1099, 'a'), entry(1100, 1199, 'b')]);
    expect(result.findings).toEqual([]);
  });

  it('reports overlapping annotations, keeping the one the old ledger confirms', () => {
    const previous = decodeLedger(encodeLedger({ entries: [entry(1100, 1199, 'z')] }));
    const result = planLedgerRepair({ namespaces: [ns('a', '1150-1249'), ns('z', '1100-1199')], previous, pool, now: NOW });
    expect(result.ledger.entries).toEqual([entry(1100, 1199, 'z')]);
    expect(result.findings).toEqual([
      { kind: 'overlap', conflict: true, namespace: 'a', message: expect.stringMatching(/"1150-1249" overlaps 1100-1199 of namespace z; give a another range/) },
    ]);
  });

  it('without a ledger to confirm either, keeps the first by name', () => {
    const result = planLedgerRepair({ namespaces: [ns('b', '1000-1099'), ns('a', '1050-1149')], previous: null, pool, now: NOW });
    expect(result.ledger.entries.map((e) => e.namespace)).toEqual(['a']);
    expect(result.findings.filter((f) => f.conflict).map((f) => [f.kind, f.namespace])).toEqual([['overlap', 'b']]);
  });

  it.each([
    ['not a range', 'abc', 'invalid-annotation', true],
    ['outside the pool', '5000-5099', 'outside-pool', false],
    ['partly outside the pool', '1950-2049', 'outside-pool', false],
    ['unaligned', '1010-1109', 'unaligned', false],
  ])('reports an annotation %s', (_name, range, kind, conflict) => {
    const result = planLedgerRepair({ namespaces: [ns('a', range)], previous: null, pool, now: NOW });
    expect(result.findings).toEqual([expect.objectContaining({ kind, conflict, namespace: 'a' })]);
  });

  it('salvages a damaged ledger: keeps deleted namespaces reserved and blocks whose annotation was never written', () => {
    const previous = decodeLedger({
      format: LEDGER_FORMAT,
      blocks: `1000-1099 gone uid-gone deleted=2026-01-01T00:00:00.000Z\ngarbage line\n1100-1199 pending uid-pending\n1200-1299 vanished uid-vanished\n`,
    });
    expect(previous.ok).toBe(false);
    const result = planLedgerRepair({ namespaces: [ns('pending'), ns('a', '1300-1399')], previous, pool, now: NOW });
    expect(result.ledger.entries).toEqual([
      entry(1000, 1099, 'gone', Date.parse('2026-01-01T00:00:00.000Z')),
      entry(1100, 1199, 'pending'),
      entry(1200, 1299, 'vanished', NOW),
      entry(1300, 1399, 'a'),
    ]);
    expect(result.findings).toEqual([{ kind: 'ledger-damage', conflict: false, message: expect.stringContaining('line 2: expected') }]);
  });

  it('drops an old entry an annotation now claims, and says so', () => {
    const previous = decodeLedger(encodeLedger({ entries: [entry(1000, 1099, 'gone', NOW - 1)] }));
    const result = planLedgerRepair({ namespaces: [ns('a', '1000-1099')], previous, pool, now: NOW });
    expect(result.ledger.entries).toEqual([entry(1000, 1099, 'a')]);
    expect(result.findings).toEqual([expect.objectContaining({ kind: 'dropped-entry', namespace: 'gone' })]);
  });

  it('always produces a ledger that reads back, whatever the annotations and old entries', () => {
    const rangeText = fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 300 })).map(([a, l]) => `${a}-${a + l}`);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z]{1,6}$/), fc.option(rangeText, { nil: undefined })), { selector: (t) => t[0], maxLength: 20 }),
        fc.array(fc.tuple(fc.stringMatching(/^[a-z]{1,6}$/), rangeText, fc.boolean()), { maxLength: 20 }),
        (namespaces, oldLines) => {
          const blocks = oldLines.map(([name, range, deleted]) => `${range} ${name} uid-${name}${deleted ? ' deleted=2026-01-01T00:00:00Z' : ''}`).join('\n');
          const previous = decodeLedger({ format: LEDGER_FORMAT, blocks });
          const result = planLedgerRepair({ namespaces: namespaces.map(([name, range]) => ns(name, range)), previous, pool, now: NOW });
          expect(findOverlappingPairs(result.ledger.entries)).toEqual([]);
          expect(decodeLedger(encodeLedger(result.ledger)).ok).toBe(true);
        },
      ),
    );
  });
});

describe('planLedgerRepair tie-break', () => {
  it('lets the older namespace keep a clashing range when no ledger confirms either', () => {
    const older = { ...ns('zeta', '1000-1099'), createdAt: 1 };
    const newer = { ...ns('alpha', '1050-1060'), createdAt: 2 };
    const result = planLedgerRepair({ namespaces: [newer, older], previous: null, pool, now: NOW });
    expect(result.ledger.entries.map((e) => e.namespace)).toEqual(['zeta']);
    expect(result.findings.filter((f) => f.conflict).map((f) => f.namespace)).toEqual(['alpha']);
  });
});
