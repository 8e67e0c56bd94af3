// Numbers of the API-server benchmark: per run creates/s and latency percentiles, and per round
// the ratios of one admission setup against another, measured seconds apart (a busy shared
// machine moves absolute numbers by tens of percent; ratios of neighbouring runs move far less).

export interface RunFigures {
  readonly createsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly created: number;
  readonly failed: number;
}

/** Nearest-rank percentile (the smallest value with at least p% of the values at or below it). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  if (!(p > 0 && p <= 100)) throw new Error(`percentile ${p}: must be in (0, 100]`);
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function runFigures(latenciesUs: readonly number[], failed: number, elapsedMs: number): RunFigures {
  return {
    createsPerSecond: elapsedMs > 0 ? (latenciesUs.length * 1000) / elapsedMs : 0,
    p50Ms: percentile(latenciesUs, 50) / 1000,
    p99Ms: percentile(latenciesUs, 99) / 1000,
    created: latenciesUs.length,
    failed,
  };
}

export interface Spread {
  readonly mean: number;
  readonly min: number;
  readonly max: number;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { mean: Number.NaN, min: Number.NaN, max: Number.NaN };
  return { mean: values.reduce((sum, value) => sum + value, 0) / values.length, min: Math.min(...values), max: Math.max(...values) };
}

export interface RatioFigures {
  /** subject creates/s ÷ baseline creates/s: above 1 is faster. */
  readonly throughput: number;
  /** subject p99 ÷ baseline p99: above 1 is slower. */
  readonly p99: number;
}

export function ratioOf(subject: RunFigures, baseline: RunFigures): RatioFigures {
  return { throughput: subject.createsPerSecond / baseline.createsPerSecond, p99: subject.p99Ms / baseline.p99Ms };
}

/**
 * The target for secure-defaults against the trivial webhook: throughput at least 95% of
 * its, p99 at most 105% of its.
 */
export function withinTarget(ratio: RatioFigures, tolerance = 0.05): boolean {
  return ratio.throughput >= 1 - tolerance && ratio.p99 <= 1 + tolerance;
}

export function formatNumber(value: number, digits: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** "1.02 (0.97–1.06)", or just "1.02" when there was one round. */
export function formatSpread(values: readonly number[], digits: number): string {
  const { mean, min, max } = spread(values);
  if (values.length <= 1) return formatNumber(mean, digits);
  return `${formatNumber(mean, digits)} (${formatNumber(min, digits)}–${formatNumber(max, digits)})`;
}
