// Block arithmetic over a pool of IDs: the pool is cut into aligned blocks of `blockSize` IDs,
// starting at pool.min; a trailing remainder smaller than a block is never handed out.
import type { AllocationSettings, IdRange } from '../engine/model.js';
import { rangeContains } from './id-range-text.js';

export type BlockPool = Pick<AllocationSettings, 'pool' | 'blockSize'>;

export function blockCount(pool: BlockPool): number {
  return Math.floor((pool.pool.max - pool.pool.min + 1) / pool.blockSize);
}

export function blockAt(pool: BlockPool, index: number): IdRange {
  const min = pool.pool.min + index * pool.blockSize;
  return { min, max: min + pool.blockSize - 1 };
}

/** How a range sits in the pool: hand-set annotations need not be aligned blocks. */
export type RangeFit = 'aligned-block' | 'unaligned' | 'outside-pool' | 'straddles-pool';

export function rangeFit(pool: BlockPool, range: IdRange): RangeFit {
  if (range.max < pool.pool.min || range.min > pool.pool.max) return 'outside-pool';
  if (!rangeContains(pool.pool, range)) return 'straddles-pool';
  const offset = range.min - pool.pool.min;
  const aligned =
    offset % pool.blockSize === 0 &&
    range.max - range.min + 1 === pool.blockSize &&
    offset / pool.blockSize < blockCount(pool);
  return aligned ? 'aligned-block' : 'unaligned';
}

/**
 * The lowest block that overlaps none of `occupied` (which may be unaligned, overlap each other,
 * or lie outside the pool), or null when every block is taken. Lowest-first keeps allocation a
 * pure function of the ledger, so two replicas computing from the same ledger agree.
 */
export function findFirstFreeBlock(pool: BlockPool, occupied: readonly IdRange[]): IdRange | null {
  const count = blockCount(pool);
  const sorted = [...occupied].sort((a, b) => a.min - b.min);
  let index = 0;
  for (const taken of sorted) {
    if (index >= count) return null;
    const candidate = blockAt(pool, index);
    if (taken.max < candidate.min) continue;
    if (taken.min > candidate.max) break;
    // `taken` overlaps the candidate: jump to the first block starting after it.
    index = Math.floor((taken.max - pool.pool.min) / pool.blockSize) + 1;
  }
  return index < count ? blockAt(pool, index) : null;
}

/** How many whole blocks overlap none of `occupied`. */
export function countFreeBlocks(pool: BlockPool, occupied: readonly IdRange[]): number {
  const count = blockCount(pool);
  const sorted = [...occupied].sort((a, b) => a.min - b.min);
  let taken = 0;
  let nextUncounted = 0; // blocks below this index are already counted as taken
  for (const range of sorted) {
    if (range.max < pool.pool.min || range.min > pool.pool.max) continue;
    const first = Math.max(nextUncounted, Math.floor((Math.max(range.min, pool.pool.min) - pool.pool.min) / pool.blockSize));
    const last = Math.min(count - 1, Math.floor((range.max - pool.pool.min) / pool.blockSize));
    if (last >= first) {
      taken += last - first + 1;
      nextUncounted = last + 1;
    }
  }
  return count - taken;
}
