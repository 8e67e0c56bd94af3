// `node dist/bench/ablation-ladder.js`: where our webhook's extra CPU per request goes. Starts the
// floor, the ceiling and one process per rung of bench/servers/ablation-ladder-server.ts (the
// ceiling plus our pieces one at a time, up to the real serve command), loads them back to back
// with the same body, and prints the server CPU per 2xx answer of each rung and what it adds over
// the rung before. Same settings as `npm run bench` (BENCH_DURATION, BENCH_ROUNDS, BENCH_WARMUP,
// BENCH_NODE_FLAGS, BENCH_POLICY; the first of BENCH_BODIES and BENCH_CONNECTIONS), plus
// BENCH_LADDER_STEPS (e.g. "0,4,7"; default all).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { LADDER_STEPS } from './ablation-steps.js';
import { sanityCheck } from './admission-sanity-check.js';
import { readImageNodeOptions } from './image-node-options.js';
import { readBenchConfig } from './bench-config.js';
import { buildAdmissionBody } from './bodies/admission-review-bodies.js';
import { measureLoad, type LoadMeasurement } from './load-run.js';
import { cpuMicrosPerRequest, mean } from './results-report.js';
import { createLoopbackCertificate } from './self-signed-certificate.js';
import { findFreePort, startServer, type RunningServer } from './server-process.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '../..');

function log(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function ladderSteps(raw: string | undefined): number[] | string {
  if (raw === undefined || raw.trim() === '') return LADDER_STEPS.map((_, i) => i);
  const steps = raw.split(',').map((p) => Number(p.trim()));
  const bad = steps.filter((s) => !Number.isInteger(s) || s < 0 || s >= LADDER_STEPS.length);
  if (bad.length > 0) return `BENCH_LADDER_STEPS: "${raw}" must list rungs from 0 to ${LADDER_STEPS.length - 1}, e.g. BENCH_LADDER_STEPS=0,4,7`;
  return [...new Set(steps)].sort((a, b) => a - b);
}

interface Rung {
  readonly name: string;
  readonly label: string;
  readonly server: RunningServer;
  readonly step: number | null;
}

const whole = (n: number): string => Math.round(n).toLocaleString('en-US');

async function main(): Promise<number> {
  const parsed = readBenchConfig(process.env, readImageNodeOptions(join(REPO_ROOT, 'Dockerfile')));
  const steps = ladderSteps(process.env.BENCH_LADDER_STEPS);
  if (!parsed.ok || typeof steps === 'string') {
    log('Benchmark settings are wrong:');
    for (const e of [...(parsed.ok ? [] : parsed.errors), ...(typeof steps === 'string' ? [steps] : [])]) log(`  - ${e}`);
    return 2;
  }
  const config = parsed.config;
  const body = buildAdmissionBody(config.bodies[0]!);
  const connections = config.connections[0]!;
  const policy = config.policyPath !== null ? resolve(config.policyPath) : join(REPO_ROOT, 'policies/default.yaml');
  const workDir = mkdtempSync(join(tmpdir(), 'secure-defaults-ladder-'));
  const certificate = await createLoopbackCertificate();
  const cert = join(workDir, 'tls.crt');
  const key = join(workDir, 'tls.key');
  writeFileSync(cert, certificate.certPem);
  writeFileSync(key, certificate.keyPem, { mode: 0o600 });
  log(`# ablation ladder: ${body.name} body, ${connections} connections, ${config.durationSeconds}s per run, ${config.rounds} rounds, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (config.nodeFlags.length > 0) log(`node flags for every server: ${config.nodeFlags.join(' ')}`);
  log(`server logs in ${workDir}`);

  const rungs: Rung[] = [];
  const launches: Array<{ name: string; label: string; step: number | null; script: string; extra: string[] }> = [
    { name: 'floor', label: 'floor (bare node:https)', step: null, script: 'servers/floor-server.js', extra: [] },
    { name: 'ceiling', label: 'ceiling (Express)', step: null, script: 'servers/express-ceiling-server.js', extra: [] },
    ...steps.map((step) => ({ name: `rung-${step}`, label: `${step}: ${LADDER_STEPS[step]}`, step, script: 'servers/ablation-ladder-server.js', extra: ['--step', String(step), '--policy', policy] })),
  ];
  try {
    for (const launch of launches) {
      const port = await findFreePort();
      const server = await startServer({
        name: launch.name,
        nodeArgs: [...config.nodeFlags, join(HERE, launch.script), '--port', String(port), '--tls-cert', cert, '--tls-key', key, ...launch.extra],
        port,
        logDir: workDir,
        readyTimeoutMs: 20_000,
      });
      rungs.push({ name: launch.name, label: launch.label, server, step: launch.step });
      // Rungs from 5 on send the real answer, which must carry a patch that applies.
      const verdict = await sanityCheck(port, '/mutate', certificate.certPem, body, launch.step !== null && launch.step >= 5);
      if (verdict.problems.length > 0) throw new Error(`${launch.label}: wrong answer: ${verdict.problems.join('; ')}`);
    }
    const results = new Map<string, LoadMeasurement[]>();
    for (const rung of rungs) {
      if (config.warmupSeconds > 0) await measureLoad({ name: rung.name, pid: rung.server.pid, port: rung.server.port, path: '/mutate' }, body, connections, config.warmupSeconds);
    }
    for (let round = 1; round <= config.rounds; round++) {
      for (const rung of rungs) {
        const m = await measureLoad({ name: rung.name, pid: rung.server.pid, port: rung.server.port, path: '/mutate' }, body, connections, config.durationSeconds);
        results.set(rung.name, [...(results.get(rung.name) ?? []), m]);
        const cpu = cpuMicrosPerRequest(m);
        log(`round ${round} ${rung.name.padEnd(8)} ${whole(m.requestsPerSecond).padStart(6)} req/s  p99 ${m.p99Ms} ms  ${cpu === null ? 'n/a' : whole(cpu)} µs/req  server ${Math.round(m.serverCpuPercent ?? 0)}%  load-gen ${Math.round(m.loadGeneratorCpuPercent)}%  failed ${m.failed}  RSS ${((m.serverRssBytes ?? 0) / 1048576).toFixed(0)} MB`);
        await sleep(300);
      }
      log(`  load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    }
    log('\n| rung | req/s | p99 ms | CPU µs/req (min–max) | vs rung before | RSS after MB | failed |');
    log('|---|---:|---:|---:|---:|---:|---:|');
    let previous: number | null = null;
    for (const rung of rungs) {
      const ms = results.get(rung.name) ?? [];
      const cpus = ms.map(cpuMicrosPerRequest).filter((v): v is number => v !== null);
      const cpu = cpus.length > 0 ? mean(cpus) : null;
      const delta = rung.step !== null && rung.step > 0 && previous !== null && cpu !== null ? `${cpu - previous >= 0 ? '+' : ''}${whole(cpu - previous)}` : '';
      log(
        `| ${rung.label} | ${whole(mean(ms.map((m) => m.requestsPerSecond)))} | ${ms.map((m) => m.p99Ms).join(', ')} | ${cpu === null ? 'n/a' : `${whole(cpu)} (${whole(Math.min(...cpus))}–${whole(Math.max(...cpus))})`} | ${delta} | ${((ms.at(-1)?.serverRssBytes ?? 0) / 1048576).toFixed(0)} | ${ms.reduce((n, m) => n + m.failed, 0)} |`,
      );
      if (rung.step !== null) previous = cpu;
    }
    return 0;
  } finally {
    await Promise.all(rungs.map((r) => r.server.stop()));
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`ladder crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
