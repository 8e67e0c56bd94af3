import { describe, expect, it } from '@jest/globals';
import { createTurnBatch } from '../../src/server/turn-batch.js';

/** A scheduler that keeps the callbacks, so each test decides when "the end of the turn" is. */
function fakeScheduler() {
  const queued: Array<() => void> = [];
  return {
    queued,
    schedule: (callback: () => void) => {
      queued.push(callback);
    },
    endTurn: () => {
      const callback = queued.shift();
      if (callback === undefined) throw new Error('nothing was scheduled');
      callback();
    },
  };
}

function recordingBatch<Item>(onRun: (items: Item[]) => void = () => {}) {
  const scheduler = fakeScheduler();
  const runs: Item[][] = [];
  const batch = createTurnBatch<Item>((items) => {
    runs.push([...items]);
    onRun(items);
  }, scheduler.schedule);
  return { batch, runs, scheduler };
}

describe('createTurnBatch', () => {
  it('runs the items added in one turn together, once, in order', () => {
    const { batch, runs, scheduler } = recordingBatch<string>();
    batch.add('a');
    batch.add('b');
    batch.add('c');
    expect(runs).toEqual([]);
    scheduler.endTurn();
    expect(runs).toEqual([['a', 'b', 'c']]);
  });

  it('schedules once per batch, however many items are added', () => {
    const { batch, scheduler } = recordingBatch<number>();
    for (let i = 0; i < 5; i++) batch.add(i);
    expect(scheduler.queued).toHaveLength(1);
  });

  it('schedules again for an item added after a run', () => {
    const { batch, runs, scheduler } = recordingBatch<string>();
    batch.add('a');
    scheduler.endTurn();
    expect(scheduler.queued).toHaveLength(0);
    batch.add('b');
    expect(scheduler.queued).toHaveLength(1);
    scheduler.endTurn();
    expect(runs).toEqual([['a'], ['b']]);
  });

  it('hands each run its own array, untouched by later adds', () => {
    const given: string[][] = [];
    const scheduler = fakeScheduler();
    const batch = createTurnBatch<string>((items) => given.push(items), scheduler.schedule);
    batch.add('a');
    scheduler.endTurn();
    batch.add('b');
    scheduler.endTurn();
    expect(given).toEqual([['a'], ['b']]);
    expect(given[0]).not.toBe(given[1]);
  });

  it('flush() runs what is pending now', () => {
    const { batch, runs } = recordingBatch<string>();
    batch.add('a');
    batch.add('b');
    batch.flush();
    expect(runs).toEqual([['a', 'b']]);
  });

  it('flush() does nothing when nothing is pending', () => {
    const { batch, runs, scheduler } = recordingBatch<string>();
    batch.flush();
    expect(runs).toEqual([]);
    expect(scheduler.queued).toHaveLength(0);
    batch.add('a');
    scheduler.endTurn();
    batch.flush();
    expect(runs).toEqual([['a']]);
  });

  // After a flush, the callback scheduled earlier still fires: it must neither run an empty batch
  // nor run an item twice, and items added after the flush still get run.
  it('runs every item exactly once when flush() comes before the scheduled run', () => {
    const { batch, runs, scheduler } = recordingBatch<string>();
    batch.add('a');
    batch.flush();
    scheduler.endTurn();
    expect(runs).toEqual([['a']]);
    batch.add('b');
    batch.add('c');
    while (scheduler.queued.length > 0) scheduler.endTurn();
    expect(runs).toEqual([['a'], ['b', 'c']]);
  });

  it('puts items added during a run into the next batch', () => {
    let added = false;
    const { batch, runs, scheduler } = recordingBatch<string>((items) => {
      if (!added && items.includes('a')) {
        added = true;
        batch.add('late');
      }
    });
    batch.add('a');
    scheduler.endTurn();
    expect(runs).toEqual([['a']]);
    expect(scheduler.queued).toHaveLength(1);
    scheduler.endTurn();
    expect(runs).toEqual([['a'], ['late']]);
  });

  it('waits for the end of the turn with setImmediate by default', async () => {
    const runs: string[][] = [];
    const batch = createTurnBatch<string>((items) => runs.push(items));
    batch.add('a');
    await Promise.resolve();
    batch.add('b');
    // Microtasks run before setImmediate: still the same turn.
    expect(runs).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toEqual([['a', 'b']]);
  });
});
