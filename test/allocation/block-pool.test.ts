import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { blockAt, blockCount, countFreeBlocks, findFirstFreeBlock, rangeFit, type BlockPool } from '../../src/allocation/block-pool.js';
import { parseIdRangeText, rangeContains, rangesOverlap, subtractRange } from '../../src/allocation/id-range-text.js';

const pool: BlockPool = { pool: { min: 1000, max: 1999 }, blockSize: 100 };

describe('parseIdRangeText', () => {
  it.each([
    ['1000-1999', { min: 1000, max: 1999 }],
    [' 7-7 ', { min: 7, max: 7 }],
    ['1-2147483647', { min: 1, max: 2147483647 }],
  ])('reads %j', (text, range) => {
    expect(parseIdRangeText(text)).toEqual({ ok: true, range });
  });

  it.each([
    ['', /expected "MIN-MAX"/],
    ['1000', /expected "MIN-MAX"/],
    ['-5-10', /expected "MIN-MAX"/],
    ['2000-1000', /min is greater than max; write the smaller ID first/],
    ['1-2147483648', /above the highest ID Kubernetes accepts \(2147483647\)/],
    ['0-100', /includes 0 \(root\)/],
    ['1e3-2000', /expected "MIN-MAX"/],
  ])('rejects %j with a message saying how to fix it', (text, message) => {
    const result = parseIdRangeText(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });
});

describe('subtractRange', () => {
  it.each([
    [{ min: 10, max: 20 }, { min: 30, max: 40 }, [{ min: 10, max: 20 }]],
    [{ min: 10, max: 20 }, { min: 15, max: 40 }, [{ min: 10, max: 14 }]],
    [{ min: 10, max: 20 }, { min: 0, max: 12 }, [{ min: 13, max: 20 }]],
    [{ min: 10, max: 20 }, { min: 12, max: 13 }, [{ min: 10, max: 11 }, { min: 14, max: 20 }]],
    [{ min: 10, max: 20 }, { min: 10, max: 20 }, []],
  ])('%j minus %j is %j', (from, cut, pieces) => {
    expect(subtractRange(from, cut)).toEqual(pieces);
  });
});

describe('block arithmetic', () => {
  it('cuts the pool into whole blocks and drops a trailing remainder', () => {
    expect(blockCount(pool)).toBe(10);
    expect(blockCount({ pool: { min: 0, max: 249 }, blockSize: 100 })).toBe(2);
    expect(blockAt(pool, 0)).toEqual({ min: 1000, max: 1099 });
    expect(blockAt(pool, 9)).toEqual({ min: 1900, max: 1999 });
  });

  it.each([
    [{ min: 1100, max: 1199 }, 'aligned-block'],
    [{ min: 1150, max: 1249 }, 'unaligned'],
    [{ min: 1100, max: 1149 }, 'unaligned'],
    [{ min: 5000, max: 5099 }, 'outside-pool'],
    [{ min: 1950, max: 2049 }, 'straddles-pool'],
  ] as const)('classifies %j as %s', (range, fit) => {
    expect(rangeFit(pool, range)).toBe(fit);
  });

  it.each([
    ['an empty ledger', [], { min: 1000, max: 1099 }],
    ['the first block taken', [{ min: 1000, max: 1099 }], { min: 1100, max: 1199 }],
    ['a hole at block 2', [{ min: 1000, max: 1199 }, { min: 1300, max: 1999 }], { min: 1200, max: 1299 }],
    ['an unaligned hand-set range covering parts of blocks 0 and 1', [{ min: 1050, max: 1150 }], { min: 1200, max: 1299 }],
    ['ranges outside the pool only', [{ min: 0, max: 999 }, { min: 2000, max: 9000 }], { min: 1000, max: 1099 }],
    ['a range straddling the start', [{ min: 500, max: 1000 }], { min: 1100, max: 1199 }],
    ['overlapping occupied ranges in any order', [{ min: 1200, max: 1250 }, { min: 1000, max: 1210 }], { min: 1300, max: 1399 }],
    ['every block taken', [{ min: 1000, max: 1999 }], null],
    ['all but the last taken by a range past the pool', [{ min: 1000, max: 1899 }, { min: 1950, max: 3000 }], null],
  ])('finds the first free block with %s', (_name, occupied, expected) => {
    expect(findFirstFreeBlock(pool, occupied)).toEqual(expected);
  });
});

const rangeArb = fc
  .tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 400 }))
  .map(([min, length]) => ({ min, max: min + length }));

describe('findFirstFreeBlock properties', () => {
  it('returns an aligned block inside the pool that overlaps nothing, and no lower block is free', () => {
    fc.assert(
      fc.property(fc.array(rangeArb, { maxLength: 30 }), fc.integer({ min: 1, max: 300 }), (occupied, blockSize) => {
        const p: BlockPool = { pool: { min: 1000, max: 1999 }, blockSize };
        const block = findFirstFreeBlock(p, occupied);
        const isFree = (i: number): boolean => occupied.every((o) => !rangesOverlap(o, blockAt(p, i)));
        if (block === null) {
          for (let i = 0; i < blockCount(p); i++) expect(isFree(i)).toBe(false);
          return;
        }
        expect(rangeContains(p.pool, block)).toBe(true);
        expect(rangeFit(p, block)).toBe('aligned-block');
        const index = (block.min - p.pool.min) / blockSize;
        expect(isFree(index)).toBe(true);
        for (let i = 0; i < index; i++) expect(isFree(i)).toBe(false);
      }),
    );
  });
});

describe('countFreeBlocks', () => {
  it('agrees with checking every block one by one', () => {
    fc.assert(
      fc.property(fc.array(rangeArb, { maxLength: 30 }), fc.integer({ min: 1, max: 300 }), (occupied, blockSize) => {
        const p: BlockPool = { pool: { min: 1000, max: 1999 }, blockSize };
        let free = 0;
        for (let i = 0; i < blockCount(p); i++) if (occupied.every((o) => !rangesOverlap(o, blockAt(p, i)))) free++;
        expect(countFreeBlocks(p, occupied)).toBe(free);
      }),
    );
  });
});
