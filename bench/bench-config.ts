// What one `npm run bench` measures, read from the environment once. Every bad value is reported
// with the variable's name and an example of a good one, and all of them at once, so a long run
// never starts half-configured.

/**
 * floor and ceiling are the references the performance issue defines; hosted-ceiling is the
 * ceiling with req/res built with the app's prototypes, as our webhook hosts Express
 * (src/server/express-request-classes.ts), so that ours/ceiling above 1 is not mistaken for doing
 * less than Express.
 */
export const TARGET_NAMES = ['floor', 'ceiling', 'hosted-ceiling', 'baseline', 'ours'] as const;
/** Benched unless BENCH_TARGETS names them: `baseline` needs BENCH_BASELINE. */
const DEFAULT_TARGETS: readonly TargetName[] = ['floor', 'ceiling', 'hosted-ceiling', 'ours'];
export type TargetName = (typeof TARGET_NAMES)[number];

export const BODY_NAMES = ['typical', 'fifty-containers', 'hardened'] as const;
export type BodyName = (typeof BODY_NAMES)[number];

export interface BenchConfig {
  /** Seconds of load per (round, body, connections, target). */
  readonly durationSeconds: number;
  /** Seconds of unmeasured load per (target, body) before round 1, so JIT and caches are warm. */
  readonly warmupSeconds: number;
  readonly connections: readonly number[];
  readonly bodies: readonly BodyName[];
  readonly targets: readonly TargetName[];
  readonly rounds: number;
  /** Start our server under `node --cpu-prof` and summarize the profile at the end. */
  readonly profile: boolean;
  /** Where --cpu-prof writes; null lets the harness pick a fresh temporary folder. */
  readonly profileDir: string | null;
  /** Policy file given to our server; null means the repository's policies/default.yaml. */
  readonly policyPath: string | null;
  /**
   * A checkout of this repository at another commit, built (`npm run build`), benched as target
   * `baseline` beside `ours` with the same flags: before/after figures from one run.
   */
  readonly baselineRoot: string | null;
  /** URL path our webhook answers AdmissionReviews on. */
  readonly oursPath: string;
  /** Passed to our server as --log-level when set; otherwise the server's own default applies. */
  readonly oursLogLevel: string | null;
  /**
   * Node/V8 flags given to every server alike (floor, ceiling and ours): by default the image's
   * NODE_OPTIONS, so ours runs as shipped and the references get the same heap settings.
   */
  readonly nodeFlags: readonly string[];
}

export type BenchConfigResult =
  | { readonly ok: true; readonly config: BenchConfig }
  | { readonly ok: false; readonly errors: readonly string[] };

export type Env = Readonly<Record<string, string | undefined>>;

export function positiveNumber(env: Env, name: string, fallback: number, errors: string[], allowZero = false): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  const ok = Number.isFinite(value) && (allowZero ? value >= 0 : value > 0);
  if (!ok) {
    errors.push(`${name}: "${raw}" is not a ${allowZero ? 'non-negative' : 'positive'} number of seconds; set e.g. ${name}=${fallback}`);
  }
  return ok ? value : fallback;
}

export function positiveInteger(env: Env, name: string, fallback: number, errors: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    errors.push(`${name}: "${raw}" is not a positive whole number; set e.g. ${name}=${fallback}`);
    return fallback;
  }
  return value;
}

export function integerList(env: Env, name: string, fallback: readonly number[], errors: string[]): readonly number[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const parts = raw.split(',').map((p) => p.trim());
  const values = parts.map(Number);
  const bad = parts.filter((p, i) => !Number.isInteger(values[i]) || (values[i] ?? 0) < 1);
  if (bad.length > 0 || parts.length === 0) {
    errors.push(`${name}: "${raw}" must be a comma-separated list of positive whole numbers (bad: ${bad.map((b) => `"${b}"`).join(', ')}); set e.g. ${name}=${fallback.join(',')}`);
    return fallback;
  }
  return [...new Set(values)];
}

export function nameList<T extends string>(env: Env, name: string, allowed: readonly T[], errors: string[], fallback: readonly T[] = allowed): readonly T[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const parts = raw.split(',').map((p) => p.trim()).filter((p) => p !== '');
  const unknown = parts.filter((p) => !(allowed as readonly string[]).includes(p));
  if (unknown.length > 0 || parts.length === 0) {
    errors.push(`${name}: unknown ${unknown.map((u) => `"${u}"`).join(', ') || 'empty list'}; choose from ${allowed.join(', ')} (e.g. ${name}=${allowed.slice(0, 2).join(',')})`);
    return allowed;
  }
  // Keep the canonical order so tables always read floor, ceiling, hosted-ceiling, baseline, ours.
  return allowed.filter((a) => parts.includes(a));
}

export function flag(env: Env, name: string, errors: string[]): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  errors.push(`${name}: "${env[name]}" is not a switch; set ${name}=1 to turn it on or leave it unset`);
  return false;
}

export function optionalText(env: Env, name: string): string | null {
  const raw = env[name]?.trim();
  return raw === undefined || raw === '' ? null : raw;
}

export function nodeFlagList(env: Env, name: string, fallback: readonly string[], errors: string[]): readonly string[] {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'none') return [];
  const flags = raw.split(/\s+/);
  const bad = flags.filter((f) => !/^--[a-z][a-z0-9-_]*(=\S+)?$/.test(f));
  if (bad.length > 0) {
    errors.push(`${name}: ${bad.map((b) => `"${b}"`).join(', ')} ${bad.length === 1 ? 'is not a' : 'are not'} node flag${bad.length === 1 ? '' : 's'} of the form --name or --name=value; set e.g. ${name}="--max-old-space-size=128", or ${name}=none for no flags`);
    return [];
  }
  return flags;
}

/** `imageNodeFlags`: the Dockerfile's NODE_OPTIONS, the default of BENCH_NODE_FLAGS. */
export function readBenchConfig(env: Env, imageNodeFlags: readonly string[] = []): BenchConfigResult {
  const errors: string[] = [];
  const oursPath = optionalText(env, 'BENCH_OURS_PATH') ?? '/mutate';
  if (!oursPath.startsWith('/')) errors.push(`BENCH_OURS_PATH: "${oursPath}" must start with "/"; set e.g. BENCH_OURS_PATH=/mutate`);
  const config: BenchConfig = {
    durationSeconds: positiveNumber(env, 'BENCH_DURATION', 10, errors),
    warmupSeconds: positiveNumber(env, 'BENCH_WARMUP', 2, errors, true),
    connections: integerList(env, 'BENCH_CONNECTIONS', [16, 64], errors),
    bodies: nameList(env, 'BENCH_BODIES', BODY_NAMES, errors),
    targets: nameList(env, 'BENCH_TARGETS', TARGET_NAMES, errors, optionalText(env, 'BENCH_BASELINE') === null ? DEFAULT_TARGETS : TARGET_NAMES),
    rounds: positiveInteger(env, 'BENCH_ROUNDS', 2, errors),
    profile: flag(env, 'BENCH_PROFILE', errors),
    profileDir: optionalText(env, 'BENCH_PROFILE_DIR'),
    policyPath: optionalText(env, 'BENCH_POLICY'),
    baselineRoot: optionalText(env, 'BENCH_BASELINE'),
    oursPath,
    oursLogLevel: optionalText(env, 'BENCH_LOG_LEVEL'),
    nodeFlags: nodeFlagList(env, 'BENCH_NODE_FLAGS', imageNodeFlags, errors),
  };
  if (config.targets.includes('baseline') && config.baselineRoot === null) {
    errors.push('BENCH_TARGETS: "baseline" is our webhook built from another checkout; set BENCH_BASELINE to that checkout\'s folder (built with npm run build), e.g. BENCH_BASELINE=../secure-defaults-before');
  }
  if (config.profile && !config.targets.includes('ours')) {
    errors.push('BENCH_PROFILE: profiling applies to our server, but BENCH_TARGETS leaves "ours" out; add it or unset BENCH_PROFILE');
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config };
}
