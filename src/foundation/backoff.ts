// Capped exponential backoff with jitter (as client-go's wait.Backoff): many replicas that lost
// the API server at the same moment must not all come back at the same moment.

export interface BackoffSettings {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffSettings = { initialMs: 500, maxMs: 30_000 };

/**
 * The wait before retry number `attempt` (1 for the first retry): the capped exponential step,
 * of which a random half is kept ("equal jitter"), so it lies in [step/2, step].
 */
export function backoffDelayMs(attempt: number, settings: BackoffSettings, random: () => number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const step = Math.min(settings.maxMs, settings.initialMs * 2 ** exponent);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(step / 2 + (step / 2) * r);
}
