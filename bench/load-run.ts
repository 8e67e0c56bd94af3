// One measured load: autocannon against one server with one body at one connection count, plus
// what the server process and the load generator spent meanwhile.
import autocannon from 'autocannon';
import type { AdmissionBody } from './bodies/admission-review-bodies.js';
import { readCpuSeconds, readRssBytes } from './process-stats.js';

export interface LoadTarget {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly path: string;
}

export interface LoadMeasurement {
  readonly target: string;
  readonly body: string;
  readonly connections: number;
  readonly durationSeconds: number;
  /** 2xx answers per second over the whole run. */
  readonly requestsPerSecond: number;
  /** Latency of 2xx answers, whole milliseconds (autocannon's histogram resolution). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  /** Connection errors, timeouts included (autocannon counts them in both). */
  readonly errors: number;
  readonly timeouts: number;
  /** Every request that did not get a 2xx answer. */
  readonly failed: number;
  /** CPU the load generator (this process) used, as % of one core. */
  readonly loadGeneratorCpuPercent: number;
  /** CPU the server process used, as % of one core; null when /proc could not be read. */
  readonly serverCpuPercent: number | null;
  /** Server VmRSS right after the load. */
  readonly serverRssBytes: number | null;
}

/**
 * Gives each connection its own set of pre-serialized requests with their own uids, so no two
 * in-flight requests share a uid and no request is re-serialized during the measurement.
 */
function perConnectionRequests(body: AdmissionBody, connections: number): Array<Array<{ body: string }>> {
  return Array.from({ length: connections }, () => body.variants(body.variantsPerConnection).map((text) => ({ body: text })));
}

export async function measureLoad(target: LoadTarget, body: AdmissionBody, connections: number, durationSeconds: number): Promise<LoadMeasurement> {
  const requestSets = perConnectionRequests(body, connections);
  let nextSet = 0;
  const cpuBefore = process.cpuUsage();
  const serverCpuBefore = readCpuSeconds(target.pid);
  const wallBefore = process.hrtime.bigint();
  const result = await autocannon({
    url: `https://127.0.0.1:${target.port}${target.path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    connections,
    pipelining: 1,
    duration: durationSeconds,
    timeout: 10,
    requests: requestSets[0] ?? [],
    setupClient: (client) => {
      client.setRequests(requestSets[nextSet % requestSets.length] ?? []);
      nextSet += 1;
    },
  });
  const wallSeconds = Number(process.hrtime.bigint() - wallBefore) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const serverCpuAfter = readCpuSeconds(target.pid);
  const ok = result['2xx'];
  return {
    target: target.name,
    body: body.name,
    connections,
    durationSeconds: result.duration,
    requestsPerSecond: result.duration > 0 ? ok / result.duration : 0,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    failed: result.non2xx + result.errors,
    loadGeneratorCpuPercent: ((cpu.user + cpu.system) / 1e6 / wallSeconds) * 100,
    serverCpuPercent: serverCpuBefore !== null && serverCpuAfter !== null ? ((serverCpuAfter - serverCpuBefore) / wallSeconds) * 100 : null,
    serverRssBytes: readRssBytes(target.pid),
  };
}
