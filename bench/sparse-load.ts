// `node dist/bench/sparse-load.js`: CPU per request of each server when requests come one at a
// time with a pause between them, as the API server sends them to a webhook at one client (a few
// dozen creates a second), instead of back to back as in `npm run bench`. One keep-alive TLS
// connection per server, the typical Pod's AdmissionReview, a sleep of BENCH_SPARSE_GAP_MS after
// each answer; the servers take turns round after round, so ratios compare runs seconds apart.
// Targets: trivial (bench/servers/fixed-patch-server.ts, the API-server bench's trivial webhook),
// ceiling (the Express ceiling), ours (`serve --policy`, standalone), rungN (ablation ladder rung N).
import { writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { flag, nodeFlagList, positiveInteger, type Env } from './bench-config.js';
import { percentile } from './apiserver/create-summary.js';
import { buildAdmissionBody } from './bodies/admission-review-bodies.js';
import { readImageNodeOptions } from './image-node-options.js';
import { pinToCpu, readCpuSeconds } from './process-stats.js';
import { mean } from './results-report.js';
import { createLoopbackCertificate } from './self-signed-certificate.js';
import { findFreePort, startServer, type RunningServer } from './server-process.js';

const DIST_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO_ROOT = resolve(DIST_ROOT, '..');

interface SparseConfig {
  readonly targets: readonly string[];
  readonly gapMs: number;
  readonly requests: number;
  readonly warmup: number;
  readonly rounds: number;
  readonly pin: boolean;
  readonly nodeFlags: readonly string[];
}

function readConfig(env: Env, imageNodeFlags: readonly string[]): { config: SparseConfig; errors: string[] } {
  const errors: string[] = [];
  const targets = (env['BENCH_SPARSE_TARGETS'] ?? 'trivial,ceiling,ours').split(',').map((t) => t.trim()).filter((t) => t !== '');
  for (const target of targets) {
    if (!/^(trivial|ceiling|ours|rung\d+)$/.test(target)) errors.push(`BENCH_SPARSE_TARGETS: "${target}" is not trivial, ceiling, ours or rungN; set e.g. BENCH_SPARSE_TARGETS=trivial,ours,rung7`);
  }
  const rawGap = env['BENCH_SPARSE_GAP_MS'];
  const gapMs = rawGap === undefined || rawGap.trim() === '' ? 4 : Number(rawGap);
  if (!Number.isInteger(gapMs) || gapMs < 0 || gapMs > 1000) errors.push(`BENCH_SPARSE_GAP_MS: "${rawGap}" is not a whole number of milliseconds from 0 to 1000; set e.g. BENCH_SPARSE_GAP_MS=4`);
  return {
    config: {
      targets,
      gapMs,
      requests: positiveInteger(env, 'BENCH_SPARSE_REQUESTS', 1000, errors),
      // Enough for V8 to have optimized the request path: compilations settle after ~750 requests.
      warmup: positiveInteger(env, 'BENCH_SPARSE_WARMUP', 2000, errors),
      rounds: positiveInteger(env, 'BENCH_ROUNDS', 3, errors),
      pin: flag(env, 'BENCH_SPARSE_PIN', errors),
      nodeFlags: nodeFlagList(env, 'BENCH_NODE_FLAGS', imageNodeFlags, errors),
    },
    errors,
  };
}

function serverArgs(target: string, port: number, tls: readonly string[]): string[] {
  const common = ['--port', String(port), ...tls];
  if (target === 'trivial') return [join(DIST_ROOT, 'bench', 'servers', 'fixed-patch-server.js'), ...common];
  if (target === 'ceiling') return [join(DIST_ROOT, 'bench', 'servers', 'express-ceiling-server.js'), ...common];
  if (target === 'ours') {
    return [join(DIST_ROOT, 'src', 'cli', 'main.js'), 'serve', '--host', '127.0.0.1', ...common, '--policy', join(REPO_ROOT, 'policies', 'default.yaml'), '--fail-closed', '--shutdown-delay', '0'];
  }
  return [join(DIST_ROOT, 'bench', 'servers', 'ablation-ladder-server.js'), ...common, '--policy', join(REPO_ROOT, 'policies', 'default.yaml'), '--step', target.slice('rung'.length)];
}

/** Resolves with the HTTP status and the client-side latency in µs, from the request's end to its answer's. */
function post(agent: Agent, port: number, payload: Buffer): Promise<{ status: number; latencyUs: number }> {
  return new Promise((done, fail) => {
    const started = process.hrtime.bigint();
    const req = request(
      { host: '127.0.0.1', port, path: '/mutate', method: 'POST', agent, rejectUnauthorized: false, headers: { 'content-type': 'application/json', 'content-length': payload.length } },
      (res) => {
        res.resume();
        res.on('end', () => done({ status: res.statusCode ?? 0, latencyUs: Number(process.hrtime.bigint() - started) / 1000 }));
      },
    );
    req.on('error', fail);
    req.end(payload);
  });
}

async function main(): Promise<number> {
  const { config, errors } = readConfig(process.env, readImageNodeOptions(join(REPO_ROOT, 'Dockerfile')));
  if (errors.length > 0) {
    for (const error of errors) process.stderr.write(`${error}\n`);
    return 2;
  }
  const dir = await mkdtemp(join(tmpdir(), 'secure-defaults-sparse-'));
  const certificate = await createLoopbackCertificate();
  await writeFile(join(dir, 'server.crt'), certificate.certPem);
  await writeFile(join(dir, 'server.key'), certificate.keyPem, { mode: 0o600 });
  const tls = ['--tls-cert', join(dir, 'server.crt'), '--tls-key', join(dir, 'server.key')];
  const nodeFlags = config.nodeFlags;
  const payloads = buildAdmissionBody('typical').variants(32).map((text) => Buffer.from(text));
  process.stdout.write(`# Sparse load: one connection per server, the servers in turn, ${config.gapMs} ms between an answer and the next request; ${config.warmup} warm-up + ${config.requests} measured requests per server and round\n`);
  process.stdout.write(`${config.pin ? 'pinned: this client on CPU 0, the servers on CPU 1; ' : ''}node ${process.version}, flags ${nodeFlags.join(' ') || 'none'}, load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}; logs in ${dir}\n\n`);

  const servers: { target: string; server: RunningServer }[] = [];
  try {
    for (const target of config.targets) {
      const port = await findFreePort();
      servers.push({ target, server: await startServer({ name: target, nodeArgs: [...nodeFlags, ...serverArgs(target, port, tls)], port, logDir: dir, readyTimeoutMs: 30_000 }) });
    }
    // One request to each server in turn, the order reversed every pass: load on the machine
    // that comes and goes over seconds then hits every server alike, so ratios of a few per cent
    // mean something. Each server's CPU is still its own (/proc per process, over the round).
    const agents = new Map(servers.map(({ target }) => [target, new Agent({ keepAlive: true, maxSockets: 1 })]));
    const ask = async (target: string, port: number, i: number): Promise<number> => {
      const { status, latencyUs } = await post(agents.get(target)!, port, payloads[i % payloads.length]!);
      if (status !== 200) throw new Error(`${target} answered HTTP ${status}`);
      if (config.gapMs > 0) await sleep(config.gapMs);
      return latencyUs;
    };
    for (let i = 0; i < config.warmup; i += 1) for (const { target, server } of servers) await ask(target, server.port, i);
    if (config.pin) {
      // As the API-server bench's BENCH_APISERVER_PIN: the caller (there kube-apiserver) on one
      // CPU, the servers on the other, so what a server does after its answer is not counted as
      // the caller's wait, as it is not when the webhook has a node of its own.
      pinToCpu(process.pid, 0);
      for (const { server } of servers) pinToCpu(server.pid, 1);
    }
    const cpuUs = new Map<string, number[]>(config.targets.map((t) => [t, []]));
    const meanLatencyUs = new Map<string, number[]>(config.targets.map((t) => [t, []]));
    for (let round = 1; round <= config.rounds; round += 1) {
      const latencies = new Map<string, number[]>(config.targets.map((t) => [t, []]));
      const before = new Map(servers.map(({ target, server }) => [target, readCpuSeconds(server.pid)]));
      for (let i = 0; i < config.requests; i += 1) {
        const order = i % 2 === 0 ? servers : [...servers].reverse();
        for (const { target, server } of order) latencies.get(target)!.push(await ask(target, server.port, i));
      }
      for (const { target, server } of servers) {
        const start = before.get(target);
        const after = readCpuSeconds(server.pid);
        if (start === null || start === undefined || after === null) throw new Error(`${target} exited during the run`);
        const perRequest = ((after - start) * 1e6) / config.requests;
        cpuUs.get(target)!.push(perRequest);
        const measured = latencies.get(target)!;
        const meanUs = mean(measured);
        meanLatencyUs.get(target)!.push(meanUs);
        process.stdout.write(
          `round ${round} ${target.padEnd(8)} ${perRequest.toFixed(0).padStart(5)} µs CPU/request; latency µs mean ${meanUs.toFixed(0)}, p50 ${percentile(measured, 50).toFixed(0)}, p90 ${percentile(measured, 90).toFixed(0)}, p99 ${percentile(measured, 99).toFixed(0)}\n`,
        );
      }
    }
    for (const agent of agents.values()) agent.destroy();
    const ratioText = (values: readonly number[], baseline: readonly number[] | undefined): string => {
      if (baseline === undefined) return '–';
      const ratios = values.map((v, i) => v / baseline[i]!);
      return `${ratios.map((r) => r.toFixed(2)).join(', ')} (${mean(ratios).toFixed(2)})`;
    };
    process.stdout.write('\n| server | CPU µs/request per round | mean | ÷ trivial per round (mean) | mean latency µs per round | latency − trivial, µs (mean) |\n|---|---|---:|---|---|---:|\n');
    const baselineLatency = meanLatencyUs.get('trivial');
    for (const [target, values] of cpuUs) {
      const latency = meanLatencyUs.get(target)!;
      const extra = baselineLatency === undefined ? '–' : mean(latency.map((v, i) => v - baselineLatency[i]!)).toFixed(0);
      process.stdout.write(`| ${target} | ${values.map((v) => v.toFixed(0)).join(', ')} | ${mean(values).toFixed(0)} | ${ratioText(values, cpuUs.get('trivial'))} | ${latency.map((v) => v.toFixed(0)).join(', ')} | ${extra} |\n`);
    }
    process.stdout.write('\n/proc counts CPU in 10 ms ticks: use at least 1000 requests per run.\n');
    return 0;
  } finally {
    await Promise.all(servers.map(({ server }) => server.stop(5_000)));
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
