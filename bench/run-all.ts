// `npm run bench`: loads the floor (bare node:https), the Express ceiling and our webhook in turn
// with the same AdmissionReview bodies over the same keep-alive TLS, and prints how ours compares.
//
// Each server is its own child process; autocannon runs here, in the parent's main thread. On two
// cores that is the least distorting split: one core for the server, one for the load generator.
// The parent does nothing else while a run lasts, so a separate load-generator process would only
// add a process and IPC, and autocannon's worker threads would take CPU from the server under test.
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { readImageNodeOptions } from './image-node-options.js';
import { readBenchConfig, type BenchConfig, type TargetName } from './bench-config.js';
import { buildAdmissionBody, type AdmissionBody } from './bodies/admission-review-bodies.js';
import { sanityCheck } from './admission-sanity-check.js';
import { createLoopbackCertificate } from './self-signed-certificate.js';
import { findFreePort, ServerStartError, startServer, tail, type RunningServer } from './server-process.js';
import { measureLoad, type LoadTarget } from './load-run.js';
import { readRssBytes } from './process-stats.js';
import { formatRunLine, summaryTables, type RoundMeasurement, type RssSample } from './results-report.js';
import { readCpuProfile, summarizeCpuProfile, formatProfileSummary } from './cpu-profile-summary.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '../..');
const OUR_SERVER_MAIN = join(REPO_ROOT, 'dist/src/cli/main.js');

interface StartedTarget extends LoadTarget {
  readonly server: RunningServer;
  /** Whether the sanity check holds it to our webhook's standard (a patch where one is needed). */
  readonly expectsWork: boolean;
}

class BenchAbort extends Error {}

function log(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Our webhook as built in the BENCH_BASELINE checkout. */
function baselineMain(config: BenchConfig): string {
  return join(resolve(config.baselineRoot ?? '.'), 'dist/src/cli/main.js');
}

function preflight(config: BenchConfig, policyPath: string): string[] {
  const problems: string[] = [];
  if (config.targets.includes('baseline') && !existsSync(baselineMain(config))) {
    problems.push(`BENCH_BASELINE: ${baselineMain(config)} does not exist: run \`npm ci && npm run build\` in that checkout`);
  }
  if (!config.targets.includes('ours')) return problems;
  if (!existsSync(OUR_SERVER_MAIN)) {
    problems.push(`${OUR_SERVER_MAIN} does not exist: run \`npm run build\` (the webhook's serve command must be built), or bench only the references with BENCH_TARGETS=floor,ceiling`);
  }
  if (!existsSync(policyPath)) {
    problems.push(`policy file ${policyPath} does not exist: set BENCH_POLICY to a policy YAML file, or bench only the references with BENCH_TARGETS=floor,ceiling`);
  }
  return problems;
}

function launchArguments(target: TargetName, config: BenchConfig, files: { cert: string; key: string; policy: string; profileDir: string }, port: number): string[] {
  const tls = ['--port', String(port), '--tls-cert', files.cert, '--tls-key', files.key];
  switch (target) {
    case 'floor':
      return [...config.nodeFlags, join(HERE, 'servers/floor-server.js'), ...tls];
    case 'ceiling':
      return [...config.nodeFlags, join(HERE, 'servers/express-ceiling-server.js'), ...tls];
    case 'hosted-ceiling':
      return [...config.nodeFlags, join(HERE, 'servers/express-ceiling-server.js'), ...tls, '--prototype-ready'];
    case 'baseline':
    case 'ours':
      return [
        ...config.nodeFlags,
        ...(config.profile && target === 'ours' ? ['--cpu-prof', `--cpu-prof-dir=${files.profileDir}`] : []),
        target === 'ours' ? OUR_SERVER_MAIN : baselineMain(config),
        'serve',
        '--policy',
        files.policy,
        ...tls,
        '--host',
        '127.0.0.1',
        // No lingering after SIGTERM: nothing routes traffic here, and the profile is written at exit.
        '--shutdown-delay',
        '0',
        ...(config.oursLogLevel !== null ? ['--log-level', config.oursLogLevel] : []),
      ];
  }
}

async function checkAnswers(targets: readonly StartedTarget[], bodies: readonly AdmissionBody[], caPem: string, when: string, warnings: Set<string>): Promise<void> {
  const problems: string[] = [];
  for (const target of targets) {
    for (const body of bodies) {
      const verdict = await sanityCheck(target.port, target.path, caPem, body, target.expectsWork);
      if (when === 'before load') log(`  ${target.name.padEnd(7)} ${body.name.padEnd(16)} ${verdict.problems.length === 0 ? 'ok' : 'WRONG'}: ${verdict.summary}`);
      problems.push(...verdict.problems.map((p) => `${target.name} / ${body.name}: ${p}`));
      for (const w of verdict.warnings) warnings.add(`${target.name} / ${body.name}: ${w}`);
    }
  }
  if (problems.length > 0) {
    throw new BenchAbort(`Sanity check ${when} FAILED; numbers for wrong answers mean nothing, so the run stops here:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function assertAlive(targets: readonly StartedTarget[]): void {
  for (const t of targets) {
    const status = t.server.exitStatus();
    if (status !== null) throw new BenchAbort(`${t.name} (pid ${t.pid}) stopped (${status}) during the benchmark; its stderr ends with:\n${tail(t.server.stderrFile)}`);
  }
}

function newestProfile(dir: string): string | null {
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return files[0] ?? null;
}

async function main(): Promise<number> {
  const parsed = readBenchConfig(process.env, readImageNodeOptions(join(REPO_ROOT, 'Dockerfile')));
  if (!parsed.ok) {
    log('Benchmark settings are wrong:');
    for (const e of parsed.errors) log(`  - ${e}`);
    return 2;
  }
  const config = parsed.config;
  const policyPath = config.policyPath !== null ? resolve(config.policyPath) : join(REPO_ROOT, 'policies/default.yaml');
  const preflightProblems = preflight(config, policyPath);
  if (preflightProblems.length > 0) {
    log('Cannot start the benchmark:');
    for (const p of preflightProblems) log(`  - ${p}`);
    return 2;
  }

  const workDir = mkdtempSync(join(tmpdir(), 'secure-defaults-bench-'));
  const profileDir = config.profileDir !== null ? resolve(config.profileDir) : join(workDir, 'profiles');
  const certificate = await createLoopbackCertificate();
  const files = { cert: join(workDir, 'tls.crt'), key: join(workDir, 'tls.key'), policy: policyPath, profileDir };
  writeFileSync(files.cert, certificate.certPem);
  writeFileSync(files.key, certificate.keyPem, { mode: 0o600 });

  const bodies = config.bodies.map(buildAdmissionBody);
  log(`# secure-defaults admission benchmark`);
  log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (config.nodeFlags.length > 0) log(`node flags for every server: ${config.nodeFlags.join(' ')} (BENCH_NODE_FLAGS; default: the Dockerfile's NODE_OPTIONS)`);
  log(`duration ${config.durationSeconds}s per run, warm-up ${config.warmupSeconds}s, connections ${config.connections.join(',')}, rounds ${config.rounds}, targets ${config.targets.join(',')}`);
  log(`working files (certificate, server logs) in ${workDir}`);
  for (const b of bodies) {
    log(`body ${b.name}: ${b.description}; ${b.containerCount} containers, ${(b.sizeBytes / 1024).toFixed(1)} KiB, ${b.variantsPerConnection} distinct uids per connection`);
  }
  if (config.profile) log(`PROFILING our server (--cpu-prof into ${profileDir}): its numbers are slowed by the profiler; do not compare them with unprofiled runs.`);
  log();

  const started: StartedTarget[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.map((t) => t.server.stop()));
  };
  const onSignal = (): void => {
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const measurements: RoundMeasurement[] = [];
  const rssTimeline: RssSample[] = [];
  const warnings = new Set<string>();
  try {
    for (const name of config.targets) {
      const port = await findFreePort();
      const server = await startServer({ name, nodeArgs: launchArguments(name, config, files, port), port, logDir: workDir, readyTimeoutMs: 20_000 });
      const oursOrBaseline = name === 'ours' || name === 'baseline';
      started.push({ name, pid: server.pid, port, path: oursOrBaseline ? config.oursPath : '/mutate', server, expectsWork: oursOrBaseline });
      log(`started ${name} (pid ${server.pid}) on https://127.0.0.1:${port}`);
    }
    const ours = started.find((t) => t.name === 'ours');
    if (ours) rssTimeline.push({ label: 'idle at start', bytes: readRssBytes(ours.pid) });

    log('\nSanity check (one request per server and body, certificate verified):');
    await checkAnswers(started, bodies, certificate.certPem, 'before load', warnings);

    if (config.warmupSeconds > 0) {
      log(`\nWarm-up: ${config.warmupSeconds}s per server and body at ${config.connections[0]} connections (not measured)`);
      for (const target of started) {
        for (const body of bodies) await measureLoad(target, body, config.connections[0]!, config.warmupSeconds);
      }
      if (ours) rssTimeline.push({ label: 'after warm-up', bytes: readRssBytes(ours.pid) });
    }

    for (let round = 1; round <= config.rounds; round++) {
      log(`\nRound ${round} of ${config.rounds}`);
      for (const body of bodies) {
        for (const connections of config.connections) {
          for (const target of started) {
            assertAlive(started);
            const m = { ...(await measureLoad(target, body, connections, config.durationSeconds)), round };
            measurements.push(m);
            log(formatRunLine(m));
            await checkAnswers([target], [body], certificate.certPem, `after ${target.name} ${body.name} c=${connections} round ${round}`, warnings);
            // Let the closed connections drain before the next server is loaded.
            await sleep(300);
          }
        }
      }
      if (ours) rssTimeline.push({ label: `after round ${round}`, bytes: readRssBytes(ours.pid) });
    }
  } catch (error) {
    if (!(error instanceof BenchAbort) && !(error instanceof ServerStartError)) throw error;
    log(`\n!!! ${error.message}`);
    if (measurements.length > 0) log(`\nPartial results:\n\n${summaryTables(measurements, config.targets, rssTimeline)}`);
    return 1;
  } finally {
    await stopAll();
  }

  log('\n## Results\n');
  log(summaryTables(measurements, config.targets, rssTimeline));
  if (warnings.size > 0) {
    log('\nWarnings:');
    for (const w of warnings) log(`  - ${w}`);
  }

  if (config.profile) {
    const profile = newestProfile(profileDir);
    if (profile === null) {
      log(`\nNo .cpuprofile in ${profileDir}: node writes it only when the process exits normally, so our server must exit on SIGTERM (not be killed).`);
    } else {
      log(`\n## Where our server spends its time (${profile})\n`);
      log(formatProfileSummary(summarizeCpuProfile(readCpuProfile(profile)), 15));
    }
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`benchmark crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
