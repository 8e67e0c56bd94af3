// The dashboard's and the alerts' PromQL against what the webhook really exports: the chart is
// rendered by the real helm, every expression is parsed by Prometheus's own PromQL parser
// (test/chart/promql-inspect), the webhook is started as `serve` runs it and driven with real
// AdmissionReviews (patched, denied, warn mode, unreadable), and every metric name and label a
// query uses must be in its /metrics.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAllocatorMetrics } from '../../src/allocation/allocator-metrics.js';
import { startServe, type RunningServe } from '../../src/cli/commands/serve.js';
import { httpsCall, podReview, RecordingLogger } from '../server/webhook-harness.js';
import { findOne, locateHelm, renderChart, type Manifest } from './helm-runner.js';

jest.setTimeout(20 * 60 * 1000);

/** Labels Prometheus puts on every series of a scraped target, beside the exported ones. */
const TARGET_LABELS = new Set(['namespace', 'pod', 'job', 'instance', 'service', 'endpoint', 'container']);

type Exported = Map<string, Set<string>>;

/** Metric name → label names, from Prometheus text exposition (# HELP lines give names without series). */
export function readExposition(text: string): Exported {
  const exported: Exported = new Map();
  const entry = (name: string): Set<string> => {
    let labels = exported.get(name);
    if (labels === undefined) exported.set(name, (labels = new Set()));
    return labels;
  };
  for (const line of text.split('\n')) {
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) /.exec(line);
    if (help) {
      entry(help[1]!);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? /.exec(line);
    if (!sample) continue;
    const labels = entry(sample[1]!);
    for (const match of (sample[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)) labels.add(match[1]!);
  }
  return exported;
}

/** What Prometheus's parser found in one expression (test/chart/promql-inspect). */
interface Inspection {
  readonly error?: string;
  readonly selectors: ReadonlyArray<{ readonly metric: string; readonly labels: readonly string[] }>;
  readonly grouping: readonly string[];
}

let promqlInspect = '';

function locatePromqlInspect(): string {
  if (promqlInspect !== '') return promqlInspect;
  const script = fileURLToPath(new URL('./ensure-promql-inspect.sh', import.meta.url));
  try {
    promqlInspect = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20 * 60 * 1000 }).trim().split('\n').pop() ?? '';
  } catch (error) {
    throw new Error(`the PromQL checker could not be built by ${script} (needs Go and the Go module proxy): ${(error as Error).message}`);
  }
  return promqlInspect;
}

/** Parses every expression with Prometheus's own PromQL parser. */
async function inspect(expressions: Readonly<Record<string, string>>): Promise<Record<string, Inspection>> {
  const child = execFile(locatePromqlInspect(), [], { maxBuffer: 16 * 1024 * 1024 });
  const output = new Promise<string>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`promql-inspect exited ${code}: ${stderr}`))));
  });
  child.stdin!.end(JSON.stringify(expressions));
  return JSON.parse(await output) as Record<string, Inspection>;
}

/** What one parsed expression uses that the webhook does not export; [] when everything is there. */
export function unexportedIn(inspection: Inspection, exported: Exported): string[] {
  if (inspection.error !== undefined) return [`does not parse: ${inspection.error}`];
  const problems: string[] = [];
  const labelsOf = (metric: string): Set<string> => new Set([...(exported.get(metric) ?? []), ...TARGET_LABELS]);
  for (const { metric, labels } of inspection.selectors) {
    if (!metric.startsWith('secure_defaults_')) {
      problems.push(`${metric || '(no name)'}: not a metric the webhook exports`);
      continue;
    }
    if (!exported.has(metric)) problems.push(`${metric}: not exported`);
    for (const label of labels) if (!labelsOf(metric).has(label)) problems.push(`${metric}{${label}}: no such label`);
  }
  if (!inspection.selectors.some(({ metric }) => metric.startsWith('secure_defaults_'))) problems.push('uses no secure_defaults metric');
  const available = new Set(inspection.selectors.flatMap(({ metric }) => [...labelsOf(metric)]));
  for (const label of inspection.grouping) if (!available.has(label)) problems.push(`by (${label}): no metric in the expression has it`);
  return problems;
}

/** Grafana's variables replaced by values Prometheus accepts, as Grafana does before it queries. */
function asPromql(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$namespace', 'platform-security');
}

let running: RunningServe | null = null;
let scratch = '';
let exported: Exported = new Map();
let manifests: Manifest[] = [];

beforeAll(async () => {
  locateHelm();
  locatePromqlInspect();
  manifests = await renderChart({ namespace: 'platform-security', set: ['prometheusRule.enabled=true', 'grafanaDashboard.enabled=true', 'allocation.enabled=true'] });
  scratch = mkdtempSync(join(tmpdir(), 'secure-defaults-queries-'));
  const policy = join(scratch, 'policy.yaml');
  writeFileSync(
    policy,
    'apiVersion: secure-defaults.io/v1alpha1\nkind: SecureDefaultsPolicy\nmetadata: { name: q }\nspec:\n  mode: enforce\n  namespaces:\n    - { names: ["warned"], uidRange: "200000-209999", mode: warn }\n  fallback: { uidRange: "100000-165535" }\n',
  );
  running = await startServe({ port: 0, host: '127.0.0.1', failClosed: false, shutdownDelay: 0, drainTimeout: 2, policy }, new RecordingLogger());
  // The allocator registers its metrics on the same registry in cluster mode (kube-allocator-run.ts).
  createAllocatorMetrics(running.registry);
  const ca = running.webhook.initialCertificatePem;
  const post = (body: string) => httpsCall(running!.webhook.port, { method: 'POST', path: '/mutate', ca, headers: { 'content-type': 'application/json' }, body });
  const pod = (securityContext: unknown) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'app', image: 'nginx', securityContext }] } });
  // One of each: patched, denied with a warning, admitted with a would-be denial (warn mode), unreadable.
  expect((await post(JSON.stringify(podReview({ namespace: 'a', object: pod({}) })))).json().response.patchType).toBe('JSONPatch');
  const denied = (await post(JSON.stringify(podReview({ namespace: 'a', object: pod({ privileged: true }) })))).json().response;
  expect(denied.allowed).toBe(false);
  expect(denied.warnings.length).toBeGreaterThan(0);
  expect((await post(JSON.stringify(podReview({ namespace: 'warned', object: pod({ privileged: true }) })))).json().response.allowed).toBe(true);
  expect((await post('{"kind":"AdmissionReview"')).status).toBe(400);
  exported = readExposition((await httpsCall(running.webhook.port, { method: 'GET', path: '/metrics', ca })).text);
});

afterAll(async () => {
  await running?.stop();
  if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
});

function alertExpressions(): Array<[string, string]> {
  const groups = findOne(manifests, 'PrometheusRule')['spec']['groups'] as Manifest[];
  return groups.flatMap((group) => (group['rules'] as Manifest[]).map((rule): [string, string] => [rule['alert'], rule['expr']]));
}

function dashboardExpressions(): Array<[string, string]> {
  const configMap = manifests.find((m) => m['kind'] === 'ConfigMap' && m['metadata']['name'].endsWith('-dashboard'))!;
  const dashboard = JSON.parse(configMap['data']['secure-defaults.json']) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }>; templating: { list: Array<{ name: string; definition?: string }> } };
  const panels = dashboard.panels.flatMap((panel) => panel.targets.map((target, i): [string, string] => [`${panel.title} #${i + 1}`, target.expr]));
  // Grafana's label_values(selector, label) lists the label's values: as PromQL, count by (label) (selector).
  const variables = dashboard.templating.list
    .filter((v) => v.definition !== undefined)
    .map((v): [string, string] => [`variable ${v.name}`, v.definition!.replace(/^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/, 'count by ($2) ($1)')]);
  return [...panels, ...variables];
}

describe('the checker', () => {
  test('finds a syntax error, a made-up metric, a made-up label and a grouping no metric has', async () => {
    const found = await inspect({
      made_up: 'sum by (colour) (rate(secure_defaults_admission_requests_total{flavour="x"}[5m])) + on (pod) secure_defaults_nope',
      foreign: 'kube_deployment_status_replicas_available{namespace="x"}',
      broken: 'sum(rate(secure_defaults_ready[5m])',
    });
    expect(unexportedIn(found['made_up']!, exported)).toEqual([
      'secure_defaults_admission_requests_total{flavour}: no such label',
      'secure_defaults_nope: not exported',
      'by (colour): no metric in the expression has it',
    ]);
    expect(unexportedIn(found['foreign']!, exported)).toEqual(['kube_deployment_status_replicas_available: not a metric the webhook exports', 'uses no secure_defaults metric']);
    expect(unexportedIn(found['broken']!, exported)).toEqual([expect.stringMatching(/^does not parse: .*unclosed left parenthesis/)]);
  });

  test('the webhook exports what the issue asks for, with its labels', () => {
    expect([...(exported.get('secure_defaults_build_info') ?? [])].sort()).toEqual(['node', 'version']);
    expect([...(exported.get('secure_defaults_warnings_total') ?? [])]).toEqual(['reason']);
    expect([...(exported.get('secure_defaults_admission_requests_total') ?? [])].sort()).toEqual(['operation', 'result', 'webhook_endpoint']);
    expect(exported.has('secure_defaults_tls_certificate_expiry_timestamp_seconds')).toBe(true);
    expect([...(exported.get('secure_defaults_would_deny_total') ?? [])].sort()).toEqual(['reason', 'resource_namespace']);
  });

  test('no exported label is one Prometheus sets on the target: the target\'s would win, ours would become exported_<label>', () => {
    const clashes = [...exported].flatMap(([metric, labels]) => [...labels].filter((label) => TARGET_LABELS.has(label)).map((label) => `${metric}{${label}}`));
    expect(clashes).toEqual([]);
  });
});

describe('every query uses only what the webhook exports', () => {
  test.each([['alert', alertExpressions], ['dashboard', dashboardExpressions]])('%s expressions parse and use only exported metrics and labels', async (_what, expressions) => {
    const list = expressions();
    expect(list.length).toBeGreaterThan(5);
    const found = await inspect(Object.fromEntries(list.map(([name, expr]) => [name, asPromql(expr)])));
    const problems = list.flatMap(([name]) => unexportedIn(found[name]!, exported).map((problem) => `${name}: ${problem}`));
    expect(problems).toEqual([]);
  });
});
