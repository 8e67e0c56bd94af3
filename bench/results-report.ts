// Turns measurements into text: one line per run while it goes, and at the end markdown tables
// that can be pasted into README.md as they are.
import type { LoadMeasurement } from './load-run.js';

export interface RoundMeasurement extends LoadMeasurement {
  readonly round: number;
}

export interface RssSample {
  readonly label: string;
  readonly bytes: number | null;
}

const mb = (bytes: number | null): string => (bytes === null ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(1)} MB`);
const whole = (n: number): string => Math.round(n).toLocaleString('en-US');
const pct = (n: number | null): string => (n === null ? 'n/a' : `${Math.round(n)}%`);

export function formatRunLine(m: RoundMeasurement): string {
  const failures = m.failed === 0 ? '0 failed' : `${m.failed} failed (non-2xx ${m.non2xx}, errors ${m.errors}, of which timeouts ${m.timeouts})`;
  return [
    `round ${m.round}`,
    m.body.padEnd(16),
    `c=${String(m.connections).padEnd(3)}`,
    m.target.padEnd(7),
    `${whole(m.requestsPerSecond).padStart(7)} req/s`,
    `p50 ${m.p50Ms} ms`,
    `p99 ${m.p99Ms} ms`,
    failures,
    `server CPU ${pct(m.serverCpuPercent)} (${cpuPerRequest([m])})`,
    `load-gen CPU ${pct(m.loadGeneratorCpuPercent)}`,
    `server RSS ${mb(m.serverRssBytes)}`,
  ].join(' | ');
}

/** The arithmetic mean (NaN of none). */
export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** "1,234" for one round, "1,234 (1,200–1,268)" for several: the spread shows drift between rounds. */
function withSpread(values: readonly number[], format: (n: number) => string): string {
  if (values.length === 0) return '—';
  if (values.length === 1) return format(values[0]!);
  return `${format(mean(values))} (${format(Math.min(...values))}–${format(Math.max(...values))})`;
}

/** Server CPU microseconds per 2xx answer, per round. */
export function cpuMicrosPerRequest(m: LoadMeasurement): number | null {
  if (m.serverCpuPercent === null || m.requestsPerSecond <= 0) return null;
  return ((m.serverCpuPercent / 100) * 1e6) / m.requestsPerSecond;
}

function cpuPerRequest(ms: readonly LoadMeasurement[]): string {
  const values = ms.map(cpuMicrosPerRequest).filter((v): v is number => v !== null);
  return values.length === 0 ? 'n/a' : `${withSpread(values, whole)} µs/req`;
}

function pick(all: readonly RoundMeasurement[], body: string, connections: number, target: string): RoundMeasurement[] {
  return all.filter((m) => m.body === body && m.connections === connections && m.target === target);
}

/** ours / other per round (only rounds where both ran), so noise common to a round cancels out. */
function ratios(all: readonly RoundMeasurement[], body: string, connections: number, other: string): number[] {
  const ours = pick(all, body, connections, 'ours');
  return ours.flatMap((o) => {
    const match = pick(all, body, connections, other).find((m) => m.round === o.round);
    return match && match.requestsPerSecond > 0 ? [o.requestsPerSecond / match.requestsPerSecond] : [];
  });
}

function uniqueInOrder<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

export function summaryTables(all: readonly RoundMeasurement[], targets: readonly string[], rssTimeline: readonly RssSample[]): string {
  const bodies = uniqueInOrder(all.map((m) => m.body));
  const connectionCounts = uniqueInOrder(all.map((m) => m.connections));
  const rounds = uniqueInOrder(all.map((m) => m.round)).length;
  const lines: string[] = [];
  const rps = (ms: RoundMeasurement[]): string => withSpread(ms.map((m) => m.requestsPerSecond), whole);
  const ratio = (values: number[]): string => withSpread(values, (n) => n.toFixed(2));

  lines.push(`Throughput in 2xx answers per second; mean of ${rounds} round(s) with (min–max) across rounds. Latency of our webhook in whole ms.`);
  lines.push('');
  const headers = ['body', 'conns', ...targets.map((t) => `${t} req/s`)];
  if (targets.includes('ours')) headers.push('ours p50 ms', 'ours p99 ms');
  headers.push('failed (' + targets.join('/') + ')');
  if (targets.includes('ours') && targets.includes('ceiling')) headers.push('ours/ceiling');
  if (targets.includes('ours') && targets.includes('hosted-ceiling')) headers.push('ours/hosted-ceiling');
  if (targets.includes('ours') && targets.includes('floor')) headers.push('ours/floor');
  if (targets.includes('ours') && targets.includes('baseline')) headers.push('ours/baseline');
  lines.push(`| ${headers.join(' | ')} |`);
  lines.push(`|${headers.map(() => '---').join('|')}|`);
  for (const body of bodies) {
    for (const c of connectionCounts) {
      const row = [body, String(c), ...targets.map((t) => rps(pick(all, body, c, t)))];
      if (targets.includes('ours')) {
        const ours = pick(all, body, c, 'ours');
        row.push(withSpread(ours.map((m) => m.p50Ms), whole), withSpread(ours.map((m) => m.p99Ms), whole));
      }
      row.push(targets.map((t) => String(pick(all, body, c, t).reduce((n, m) => n + m.failed, 0))).join('/'));
      if (targets.includes('ours') && targets.includes('ceiling')) row.push(ratio(ratios(all, body, c, 'ceiling')));
      if (targets.includes('ours') && targets.includes('hosted-ceiling')) row.push(ratio(ratios(all, body, c, 'hosted-ceiling')));
      if (targets.includes('ours') && targets.includes('floor')) row.push(ratio(ratios(all, body, c, 'floor')));
      if (targets.includes('ours') && targets.includes('baseline')) row.push(ratio(ratios(all, body, c, 'baseline')));
      lines.push(`| ${row.join(' | ')} |`);
    }
  }

  lines.push('');
  lines.push('CPU during load, % of one core (mean over rounds): server process / load generator, and (server CPU per 2xx answer, mean with min–max over rounds). A load generator near 100% means that row measures autocannon, not the server.');
  lines.push('');
  lines.push(`| body | conns | ${targets.join(' | ')} |`);
  lines.push(`|---|---|${targets.map(() => '---').join('|')}|`);
  for (const body of bodies) {
    for (const c of connectionCounts) {
      const cells = targets.map((t) => {
        const ms = pick(all, body, c, t);
        if (ms.length === 0) return '—';
        const server = ms.map((m) => m.serverCpuPercent).filter((v): v is number => v !== null);
        return `${server.length > 0 ? pct(mean(server)) : 'n/a'} / ${pct(mean(ms.map((m) => m.loadGeneratorCpuPercent)))} (${cpuPerRequest(ms)})`;
      });
      lines.push(`| ${body} | ${c} | ${cells.join(' | ')} |`);
    }
  }

  if (rssTimeline.length > 0) {
    lines.push('');
    lines.push(`Our webhook's RSS: ${rssTimeline.map((s) => `${s.label} ${mb(s.bytes)}`).join(' → ')}`);
  }
  return lines.join('\n');
}
