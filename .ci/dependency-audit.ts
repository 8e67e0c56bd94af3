// Dependency advisory check: runs `npm audit --omit=dev --json` and decides from its report whether
// a shipped dependency has a known high or critical advisory. Run with Node 24 (type stripping):
//   node .ci/dependency-audit.ts            (npm run audit:deps)
// Exit codes: 0 = the advisory database answered and nothing high/critical ships;
//             1 = a high/critical advisory affects a shipped package (or npm audit could not run
//                 for a reason of this project, e.g. no lockfile);
//             2 = NOT CHECKED: the advisory database could not be reached, so nothing was decided.
// --allow-not-checked (for CI on machines whose registry proxy has no audit endpoint) turns 2 into 0;
// the NOT CHECKED line is printed all the same.
// A registry mirror or proxy that does not serve the audit endpoint (405) is the common case of 2;
// it must never read as a pass, so it gets its own exit code and a line that says so.
import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';

export type AuditVerdict = 'pass' | 'fail' | 'not-checked';

export interface NpmAuditRun {
  /** npm's exit code, or null when it was killed (timeout). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut?: boolean;
  /** Set when npm itself could not be started. */
  spawnError?: string;
}

export interface AuditDecision {
  verdict: AuditVerdict;
  exitCode: 0 | 1 | 2;
  lines: string[];
}

const BLOCKING = ['critical', 'high'] as const;
const SEVERITIES = ['critical', 'high', 'moderate', 'low', 'info'] as const;
type Severity = (typeof SEVERITIES)[number];

// Error codes npm reports when it never got an answer from the advisory database.
const NETWORK_CODES = new Set([
  'ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ENETUNREACH',
  'EHOSTUNREACH', 'ECONNABORTED', 'EPROTO', 'ERR_SOCKET_TIMEOUT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT',
]);

const NOT_CHECKED = 'dependency audit NOT CHECKED: the npm advisory database could not be reached';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The advisory counts of an npm audit v2 report, or undefined when `doc` is not one. */
function reportCounts(doc: unknown): Record<Severity, number> | undefined {
  if (!isObject(doc) || doc.auditReportVersion !== 2 || !isObject(doc.vulnerabilities)) return undefined;
  const meta = isObject(doc.metadata) ? doc.metadata : undefined;
  const counts = meta && isObject(meta.vulnerabilities) ? meta.vulnerabilities : undefined;
  if (!counts) return undefined;
  const out = {} as Record<Severity, number>;
  for (const s of SEVERITIES) {
    const n = counts[s];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return undefined;
    out[s] = n;
  }
  return out;
}

/** One line per package whose own severity is high/critical: name, range, and the advisories behind it. */
function blockingFindings(vulnerabilities: Json): string[] {
  const lines: string[] = [];
  for (const [name, entry] of Object.entries(vulnerabilities)) {
    if (!isObject(entry) || !BLOCKING.includes(entry.severity as (typeof BLOCKING)[number])) continue;
    const via = Array.isArray(entry.via) ? entry.via : [];
    const advisories = via
      .filter(isObject)
      .map((v) => [v.severity, v.title, v.url].filter((p) => typeof p === 'string' && p !== '').join(' '));
    const through = via.filter((v): v is string => typeof v === 'string');
    const range = typeof entry.range === 'string' ? ` ${entry.range}` : '';
    const why = advisories.length > 0 ? advisories.join('; ') : `through ${through.join(', ') || 'a dependency'}`;
    const fix = isObject(entry.fixAvailable) && typeof entry.fixAvailable.version === 'string'
      ? ` (fix: ${String(entry.fixAvailable.name ?? name)}@${entry.fixAvailable.version})`
      : entry.fixAvailable === false ? ' (no fixed version published)' : '';
    lines.push(`  ${String(entry.severity).toUpperCase()} ${name}${range}: ${why}${fix}`);
  }
  return lines;
}

/** Why npm audit produced no report, as npm told it (stdout JSON error, else the last stderr line). */
function errorSummary(doc: unknown, stderr: string): { text: string; unreachable: boolean } {
  const stderrLines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  // npm's own words when the advisory request got no usable answer (HTTP error, refused, DNS...).
  const endpointFailed = stderrLines.some((l) => l.includes('audit endpoint returned an error'));
  const warnAudit = stderrLines.find((l) => /^npm (warn|WARN) audit /.test(l))?.replace(/^npm (warn|WARN) audit /, '');
  if (isObject(doc)) {
    const err = isObject(doc.error) ? doc.error : {};
    const code = typeof err.code === 'string' ? err.code : typeof doc.code === 'string' ? doc.code : undefined;
    const status = typeof doc.statusCode === 'number' ? doc.statusCode : undefined;
    const message = [doc.message, err.summary, err.detail].find((m) => typeof m === 'string' && m !== '') as string | undefined;
    const text = message ?? warnAudit ?? code ?? 'npm audit printed an error without a message';
    const httpCode = code !== undefined && /^E\d{3}$/.test(code);
    const networkCode = code !== undefined ? NETWORK_CODES.has(code) : [...NETWORK_CODES].some((c) => text.includes(c));
    return { text, unreachable: status !== undefined || httpCode || networkCode || endpointFailed };
  }
  const text = warnAudit ?? stderrLines.find((l) => /npm (error|ERR!)/.test(l)) ?? 'npm audit printed no report';
  return { text, unreachable: true };
}

/** Decides the check's outcome from one `npm audit --json` run. Pure: no I/O. */
export function judgeAudit(run: NpmAuditRun): AuditDecision {
  if (run.spawnError !== undefined) {
    return { verdict: 'fail', exitCode: 1, lines: [`dependency audit could not run: could not start npm (${run.spawnError})`] };
  }
  if (run.timedOut) {
    return { verdict: 'not-checked', exitCode: 2, lines: [`${NOT_CHECKED} (npm audit timed out); no advisory was checked`] };
  }
  const doc = parseJson(run.stdout);
  const counts = reportCounts(doc);
  if (counts && isObject(doc) && isObject(doc.vulnerabilities)) {
    const meta = isObject(doc.metadata) ? doc.metadata : {};
    const deps = isObject(meta.dependencies) && typeof meta.dependencies.prod === 'number' ? meta.dependencies.prod : undefined;
    const scope = deps === undefined ? 'shipped dependencies' : `${deps} shipped dependencies`;
    const tally = SEVERITIES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`).join(', ');
    const blocking = counts.critical + counts.high;
    if (blocking > 0) {
      return {
        verdict: 'fail',
        exitCode: 1,
        lines: [`dependency audit FAILED: ${blocking} high/critical advisories affect ${scope} (${tally})`, ...blockingFindings(doc.vulnerabilities),
          '  see `npm audit --omit=dev` for the paths; upgrade, or pin a fixed version in package.json "overrides"'],
      };
    }
    return {
      verdict: 'pass',
      exitCode: 0,
      lines: [`dependency audit passed: the advisory database answered; no high or critical advisory affects ${scope}` +
        (tally === '' ? '' : ` (below the bar: ${tally})`)],
    };
  }
  const { text, unreachable } = errorSummary(doc, run.stderr);
  if (unreachable) {
    return { verdict: 'not-checked', exitCode: 2, lines: [`${NOT_CHECKED} (${text}); no advisory was checked, this is not a pass`] };
  }
  return { verdict: 'fail', exitCode: 1, lines: [`dependency audit could not run: ${text}`] };
}

const TIMEOUT_MS = 180_000;

function runNpmAudit(): Promise<NpmAuditRun> {
  return new Promise((resolve) => {
    execFile('npm', ['audit', '--omit=dev', '--audit-level=high', '--json'],
      { timeout: TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const failure = error as (NodeJS.ErrnoException & { killed?: boolean; code?: number | string }) | null;
        if (failure && typeof failure.code === 'string') {
          // npm itself could not be started: this machine's problem, not the advisory database's.
          resolve({ exitCode: null, stdout: '', stderr: '', spawnError: failure.message });
          return;
        }
        resolve({
          exitCode: failure ? (typeof failure.code === 'number' ? failure.code : null) : 0,
          stdout,
          stderr,
          timedOut: failure?.killed === true,
        });
      });
  });
}

async function main(args: readonly string[]): Promise<void> {
  const unknown = args.filter((a) => a !== '--allow-not-checked');
  if (unknown.length > 0) {
    process.stderr.write(`dependency-audit: unknown argument ${unknown.join(' ')}; the only option is --allow-not-checked\n`);
    process.exitCode = 1;
    return;
  }
  const decision = judgeAudit(await runNpmAudit());
  const out = decision.verdict === 'pass' ? process.stdout : process.stderr;
  for (const line of decision.lines) out.write(`${line}\n`);
  process.exitCode = decision.verdict === 'not-checked' && args.includes('--allow-not-checked') ? 0 : decision.exitCode;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main(process.argv.slice(2));
}
