// `npm run bench:apiserver`: what a mutating webhook costs a Pod CREATE as the API server sees it.
// One real etcd + kube-apiserver (the e2e rig), one namespace per admission setup (none, a trivial
// fixed-patch webhook, secure-defaults, a MutatingAdmissionPolicy), and closed-loop keep-alive
// clients creating the same typical Deployment Pod in each, in alternating order round after
// round, so the ratios compare runs made seconds apart on the same machine.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImageNodeOptions } from './image-node-options.js';
import { pinToCpu, readCpuSeconds } from './process-stats.js';
import { SETUP_DESCRIPTIONS, webhookNameOf, type SetupName } from './apiserver/admission-setups.js';
import { admissionTimes, type AdmissionTimes } from './apiserver/apiserver-metrics.js';
import { sampleConnections, type ConnectionCount } from './apiserver/connection-sampler.js';
import { readApiServerBenchConfig, type ApiServerBenchConfig } from './apiserver/apiserver-bench-config.js';
import { startApiServerRig, type ApiServerRig, type PreparedSetup } from './apiserver/apiserver-rig.js';
import { formatNumber, formatSpread, ratioOf, runFigures, spread, withinTarget, type RunFigures } from './apiserver/create-summary.js';
import { runCreateLoad, runInterleavedCreates, type CreateLoadResult } from './apiserver/pod-create-load.js';

const DIST_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO_ROOT = resolve(DIST_ROOT, '..');

interface Measurement {
  readonly round: number;
  readonly concurrency: number;
  readonly setup: SetupName;
  readonly dryRun: boolean;
  readonly figures: RunFigures;
  readonly connections: number;
  /** CPU per created Pod, µs: kube-apiserver, etcd, and the setup's webhook process (if any). */
  readonly cpuUs: { readonly apiServer: number; readonly etcd: number; readonly webhook: number | null };
  /** From kube-apiserver's own metrics. */
  readonly admission: AdmissionTimes;
  /** API server → webhook connections during the run; null without a webhook. */
  readonly webhookConnections: ConnectionCount | null;
  readonly firstFailure: string | undefined;
}

function log(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** The pid of the rig's process whose command line names `binary` and the rig's temp folder. */
function findRigPid(binary: string, tempDir: string): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith(`/${binary}`) && argv.some((arg) => arg.includes(tempDir))) return Number(entry);
    } catch {
      // Exited while we looked.
    }
  }
  return null;
}

function label(setup: SetupName, dryRun: boolean): string {
  return dryRun ? `${setup} (dryRun=All)` : setup;
}

/** The setup's pods URL, with ?dryRun=All for dry-run rows. */
function podsUrlOf(setup: PreparedSetup, dryRun: boolean): URL {
  const url = new URL(setup.podsUrl);
  if (dryRun) url.searchParams.set('dryRun', 'All');
  return url;
}

/** CPU µs per created Pod of process `pid` since `before` (its CPU seconds then), or NaN when it cannot be told. */
function cpuUsPerCreate(pid: number | null, before: number | null | undefined | 0, created: number): number {
  if (pid === null || !before || created === 0) return Number.NaN;
  const after = readCpuSeconds(pid);
  return after === null ? Number.NaN : ((after - before) * 1e6) / created;
}

/** What one measured run of one setup came to. */
interface RunOutcome {
  readonly result: CreateLoadResult;
  readonly figures: RunFigures;
  readonly cpuUs: Measurement['cpuUs'];
  readonly admission: AdmissionTimes;
  readonly webhookConnections: ConnectionCount | null;
}

async function measure(
  rig: ApiServerRig,
  setup: PreparedSetup,
  concurrency: number,
  config: ApiServerBenchConfig,
  dryRun: boolean,
  pids: { apiServer: number | null; etcd: number | null; webhook: number | null },
  profileFile: string | null,
): Promise<RunOutcome> {
  const url = podsUrlOf(setup, dryRun);
  const webhookPort = rig.webhooks.find((webhook) => webhook.pid === pids.webhook)?.port;
  const metricsBefore = await rig.metrics();
  const sampler = webhookPort === undefined ? undefined : sampleConnections(webhookPort);
  const cpuBefore = { apiServer: pids.apiServer && readCpuSeconds(pids.apiServer), etcd: pids.etcd && readCpuSeconds(pids.etcd), webhook: pids.webhook && readCpuSeconds(pids.webhook) };
  // Whole seconds inside the run, so the profile holds load only.
  const profile = profileFile === null ? null : rig.cpuProfile(Math.max(1, Math.floor(config.durationSeconds)));
  const result = await runCreateLoad({
    url,
    body: rig.podBody,
    credentials: rig.credentials,
    concurrency,
    maxRequests: config.maxCreates,
    maxDurationMs: config.durationSeconds * 1000,
    requestTimeoutMs: 30_000,
  });
  const webhookConnections = sampler === undefined ? null : sampler.stop();
  if (profile !== null && profileFile !== null) await writeFile(profileFile, await profile);
  const admission = admissionTimes(metricsBefore, await rig.metrics(), result.created, webhookNameOf(setup.name));
  const cpuUs = {
    apiServer: cpuUsPerCreate(pids.apiServer, cpuBefore.apiServer, result.created),
    etcd: cpuUsPerCreate(pids.etcd, cpuBefore.etcd, result.created),
    webhook: pids.webhook === null ? null : cpuUsPerCreate(pids.webhook, cpuBefore.webhook, result.created),
  };
  return { result, figures: runFigures(result.latenciesUs, result.failed, result.elapsedMs), cpuUs, admission, webhookConnections };
}

/**
 * One interleaved one-client run over every setup (pod-create-load.ts, runInterleavedCreates).
 * Each webhook's CPU and the API server's call to it are its own; kube-apiserver's and etcd's CPU
 * and the mutating step are shared by all setups, so they are left out (NaN) per setup.
 */
async function measureInterleaved(
  rig: ApiServerRig,
  config: ApiServerBenchConfig,
  dryRun: boolean,
  profileFile: string | null,
): Promise<(RunOutcome & { readonly setup: PreparedSetup })[]> {
  const urls = rig.setups.map((setup) => podsUrlOf(setup, dryRun));
  const webhookPids = rig.setups.map((setup) => webhookPidOf(rig, setup.name));
  const samplers = webhookPids.map((pid) => {
    const port = rig.webhooks.find((webhook) => webhook.pid === pid)?.port;
    return port === undefined ? undefined : sampleConnections(port);
  });
  const metricsBefore = await rig.metrics();
  const cpuBefore = webhookPids.map((pid) => (pid === null ? null : readCpuSeconds(pid)));
  const profile = profileFile === null ? null : rig.cpuProfile(Math.max(1, Math.floor(config.durationSeconds * rig.setups.length)));
  const results = await runInterleavedCreates({
    urls,
    body: rig.podBody,
    credentials: rig.credentials,
    maxRequestsPerUrl: config.maxCreates,
    // The same time per setup as separate runs would have.
    maxDurationMs: config.durationSeconds * 1000 * rig.setups.length,
    requestTimeoutMs: 30_000,
  });
  const connections = samplers.map((sampler) => (sampler === undefined ? null : sampler.stop()));
  if (profile !== null && profileFile !== null) await writeFile(profileFile, await profile);
  const metricsAfter = await rig.metrics();
  return rig.setups.map((setup, index) => {
    const result = results[index]!;
    const pid = webhookPids[index]!;
    const webhook = pid === null ? null : cpuUsPerCreate(pid, cpuBefore[index], result.created);
    const times = admissionTimes(metricsBefore, metricsAfter, result.created, webhookNameOf(setup.name));
    return {
      setup,
      result,
      figures: runFigures(result.latenciesUs, result.failed, result.elapsedMs),
      cpuUs: { apiServer: Number.NaN, etcd: Number.NaN, webhook },
      admission: { ...times, mutatingStepMs: Number.NaN, policyPluginMs: Number.NaN },
      webhookConnections: connections[index] ?? null,
    };
  });
}

function webhookPidOf(rig: ApiServerRig, setup: SetupName): number | null {
  const name = setup === 'trivial' ? 'trivial-webhook' : setup === 'replay' ? 'replay-webhook' : setup === 'secure-defaults' ? 'secure-defaults' : null;
  return rig.webhooks.find((webhook) => webhook.name === name)?.pid ?? null;
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

function webhookColumn(runs: readonly Measurement[]): string {
  const connections = runs.map((m) => m.webhookConnections).filter((value): value is ConnectionCount => value !== null);
  if (connections.length === 0) return '–';
  const opened = connections.reduce((sum, count) => sum + count.opened, 0);
  return `${formatSpread(runs.map((m) => m.admission.webhookCallMs), 2)} (${formatNumber(spread(runs.map((m) => m.admission.webhookCallsPerCreate)).mean, 2)}; ${Math.max(...connections.map((count) => count.seen))} conns, ${opened} new)`;
}

const RATIO_PAIRS: readonly (readonly [SetupName, SetupName])[] = [
  ['secure-defaults', 'trivial'],
  ['secure-defaults', 'none'],
  ['trivial', 'none'],
  ['policy', 'trivial'],
  ['policy', 'none'],
  ['secure-defaults', 'policy'],
  ['replay', 'trivial'],
  ['secure-defaults', 'replay'],
];

function report(measurements: readonly Measurement[], config: ApiServerBenchConfig, setups: readonly SetupName[]): void {
  const modes = config.dryRun ? [false, true] : [false];
  log('\n## Pod creates through kube-apiserver (mean over rounds, min–max in parentheses)\n');
  log('| clients | setup | creates/s | p50 ms | p99 ms | failed | client conns | CPU per create: kube-apiserver / etcd / webhook µs | mutating admission ms/create | webhook call ms (calls/create; API server → webhook conns, new in all rounds) |');
  log('|---:|---|---:|---:|---:|---:|---:|---|---:|---|');
  for (const concurrency of config.concurrency) {
    for (const dryRun of modes) {
      for (const setup of setups) {
        const runs = measurements.filter((m) => m.concurrency === concurrency && m.setup === setup && m.dryRun === dryRun);
        if (runs.length === 0) continue;
        const webhookCpu = runs.map((m) => m.cpuUs.webhook).filter((value): value is number => value !== null);
        log(
          `| ${concurrency} | ${label(setup, dryRun)} | ${formatSpread(runs.map((m) => m.figures.createsPerSecond), 0)} | ${formatSpread(runs.map((m) => m.figures.p50Ms), 1)} | ` +
            `${formatSpread(runs.map((m) => m.figures.p99Ms), 1)} | ${runs.reduce((sum, m) => sum + m.figures.failed, 0)} | ${[...new Set(runs.map((m) => m.connections))].join(', ')} | ` +
            `${formatNumber(spread(runs.map((m) => m.cpuUs.apiServer)).mean, 0)} / ${formatNumber(spread(runs.map((m) => m.cpuUs.etcd)).mean, 0)} / ${webhookCpu.length > 0 ? formatNumber(spread(webhookCpu).mean, 0) : '–'} | ` +
            `${formatSpread(runs.map((m) => m.admission.mutatingStepMs), 2)} | ${webhookColumn(runs)} |`,
        );
      }
    }
  }

  log('\n## Ratios, per round from runs seconds apart (mean, min–max)\n');
  log('throughput = creates/s of the first ÷ the second (above 1: faster); p99 = p99 of the first ÷ the second (above 1: slower)\n');
  log('| clients | ratio | throughput | p99 |');
  log('|---:|---|---:|---:|');
  const verdicts: string[] = [];
  for (const concurrency of config.concurrency) {
    for (const dryRun of modes) {
      for (const [subject, baseline] of RATIO_PAIRS) {
        if (!setups.includes(subject) || !setups.includes(baseline)) continue;
        const ratios = [];
        for (let round = 1; round <= config.rounds; round += 1) {
          const find = (setup: SetupName) => measurements.find((m) => m.round === round && m.concurrency === concurrency && m.setup === setup && m.dryRun === dryRun);
          const a = find(subject);
          const b = find(baseline);
          if (a && b && a.figures.created > 0 && b.figures.created > 0) ratios.push(ratioOf(a.figures, b.figures));
        }
        if (ratios.length === 0) continue;
        log(`| ${concurrency} | ${label(subject, dryRun)} / ${baseline} | ${formatSpread(ratios.map((r) => r.throughput), 3)} | ${formatSpread(ratios.map((r) => r.p99), 3)} |`);
        if (subject === 'secure-defaults' && baseline === 'trivial' && !dryRun) {
          const mean = { throughput: spread(ratios.map((r) => r.throughput)).mean, p99: spread(ratios.map((r) => r.p99)).mean };
          verdicts.push(
            `${concurrency} clients: secure-defaults/trivial throughput ${formatNumber(mean.throughput, 3)}, p99 ${formatNumber(mean.p99, 3)} → ` +
              `${withinTarget(mean) ? 'within' : 'NOT within'} 5% of the trivial webhook`,
          );
        }
      }
    }
  }
  if (verdicts.length > 0) {
    log('\n## Target (issue 14): secure-defaults within 5% of the trivial webhook, throughput and p99 (round means)\n');
    for (const verdict of verdicts) log(`- ${verdict}`);
  }
}

function logRun(
  concurrency: number,
  setup: SetupName,
  dryRun: boolean,
  run: RunOutcome,
): void {
  const { result, figures, cpuUs, admission, webhookConnections } = run;
  const shared = Number.isNaN(cpuUs.apiServer) ? ' (API server CPU: shared by the interleaved setups)' : ` CPU/create apiserver ${formatNumber(cpuUs.apiServer, 0)} µs, etcd ${formatNumber(cpuUs.etcd, 0)} µs`;
  log(
    `  ${String(concurrency).padStart(3)} clients ${label(setup, dryRun).padEnd(28)} ${formatNumber(figures.createsPerSecond, 0).padStart(6)} creates/s  p50 ${formatNumber(figures.p50Ms, 1)} ms  p99 ${formatNumber(figures.p99Ms, 1)} ms  ` +
      `${figures.failed} failed  ${result.connectionsOpened} conns ${shared}${cpuUs.webhook === null ? '' : `, webhook ${formatNumber(cpuUs.webhook, 0)} µs`}`,
  );
  log(
    `      API server's view: mutating admission ${formatNumber(admission.mutatingStepMs, 2)} ms/create` +
      (webhookConnections === null ? '' : `, webhook call ${formatNumber(admission.webhookCallMs, 2)} ms × ${formatNumber(admission.webhookCallsPerCreate, 2)} per create over ${webhookConnections.seen} connections (${webhookConnections.opened} new)`) +
      (setup === 'policy' ? `, MutatingAdmissionPolicy plugin ${formatNumber(admission.policyPluginMs, 2)} ms/create` : ''),
  );
  if (result.firstFailure) log(`      first failure: ${result.firstFailure}`);
}

async function main(): Promise<number> {
  const parsed = readApiServerBenchConfig(process.env, readImageNodeOptions(join(REPO_ROOT, 'Dockerfile')));
  if (!parsed.ok) {
    for (const error of parsed.errors) process.stderr.write(`${error}\n`);
    return 2;
  }
  const config = parsed.config.profileDir === null ? parsed.config : { ...parsed.config, profileDir: resolve(parsed.config.profileDir) };
  if (config.profileDir !== null) await mkdir(config.profileDir, { recursive: true });
  const logDir = await mkdtemp(join(tmpdir(), 'secure-defaults-apibench-'));
  log(`# Pod CREATE through kube-apiserver: ${config.setups.join(', ')}`);
  log(`node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}; webhook logs in ${logDir}`);
  if (config.profileDir !== null) log(`kube-apiserver CPU profile of every run in ${config.profileDir} (go tool pprof -top -diff_base=A.pprof B.pprof)`);
  log(`${config.rounds} rounds × clients ${config.concurrency.join('/')} × ${config.durationSeconds} s (at most ${config.maxCreates} creates) per setup${config.dryRun ? ', plus dryRun=All runs' : ''}; our webhook at --log-level ${config.logLevel}; node flags: ${config.nodeFlags.join(' ') || 'none'}`);

  const rig = await startApiServerRig({
    setups: config.setups,
    distRoot: DIST_ROOT,
    policyFile: config.policyPath ?? join(REPO_ROOT, 'policies', 'default.yaml'),
    nodeFlags: config.nodeFlags,
    logLevel: config.logLevel,
    logDir,
    log,
  });
  const stopRig = (): void => {
    void rig.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopRig);
  try {
    for (const missing of rig.unavailable) log(`skipped ${missing.name}: ${missing.reason}`);
    for (const setup of rig.setups) log(`  ${setup.namespace}: ${SETUP_DESCRIPTIONS[setup.name]}`);
    const problems = await rig.checkSetups();
    if (problems.length > 0) {
      process.stderr.write(`the harness would measure the wrong thing; a Pod created in each namespace shows:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
      return 1;
    }
    log('harness check: each namespace\'s Pod got exactly its setup\'s changes');

    const pids = { apiServer: findRigPid('kube-apiserver', rig.plane.tempDir), etcd: findRigPid('etcd', rig.plane.tempDir) };
    if (pids.apiServer === null) log('(could not find the kube-apiserver process in /proc: no API server CPU figures)');
    const modes = config.dryRun ? [false, true] : [false];
    if (config.pinCpus) {
      if (cpus().length < 2 || pids.apiServer === null || pids.etcd === null) throw new Error('BENCH_APISERVER_PIN needs 2 CPUs and the kube-apiserver and etcd processes found in /proc');
      pinToCpu(pids.apiServer, 0);
      pinToCpu(pids.etcd, 0);
      for (const webhook of rig.webhooks) pinToCpu(webhook.pid, 1);
      pinToCpu(process.pid, 1);
      log('pinned: kube-apiserver and etcd on CPU 0; webhooks and load clients on CPU 1 (other processes on the machine are not)');
    }

    if (config.warmupSeconds > 0) {
      for (const setup of rig.setups) {
        await runCreateLoad({ url: setup.podsUrl, body: rig.podBody, credentials: rig.credentials, concurrency: Math.max(...config.concurrency), maxRequests: config.maxCreates, maxDurationMs: config.warmupSeconds * 1000, requestTimeoutMs: 30_000 });
        await rig.deletePods(setup.namespace);
      }
      log(`warm-up: ${config.warmupSeconds} s of creates per setup`);
    }

    const measurements: Measurement[] = [];
    for (let round = 1; round <= config.rounds; round += 1) {
      log(`\nround ${round} (load average ${loadavg()[0]!.toFixed(2)})`);
      for (const [index, concurrency] of config.concurrency.entries()) {
        if (concurrency === 1 && config.interleave) {
          for (const dryRun of modes) {
            const profileFile = config.profileDir === null ? null : join(config.profileDir, `round${round}-1client-interleaved${dryRun ? '-dryrun' : ''}.pprof`);
            for (const run of await measureInterleaved(rig, config, dryRun, profileFile)) {
              measurements.push({ round, concurrency, setup: run.setup.name, dryRun, figures: run.figures, connections: run.result.connectionsOpened, cpuUs: run.cpuUs, admission: run.admission, webhookConnections: run.webhookConnections, firstFailure: run.result.firstFailure });
              logRun(concurrency, run.setup.name, dryRun, run);
            }
            for (const setup of rig.setups) await rig.deletePods(setup.namespace);
            const dead = rig.deadWebhooks();
            if (dead.length > 0) throw new Error(`a webhook died during the run: ${dead.join('; ')}`);
          }
          continue;
        }
        for (const setup of rotate(rig.setups, round - 1 + index)) {
          for (const dryRun of modes) {
            const profileFile = config.profileDir === null ? null : join(config.profileDir, `round${round}-${concurrency}clients-${setup.name}${dryRun ? '-dryrun' : ''}.pprof`);
            const { result, figures, cpuUs, admission, webhookConnections } = await measure(rig, setup, concurrency, config, dryRun, { ...pids, webhook: webhookPidOf(rig, setup.name) }, profileFile);
            measurements.push({ round, concurrency, setup: setup.name, dryRun, figures, connections: result.connectionsOpened, cpuUs, admission, webhookConnections, firstFailure: result.firstFailure });
            logRun(concurrency, setup.name, dryRun, { result, figures, cpuUs, admission, webhookConnections });
            await rig.deletePods(setup.namespace);
            const dead = rig.deadWebhooks();
            if (dead.length > 0) throw new Error(`a webhook died during the run: ${dead.join('; ')}`);
          }
        }
      }
    }
    const after = await rig.checkSetups();
    if (after.length > 0) {
      process.stderr.write(`after the rounds, the harness check failed:\n${after.map((p) => `  ${p}`).join('\n')}\n`);
      return 1;
    }
    report(measurements, config, rig.setups.map((setup) => setup.name));
    log(`\nload average at the end ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
    return 0;
  } finally {
    process.off('SIGINT', stopRig);
    await rig.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
