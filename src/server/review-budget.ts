// How many bytes of large admission reviews are judged at once. A review's body grows about ten
// times once parsed, hardened and answered, so a few large ones together can exhaust a heap capped
// at 128 MB and take down the webhook, which with failurePolicy Fail refuses every Pod in the
// cluster. Past the budget a large review is refused at once (HTTP 429) rather than risked; small
// reviews, the Pods of real workloads, are never counted nor refused.

export interface ReviewBudget {
  /** True (and the bytes are held) when a review of `bytes` may be judged now. */
  tryReserve(bytes: number): boolean;
  release(bytes: number): void;
  /** Bytes of large reviews held now. */
  inFlight(): number;
  readonly limitBytes: number;
  /** Reviews smaller than this are not counted. */
  readonly largeBytes: number;
}

/** A review at least this large counts against the budget: far above a real Pod (a few KiB to tens of KiB). */
export const DEFAULT_LARGE_REVIEW_BYTES = 256 * 1024;

/**
 * The default budget: one largest body. Parsed, hardened and answered, a review takes about ten
 * times its size, so under the image's 128 MB old-generation cap one 8 MiB review (or several
 * smaller large ones adding up to that) is what fits beside the rest of the process. Not derived
 * from V8's heap_size_limit, which also counts the young generation (about 335 MB at that cap).
 */
export function defaultBudgetBytes(bodyLimitBytes: number): number {
  return bodyLimitBytes;
}

export function createReviewBudget(limitBytes: number, largeBytes = DEFAULT_LARGE_REVIEW_BYTES): ReviewBudget {
  let held = 0;
  return {
    limitBytes,
    largeBytes,
    tryReserve(bytes) {
      if (bytes < largeBytes) return true;
      // One large review alone is always judged: the body limit already bounds it.
      if (held > 0 && held + bytes > limitBytes) return false;
      held += bytes;
      return true;
    },
    release(bytes) {
      if (bytes < largeBytes) return;
      held = Math.max(0, held - bytes);
    },
    inFlight: () => held,
  };
}
