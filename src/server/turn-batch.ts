// Work that arrives during one turn of the event loop, handed over together at the end of the turn.
//
// Under load, Node reads every ready socket in one poll phase (about 15 admission requests per turn
// at 16 connections), and between two requests the TLS, HTTP and kernel code they run evicts the
// webhook's own code and data from the CPU caches. Handled one by one, each request then runs our
// code cold (bench/README.md, "Batching per turn"). Handled as
// a batch after the poll phase, only the first of each stage runs cold. A request that is the only
// one in flight, after a quiet spell, has no one to wait for and skips the batch (webhook-app.ts).

export type Scheduler = (run: () => void) => unknown;

export interface TurnBatch<Item> {
  add(item: Item): void;
  /** Runs what is pending now (shutdown, tests); harmless when nothing is. */
  flush(): void;
}

/**
 * Collects items and calls `run` with all of them once per turn (via `schedule`, setImmediate by
 * default). `run` must not throw; if it does, the items it was given are lost, so callers handle
 * each item's failures themselves.
 */
export function createTurnBatch<Item>(run: (items: Item[]) => void, schedule: Scheduler = setImmediate): TurnBatch<Item> {
  let pending: Item[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const items = pending;
    pending = [];
    run(items);
  };
  return {
    add(item) {
      pending.push(item);
      if (!scheduled) {
        scheduled = true;
        schedule(flush);
      }
    },
    flush,
  };
}
