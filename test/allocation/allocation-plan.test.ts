import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { planAllocations, type AllocationPlanSettings, type ObservedNamespace } from '../../src/allocation/allocation-plan.js';
import { rangeContains, rangesOverlap } from '../../src/allocation/id-range-text.js';
import { decodeLedger, encodeLedger, findOverlappingPairs, type Ledger, type LedgerEntry } from '../../src/allocation/ledger.js';

const settings: AllocationPlanSettings = { pool: { min: 1000, max: 1999 }, blockSize: 100, releaseAfterMs: null };
const NOW = Date.parse('2026-06-01T00:00:00Z');
const HOUR = 3_600_000;

const ns = (name: string, annotation?: string, wantsBlock = true): ObservedNamespace => ({
  name,
  uid: `uid-${name}`,
  wantsBlock,
  uidRangeAnnotation: annotation,
});
const live = (min: number, max: number, name: string, uid = `uid-${name}`): LedgerEntry => ({
  range: { min, max },
  namespace: name,
  namespaceUid: uid,
  deletedAt: null,
});
const ledgerOf = (...entries: LedgerEntry[]): Ledger => ({ entries });

describe('planAllocations', () => {
  it('gives each opted-in namespace the next free block, in name order, and annotates it', () => {
    const plan = planAllocations({ settings, ledger: ledgerOf(), namespaces: [ns('b'), ns('a'), ns('skipped', undefined, false)], now: NOW });
    expect(plan.allocated).toEqual([
      { namespace: 'a', range: { min: 1000, max: 1099 } },
      { namespace: 'b', range: { min: 1100, max: 1199 } },
    ]);
    expect(plan.annotate).toEqual(plan.allocated);
    expect(plan.ledgerChanged).toBe(true);
    expect(plan.ledger.entries).toEqual([live(1000, 1099, 'a'), live(1100, 1199, 'b')]);
  });

  it('changes nothing when every namespace already carries its ledger block', () => {
    const plan = planAllocations({ settings, ledger: ledgerOf(live(1000, 1099, 'a')), namespaces: [ns('a', '1000-1099')], now: NOW });
    expect(plan.ledgerChanged).toBe(false);
    expect(plan.annotate).toEqual([]);
    expect(plan.problems).toEqual([]);
  });

  it('heals a ledger entry whose annotation was never written (crash between the two writes)', () => {
    const plan = planAllocations({ settings, ledger: ledgerOf(live(1300, 1399, 'a')), namespaces: [ns('a')], now: NOW });
    expect(plan.annotate).toEqual([{ namespace: 'a', range: { min: 1300, max: 1399 } }]);
    expect(plan.allocated).toEqual([]);
    expect(plan.ledgerChanged).toBe(false);
  });

  it('adopts a hand-set, unaligned annotation and allocates around it', () => {
    const plan = planAllocations({ settings, ledger: ledgerOf(), namespaces: [ns('z', '1050-1149'), ns('a')], now: NOW });
    expect(plan.adopted).toEqual([{ namespace: 'z', range: { min: 1050, max: 1149 } }]);
    expect(plan.allocated).toEqual([{ namespace: 'a', range: { min: 1200, max: 1299 } }]);
  });

  it('adopts a hand-set range outside the pool (the admin may use any range that collides with nothing)', () => {
    const plan = planAllocations({ settings, ledger: ledgerOf(), namespaces: [ns('a', '50000-50999')], now: NOW });
    expect(plan.adopted).toEqual([{ namespace: 'a', range: { min: 50000, max: 50999 } }]);
  });

  it('reports a hand-set annotation that collides with another namespace, and leaves the ledger alone', () => {
    const plan = planAllocations({
      settings,
      ledger: ledgerOf(live(1000, 1099, 'owner')),
      namespaces: [ns('owner', '1000-1099'), ns('intruder', '1050-1060')],
      now: NOW,
    });
    expect(plan.problems).toEqual([
      {
        namespace: 'intruder',
        reason: 'UidRangeCollision',
        message: expect.stringMatching(/"1050-1060" overlaps 1000-1099 of namespace owner; set a range that overlaps no other/),
      },
    ]);
    expect(plan.ledgerChanged).toBe(false);
    expect(plan.annotate).toEqual([]);
  });

  it('reports two namespaces hand-set to the same range in one pass: the first by name wins', () => {
    const plan = planAllocations({ settings, ledger: ledgerOf(), namespaces: [ns('b', '1000-1099'), ns('a', '1000-1099')], now: NOW });
    expect(plan.adopted.map((a) => a.namespace)).toEqual(['a']);
    expect(plan.problems.map((p) => [p.namespace, p.reason])).toEqual([['b', 'UidRangeCollision']]);
  });

  it('reports an annotation that is not a range', () => {
    const plan = planAllocations({ settings, ledger: ledgerOf(), namespaces: [ns('a', '1000')], now: NOW });
    expect(plan.problems).toEqual([
      { namespace: 'a', reason: 'UidRangeInvalid', message: expect.stringMatching(/uid-range: "1000": expected "MIN-MAX".*remove the annotation/) },
    ]);
    expect(plan.allocated).toEqual([]);
  });

  it('moves a namespace to a new hand-set range and keeps its old block reserved', () => {
    const plan = planAllocations({ settings, ledger: ledgerOf(live(1000, 1099, 'a')), namespaces: [ns('a', '1500-1599'), ns('b')], now: NOW });
    expect(plan.adopted).toEqual([{ namespace: 'a', range: { min: 1500, max: 1599 } }]);
    expect(plan.ledger.entries).toEqual([
      { ...live(1000, 1099, 'a'), deletedAt: NOW },
      live(1100, 1199, 'b'),
      live(1500, 1599, 'a'),
    ]);
  });

  it('moves a namespace to a range overlapping its own old block, keeping only the uncovered rest reserved', () => {
    const plan = planAllocations({ settings, ledger: ledgerOf(live(1000, 1099, 'a')), namespaces: [ns('a', '1050-1149')], now: NOW });
    expect(plan.ledger.entries).toEqual([{ ...live(1000, 1049, 'a'), deletedAt: NOW }, live(1050, 1149, 'a')]);
  });

  it('reports a full pool for every namespace left without a block', () => {
    const small: AllocationPlanSettings = { ...settings, pool: { min: 1000, max: 1199 } };
    const plan = planAllocations({ settings: small, ledger: ledgerOf(), namespaces: [ns('a'), ns('b'), ns('c'), ns('d')], now: NOW });
    expect(plan.allocated.map((a) => a.namespace)).toEqual(['a', 'b']);
    expect(plan.problems).toEqual(
      ['c', 'd'].map((name) => ({
        namespace: name,
        reason: 'UidPoolExhausted',
        message: expect.stringMatching(/no free block of 100 IDs is left in the pool 1000-1199.*releaseAfter/),
      })),
    );
  });

  describe('deleted namespaces', () => {
    it('keeps a deleted namespace block reserved forever by default', () => {
      const first = planAllocations({ settings, ledger: ledgerOf(live(1000, 1099, 'gone')), namespaces: [ns('new')], now: NOW });
      expect(first.quarantined).toEqual([{ namespace: 'gone', range: { min: 1000, max: 1099 } }]);
      expect(first.allocated).toEqual([{ namespace: 'new', range: { min: 1100, max: 1199 } }]);
      const years = planAllocations({ settings, ledger: first.ledger, namespaces: [ns('new'), ns('later')], now: NOW + 5 * 8760 * HOUR });
      expect(years.released).toEqual([]);
      expect(years.allocated).toEqual([{ namespace: 'later', range: { min: 1200, max: 1299 } }]);
    });

    it('frees the block after releaseAfter and not a moment before', () => {
      const quarantine: AllocationPlanSettings = { ...settings, releaseAfterMs: 720 * HOUR };
      const deleted: LedgerEntry = { ...live(1000, 1099, 'gone'), deletedAt: NOW };
      const early = planAllocations({ settings: quarantine, ledger: ledgerOf(deleted), namespaces: [ns('x')], now: NOW + 720 * HOUR - 1 });
      expect(early.allocated).toEqual([{ namespace: 'x', range: { min: 1100, max: 1199 } }]);
      const due = planAllocations({ settings: quarantine, ledger: ledgerOf(deleted), namespaces: [ns('x')], now: NOW + 720 * HOUR });
      expect(due.released).toEqual([{ namespace: 'gone', range: { min: 1000, max: 1099 } }]);
      expect(due.allocated).toEqual([{ namespace: 'x', range: { min: 1000, max: 1099 } }]);
    });

    it('treats a namespace re-created under the same name as a new namespace', () => {
      const plan = planAllocations({
        settings,
        ledger: ledgerOf(live(1000, 1099, 'team', 'old-uid')),
        namespaces: [{ ...ns('team'), uid: 'new-uid' }],
        now: NOW,
      });
      expect(plan.quarantined).toEqual([{ namespace: 'team', range: { min: 1000, max: 1099 } }]);
      expect(plan.allocated).toEqual([{ namespace: 'team', range: { min: 1100, max: 1199 } }]);
    });

    it('hands a quarantined block back to a re-created namespace of the same name that carries the old annotation', () => {
      const plan = planAllocations({
        settings,
        ledger: ledgerOf({ ...live(1000, 1099, 'team', 'old-uid'), deletedAt: NOW - HOUR }),
        namespaces: [{ ...ns('team', '1000-1099'), uid: 'new-uid' }],
        now: NOW,
      });
      expect(plan.adopted).toEqual([{ namespace: 'team', range: { min: 1000, max: 1099 } }]);
      expect(plan.ledger.entries).toEqual([live(1000, 1099, 'team', 'new-uid')]);
    });

    it('does not hand a quarantined block to another namespace that claims it by annotation', () => {
      const plan = planAllocations({
        settings,
        ledger: ledgerOf({ ...live(1000, 1099, 'team', 'old-uid'), deletedAt: NOW - HOUR }),
        namespaces: [ns('other', '1000-1099')],
        now: NOW,
      });
      expect(plan.problems).toEqual([
        expect.objectContaining({ reason: 'UidRangeCollision', message: expect.stringMatching(/of deleted namespace team/) }),
      ]);
    });
  });
});

// Namespaces come and go over several passes; the invariants must hold after every pass.
const namesArb = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/), { minLength: 1, maxLength: 25 });
const passArb = (names: string[]) =>
  fc.record({
    present: fc.subarray(names),
    handSet: fc.dictionary(fc.constantFrom(...names), fc.tuple(fc.integer({ min: 900, max: 2100 }), fc.integer({ min: 0, max: 150 }))),
    advanceHours: fc.integer({ min: 0, max: 48 }),
  });
const scenarioArb = namesArb.chain((names) =>
  fc.record({
    names: fc.constant(names),
    blockSize: fc.integer({ min: 20, max: 250 }),
    releaseAfterHours: fc.option(fc.integer({ min: 1, max: 72 }), { nil: null }),
    passes: fc.array(passArb(names), { minLength: 1, maxLength: 5 }),
  }),
);

describe('planAllocations properties', () => {
  it('never lets two blocks overlap, keeps allocated blocks inside the pool, and the ledger always re-reads', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const s: AllocationPlanSettings = {
          pool: settings.pool,
          blockSize: scenario.blockSize,
          releaseAfterMs: scenario.releaseAfterHours === null ? null : scenario.releaseAfterHours * HOUR,
        };
        let ledger: Ledger = { entries: [] };
        let now = NOW;
        for (const pass of scenario.passes) {
          now += pass.advanceHours * HOUR;
          const namespaces = pass.present.map((name) => {
            const hand = pass.handSet[name];
            return ns(name, hand ? `${hand[0]}-${hand[0] + hand[1]}` : undefined);
          });
          const plan = planAllocations({ settings: s, ledger, namespaces, now });
          expect(findOverlappingPairs(plan.ledger.entries)).toEqual([]);
          for (const a of plan.allocated) expect(rangeContains(s.pool, a.range)).toBe(true);
          for (const a of plan.annotate) {
            expect(plan.ledger.entries).toContainEqual(expect.objectContaining({ namespace: a.namespace, range: a.range, deletedAt: null }));
          }
          // Every namespace ends the pass with a live block, a reported problem, or both (a block
          // plus a rejected change of its annotation).
          const accounted = new Set([
            ...plan.ledger.entries.filter((e) => e.deletedAt === null && pass.present.includes(e.namespace)).map((e) => e.namespace),
            ...plan.problems.map((p) => p.namespace),
          ]);
          expect([...accounted].sort()).toEqual([...pass.present].sort());
          const reread = decodeLedger(encodeLedger(plan.ledger));
          expect(reread.ok).toBe(true);
          ledger = plan.ledger;
        }
      }),
    );
  });

  it('is deterministic given the ledger: the order namespaces are listed in does not matter', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer(), (scenario, seed) => {
        const pass = scenario.passes[0]!;
        const namespaces = pass.present.map((name) => ns(name, pass.handSet[name] ? `${pass.handSet[name][0]}-${pass.handSet[name][0] + 99}` : undefined));
        const shuffled = [...namespaces].sort((a, b) => ((a.name.charCodeAt(0) * seed) % 7) - ((b.name.charCodeAt(0) * seed) % 7));
        const s: AllocationPlanSettings = { pool: settings.pool, blockSize: scenario.blockSize, releaseAfterMs: null };
        const base = { entries: [live(1500, 1599, 'held')] };
        expect(planAllocations({ settings: s, ledger: base, namespaces: shuffled, now: NOW })).toEqual(
          planAllocations({ settings: s, ledger: base, namespaces, now: NOW }),
        );
      }),
    );
  });

  it('never hands out a block that overlaps a block still in the ledger', () => {
    fc.assert(
      fc.property(
        // From 1: a range holding 0 (root) is never a valid block, for the engine nor the allocator.
        fc.array(fc.tuple(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 0, max: 300 })), { maxLength: 15 }),
        fc.integer({ min: 1, max: 20 }),
        (held, wanting) => {
          const entries: LedgerEntry[] = [];
          for (const [i, [min, len]] of held.entries()) {
            const range = { min, max: min + len };
            if (entries.every((e) => !rangesOverlap(e.range, range))) entries.push(live(range.min, range.max, `held-${i}`));
          }
          const namespaces = [...entries.map((e) => ns(e.namespace, `${e.range.min}-${e.range.max}`)), ...Array.from({ length: wanting }, (_, i) => ns(`new-${i}`))];
          const plan = planAllocations({ settings, ledger: { entries: entries.sort((a, b) => a.range.min - b.range.min) }, namespaces, now: NOW });
          for (const a of plan.allocated) for (const e of entries) expect(rangesOverlap(a.range, e.range)).toBe(false);
          expect(plan.problems.every((p) => p.reason === 'UidPoolExhausted')).toBe(true);
        },
      ),
    );
  });
});
