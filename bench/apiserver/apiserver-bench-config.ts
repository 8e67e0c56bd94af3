// What one `npm run bench:apiserver` measures, read from the environment once; every bad value is
// reported with its variable and an example, all at once, before anything starts.
import { flag, integerList, nameList, nodeFlagList, optionalText, positiveInteger, positiveNumber, type Env } from '../bench-config.js';
import { ALL_SETUP_NAMES, SETUP_NAMES, type SetupName } from './admission-setups.js';

export interface ApiServerBenchConfig {
  readonly setups: readonly SetupName[];
  /** Concurrent keep-alive clients, one set of runs each. */
  readonly concurrency: readonly number[];
  /** Seconds of load per (round, concurrency, setup)... */
  readonly durationSeconds: number;
  /** ...and at most this many creates in it (etcd holds them until the Pods are deleted after the run). */
  readonly maxCreates: number;
  readonly rounds: number;
  /** Seconds of unmeasured creates per setup before round 1. */
  readonly warmupSeconds: number;
  /** Also load each setup with ?dryRun=All (admission runs, nothing is stored), as extra rows. */
  readonly dryRun: boolean;
  /**
   * Pin kube-apiserver and etcd to CPU 0, the webhooks and the load clients to CPU 1, so a
   * webhook's CPU no longer comes out of the API server's, as on a cluster where it has its own node.
   */
  readonly pinCpus: boolean;
  /**
   * One-client runs take the setups in turn request by request, in one run per round, instead of
   * each setup for its own BENCH_APISERVER_DURATION: load on the machine that comes and goes then
   * hits every setup alike. API server CPU and the mutating step can then only be told for all
   * setups together.
   */
  readonly interleave: boolean;
  /** Our webhook's --log-level; the chart's default is info. */
  readonly logLevel: string;
  readonly policyPath: string | null;
  readonly nodeFlags: readonly string[];
  /**
   * Folder for a CPU profile of kube-apiserver taken during every measured run (its
   * /debug/pprof/profile, read with `go tool pprof`), or null: where the API server's own CPU
   * per create goes, e.g. what applying one webhook's answer costs it beside another's.
   */
  readonly profileDir: string | null;
}

export type ApiServerBenchConfigResult =
  | { readonly ok: true; readonly config: ApiServerBenchConfig }
  | { readonly ok: false; readonly errors: readonly string[] };

const LOG_LEVELS = ['error', 'warn', 'info', 'debug'];

export function readApiServerBenchConfig(env: Env, imageNodeFlags: readonly string[] = []): ApiServerBenchConfigResult {
  const errors: string[] = [];
  const logLevel = optionalText(env, 'BENCH_LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) errors.push(`BENCH_LOG_LEVEL: "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}; set e.g. BENCH_LOG_LEVEL=info`);
  const config: ApiServerBenchConfig = {
    setups: env['BENCH_APISERVER_SETUPS']?.trim() ? nameList(env, 'BENCH_APISERVER_SETUPS', ALL_SETUP_NAMES, errors) : SETUP_NAMES,
    concurrency: integerList(env, 'BENCH_APISERVER_CONCURRENCY', [1, 8, 32], errors),
    durationSeconds: positiveNumber(env, 'BENCH_APISERVER_DURATION', 6, errors),
    maxCreates: positiveInteger(env, 'BENCH_APISERVER_MAX_CREATES', 4000, errors),
    rounds: positiveInteger(env, 'BENCH_APISERVER_ROUNDS', 3, errors),
    warmupSeconds: positiveNumber(env, 'BENCH_APISERVER_WARMUP', 3, errors, true),
    dryRun: flag(env, 'BENCH_APISERVER_DRY_RUN', errors),
    pinCpus: flag(env, 'BENCH_APISERVER_PIN', errors),
    interleave: flag(env, 'BENCH_APISERVER_INTERLEAVE', errors),
    logLevel,
    policyPath: optionalText(env, 'BENCH_POLICY'),
    nodeFlags: nodeFlagList(env, 'BENCH_NODE_FLAGS', imageNodeFlags, errors),
    profileDir: optionalText(env, 'BENCH_APISERVER_PROFILE'),
  };
  if (config.setups.includes('replay') && !config.setups.includes('secure-defaults')) {
    errors.push('BENCH_APISERVER_SETUPS: replay repeats the answer of secure-defaults; add secure-defaults too (e.g. BENCH_APISERVER_SETUPS=trivial,secure-defaults,replay)');
  }
  if (config.concurrency.some((value) => value > 256)) errors.push('BENCH_APISERVER_CONCURRENCY: at most 256 clients (the API server admits 200 mutating requests at once by default); set e.g. 1,8,32');
  if (config.durationSeconds > 300) errors.push(`BENCH_APISERVER_DURATION: ${config.durationSeconds} s is more than the 300 s a run may last; set e.g. BENCH_APISERVER_DURATION=6`);
  if (config.profileDir !== null && config.durationSeconds < 1) errors.push(`BENCH_APISERVER_PROFILE: the API server profiles whole seconds; with it set BENCH_APISERVER_DURATION to at least 1 (now ${config.durationSeconds})`);
  if (config.maxCreates > 50_000) errors.push(`BENCH_APISERVER_MAX_CREATES: ${config.maxCreates} Pods per run would grow etcd past what a test machine should hold; set e.g. 4000`);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config };
}
