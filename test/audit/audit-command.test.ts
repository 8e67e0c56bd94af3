// `secure-defaults audit` in-process over an in-memory cluster: what each output says, which
// workloads are reported (through their owner, once), and the exit status --fail-on chooses.
import { describe, expect, test } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { checkRestricted, decideAdmission, hardenManifest, parsePolicy } from '../../src/engine/index.js';
import type { CliIo } from '../../src/cli/cli-io.js';
import { registerAuditCommand } from '../../src/cli/commands/audit.js';
import { createCliProgram } from '../../src/cli/program.js';
import { POLICY_HEADER } from '../engine/engine-fixtures.js';
import { deployment, FakeClusterReader, ns, owned, type FakeCluster } from './fake-cluster-reader.js';
import type { JsonObject } from '../../src/foundation/json-object.js';

const OPT_IN = { 'secure-defaults.io/inject': 'enabled' };
const policyYaml = (mode: string) => `${POLICY_HEADER}spec:
  mode: ${mode}
  namespaces:
    - names: ["team-a"]
      uidRange: "20000-29999"
  fallback:
    uidRange: "100000-165535"
  allocation:
    range: "1000000000-1999999999"
    blockSize: 10000
`;

const plain = { containers: [{ name: 'app', image: 'nginx' }] };
const root = { containers: [{ name: 'app', image: 'nginx', securityContext: { runAsUser: 0 } }] };
const windows = { os: { name: 'windows' }, containers: [{ name: 'app', image: 'iis' }] };
const done = {
  securityContext: { runAsNonRoot: true, runAsUser: 20000, runAsGroup: 20000, fsGroup: 20000, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [{ name: 'app', image: 'nginx', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
};

function cluster(mode = 'fill'): FakeCluster {
  const web = deployment('team-a', 'web', plain);
  const rs = owned({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-5d9', namespace: 'team-a' }, spec: { template: { spec: plain } } }, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' });
  const rsPod = owned({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-5d9-x', namespace: 'team-a' }, spec: plain, status: { phase: 'Running' } }, { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d9' });
  const operatorPod = owned({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db-0', namespace: 'team-a' }, spec: plain }, { apiVersion: 'example.com/v1', kind: 'Database', name: 'db' });
  const barePod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'debug', namespace: 'team-a', uid: 'x', resourceVersion: '9' }, spec: root, status: { phase: 'Running' } };
  const cron = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly', namespace: 'team-a' }, spec: { schedule: '@daily', jobTemplate: { spec: { template: { spec: done } } } } };
  const cronJob = owned({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'nightly-1', namespace: 'team-a' }, spec: { template: { spec: done } } }, { apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly' });
  return {
    namespaces: [ns('team-a', OPT_IN), ns('legacy'), ns('kube-system'), ns('secure-defaults'), ns('tenant-new', OPT_IN)],
    objects: {
      Deployment: [web, deployment('legacy', 'old', plain), deployment('team-a', 'iis', windows), deployment('kube-system', 'dns', plain), deployment('tenant-new', 'api', plain)],
      ReplicaSet: [rs],
      Pod: [rsPod, operatorPod, barePod],
      CronJob: [cron],
      Job: [cronJob],
    },
    configMaps: { 'secure-defaults/secure-defaults-policy': { 'policy.yaml': policyYaml(mode) } },
    mutatingWebhookConfigurations: { 'secure-defaults': webhookConfiguration() },
  };
}

/** The chart's namespaceSelector (charts/secure-defaults/templates/webhooks.yaml) for release namespace secure-defaults. */
const CHART_NAMESPACE_SELECTOR = { matchLabels: OPT_IN, matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'secure-defaults'] }] };

/** The chart's MutatingWebhookConfiguration, reduced to what the audit reads, with webhook.objectSelector set to `objectSelector`. */
function webhookConfiguration(objectSelector?: unknown, namespaceSelector: unknown = CHART_NAMESPACE_SELECTOR): JsonObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: 'secure-defaults' },
    webhooks: [{ name: 'pods.secure-defaults.io', namespaceSelector, ...(objectSelector === undefined ? {} : { objectSelector }) }],
  };
}

function withSelector(objectSelector: unknown, fake: FakeCluster = cluster()): FakeCluster {
  return { ...fake, mutatingWebhookConfigurations: { 'secure-defaults': webhookConfiguration(objectSelector) } };
}

type Workload = { name: string; verdict: string; skipped: string | null; patch: unknown[] };
const workloadsOf = (stdout: string, namespace: string): Workload[] => JSON.parse(stdout).namespaces.find((n: { name: string }) => n.name === namespace).workloads;

async function audit(args: readonly string[], fake: FakeCluster = cluster(), io: { stderrIsTerminal?: boolean } = {}) {
  let stdout = '';
  let stderr = '';
  const cliIo: CliIo = {
    readFile: (path) => readFile(path, 'utf8'),
    readStdin: async () => '',
    writeStdout: (text) => {
      stdout += text;
    },
    writeStderr: (text) => {
      stderr += text;
    },
    ...io,
  };
  const deps = { io: cliIo, engine: { parsePolicy, hardenManifest, checkRestricted }, defaultPolicyPath: 'unused' };
  const cli = createCliProgram(deps, '9.9.9');
  const reader = new FakeClusterReader(fake);
  registerAuditCommand(cli.program, { ...deps, auditEngine: { decideAdmission, checkRestricted } }, cli.exitWith, () => reader);
  const code = await cli.run(['audit', ...args]);
  return { code, stdout, stderr, reader };
}

describe('secure-defaults audit', () => {
  test('reports every workload once, through its owner; a Pod of an unlisted owner on its own', async () => {
    const { stdout, code } = await audit(['-o', 'json']);
    const report = JSON.parse(stdout);
    expect(code).toBe(0);
    const teamA = report.namespaces.find((n: { name: string }) => n.name === 'team-a');
    expect(teamA.workloads.map((w: { kind: string; name: string }) => `${w.kind}/${w.name}`).sort()).toEqual(['CronJob/nightly', 'Deployment/iis', 'Deployment/web', 'Pod/db-0', 'Pod/debug'].sort());
    expect(teamA.workloads.find((w: { name: string }) => w.name === 'db-0').note).toContain('Database/db');
    expect(teamA.ids).toMatchObject({ from: 'rule', source: 'spec.namespaces[0]', uidRange: '20000-29999' });
    const verdicts = Object.fromEntries(teamA.workloads.map((w: { name: string; verdict: string }) => [w.name, w.verdict]));
    expect(verdicts).toEqual({ web: 'hardened', iis: 'left-alone', 'db-0': 'hardened', debug: 'hardened', nightly: 'unchanged' });
    const web = teamA.workloads.find((w: { name: string }) => w.name === 'web');
    expect(web.injected).toContain('spec.securityContext.runAsUser');
    expect(web.restricted).toEqual({ before: expect.arrayContaining(['runAsNonRoot']), after: [] });
    expect(report.namespaces.find((n: { name: string }) => n.name === 'kube-system').excluded).toContain('kube-system');
    expect(report.summary).toMatchObject({ namespaces: 5, hardened: 4, denied: 0 }); // team-a's three and tenant-new's api
  });

  test('a namespace that waits for its block says so; --assume-opted-in judges one that has not opted in', async () => {
    const { stdout } = await audit(['-o', 'yaml', '--assume-opted-in']);
    const report = parseYaml(stdout);
    const tenant = report.namespaces.find((n: { name: string }) => n.name === 'tenant-new');
    expect(tenant.ids.from).toBe('pending-block');
    expect(tenant.ids.notes[0]).toContain('no UID block yet');
    const legacy = report.namespaces.find((n: { name: string }) => n.name === 'legacy');
    expect(legacy).toMatchObject({ optedIn: false, assumedOptedIn: true });
    expect(legacy.workloads[0].verdict).toBe('hardened');
    expect(legacy.summaryLine).toBe('legacy (assumed opted in): 1 workload, 1 hardened');
  });

  test('without --assume-opted-in, a namespace that has not opted in changes nothing', async () => {
    const { stdout } = await audit([]);
    expect(stdout).toContain('legacy: not opted in, 1 workload, nothing changes (--assume-opted-in shows what would)');
    // debug runs as root: hardened, but it keeps its UID 0 and capabilities (never break a workload).
    expect(stdout).toContain('team-a: 5 workloads, 3 hardened (1 keeping what they asked for: root), 1 already hardened, 1 left as it is (Windows), 2 still fail restricted');
    expect(stdout).toMatch(/Deployment +web +hardened \(\d+ fields\) +passes after/);
  });

  test('enforce mode: the refused workload, its reasons in -o wide, exit 1 under --fail-on deny, 0 under never', async () => {
    const denied = await audit(['-o', 'wide'], cluster('enforce'));
    expect(denied.code).toBe(1);
    expect(denied.stdout).toMatch(/Pod +debug +would be DENIED/);
    expect(denied.stdout).toMatch(/deny +container "app": securityContext.runAsUser 0/);
    expect(denied.stdout).toContain('1 would be denied');
    expect((await audit(['--fail-on', 'never'], cluster('enforce'))).code).toBe(0);
  });

  test('per-rule modes: enforce denies, warn warns (and --fail-on change fails on it), fill reports what enforce would deny', async () => {
    const rollout = `${POLICY_HEADER}spec:
  mode: fill
  namespaces:
    - names: ["strict"]
      uidRange: "20000-29999"
      mode: enforce
    - names: ["trial"]
      uidRange: "30000-39999"
      mode: warn
  fallback:
    uidRange: "10000-19999"
`;
    const outside = { securityContext: { runAsUser: 5 }, containers: [{ name: 'app', image: 'nginx' }] };
    const fake: FakeCluster = {
      namespaces: ['strict', 'trial', 'relaxed'].map((n) => ns(n, OPT_IN)),
      objects: { Deployment: ['strict', 'trial', 'relaxed'].map((n) => deployment(n, 'web', outside)) },
      configMaps: { 'secure-defaults/secure-defaults-policy': { 'policy.yaml': rollout } },
    };
    const run = await audit(['-o', 'json', '--fail-on', 'never'], fake);
    const byName = Object.fromEntries(JSON.parse(run.stdout).namespaces.map((n: { name: string; workloads: unknown[] }) => [n.name, n.workloads[0]]));
    expect(byName.strict).toMatchObject({ mode: 'enforce', verdict: 'denied', refusals: [{ mode: 'enforce', path: 'spec.securityContext.runAsUser' }], ifEnforced: [] });
    expect(byName.trial).toMatchObject({ mode: 'warn', verdict: 'hardened', refusals: [{ mode: 'warn', path: 'spec.securityContext.runAsUser' }], ifEnforced: [] });
    expect(byName.trial.warnings.join(' ')).toContain('(warn mode) would deny this Pod in enforce mode');
    expect(byName.relaxed).toMatchObject({ mode: 'fill', verdict: 'hardened', refusals: [], ifEnforced: [{ mode: 'enforce', path: 'spec.securityContext.runAsUser' }] });
    const table = await audit(['--fail-on', 'change'], { ...fake, namespaces: [ns('trial', OPT_IN)] });
    expect(table.stdout).toContain('trial: 1 workload, 1 hardened, 1 would be warned');
    expect(table.code).toBe(1);
    expect((await audit([], { ...fake, namespaces: [ns('trial', OPT_IN)] })).code).toBe(0);
  });

  test('--fail-on change exits 1 when anything would be injected; deny exits 0 then', async () => {
    expect((await audit(['--fail-on', 'change'])).code).toBe(1);
    expect((await audit(['--fail-on', 'deny'])).code).toBe(0);
  });

  test('--only-changed hides workloads with nothing to do and says how many', async () => {
    const { stdout } = await audit(['--only-changed']);
    expect(stdout).not.toMatch(/CronJob +nightly/);
    expect(stdout).toMatch(/\(2 workloads with nothing to do not shown\)/);
  });

  test('progress on stderr only on a terminal or with --progress', async () => {
    expect((await audit([])).stderr).toBe('');
    expect((await audit([], cluster(), { stderrIsTerminal: true })).stderr).toContain('\raudit: 5/5 namespaces');
    expect((await audit(['--progress'])).stderr).toContain('audit: 0/5 namespaces');
  });

  test('--policy FILE holding the ConfigMap: read from its policy.yaml key, and said so', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'audit-'));
    const file = join(dir, 'cm.yaml');
    const { stringify } = await import('yaml');
    await writeFile(file, stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'p', namespace: 'ops' }, data: { 'policy.yaml': policyYaml('enforce') } }));
    const run = await audit(['--policy', file]);
    expect(run.stderr).toContain('read the policy from ConfigMap ops/p, key policy.yaml');
    expect(run.code).toBe(1);
  });

  test('a list the kubeconfig user may not make: one line naming what is missing, exit 2', async () => {
    const { ApiStatusError } = await import('../../src/cluster/kube-audit-reader.js');
    const fake = cluster();
    const locked = new FakeClusterReader(fake);
    locked.namespaces = async function* () {
      throw new ApiStatusError(403, '/api/v1/namespaces?limit=250', 'GET /api/v1/namespaces: HTTP 403: namespaces is forbidden');
    };
    let stderr = '';
    const io: CliIo = { readFile: (p) => readFile(p, 'utf8'), readStdin: async () => '', writeStdout: () => undefined, writeStderr: (t) => void (stderr += t) };
    const deps = { io, engine: { parsePolicy, hardenManifest, checkRestricted }, defaultPolicyPath: 'unused' };
    const cli = createCliProgram(deps, '9.9.9');
    registerAuditCommand(cli.program, { ...deps, auditEngine: { decideAdmission, checkRestricted } }, cli.exitWith, () => locked);
    expect(await cli.run(['audit'])).toBe(2);
    expect(stderr).toMatch(/^error: cannot read the cluster: forbidden \(\/api\/v1\/namespaces\): the kubeconfig user needs get\/list on namespaces, the workload kinds and the policy ConfigMap; .*auditRole.create=true.*\n$/);
  });

  test('streams: a namespace\'s workloads are listed only once the previous namespace\'s report is written', async () => {
    const events: string[] = [];
    const fake = cluster();
    const reader = new FakeClusterReader(fake);
    const objects = reader.objects.bind(reader);
    reader.objects = (kind, namespace) => {
      if (kind.kind === 'Deployment') events.push(`list ${namespace}`);
      return objects(kind, namespace);
    };
    const { auditCluster } = await import('../../src/audit/cluster-audit.js');
    const policy = parsePolicy(policyYaml('fill'));
    if (!policy.ok) throw new Error('policy');
    for await (const audit of auditCluster(reader, { decideAdmission, checkRestricted }, { policy: policy.policy, generation: 1 }, { assumeOptedIn: false, excluded: new Map([['kube-system', 'x']]) })) {
      events.push(`report ${audit.name}`);
    }
    expect(events).toEqual(['list legacy', 'report legacy', 'report kube-system', 'list secure-defaults', 'report secure-defaults', 'list team-a', 'report team-a', 'list tenant-new', 'report tenant-new'].sort((a, b) => order(a) - order(b)));
    function order(event: string): number {
      const names = ['kube-system', 'legacy', 'secure-defaults', 'team-a', 'tenant-new'];
      const [verb, name] = event.split(' ');
      return names.indexOf(name!) * 2 + (verb === 'report' ? 1 : 0);
    }
  });

  describe('the webhook configuration\'s objectSelector: Pods it does not match are never sent', () => {
    // team-a's workloads: Deployment web (template labels app=web), Deployment iis (app=iis),
    // CronJob nightly and Pods db-0 and debug (no labels).
    test('a workload whose Pod template labels do not match is reported not sent, with why; the others are judged as before', async () => {
      const run = await audit(['-o', 'json'], withSelector({ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }));
      expect(run.stderr).toBe('');
      const report = JSON.parse(run.stdout);
      expect(report.objectSelector).toBe('app notin (web)');
      const byName = Object.fromEntries(workloadsOf(run.stdout, 'team-a').map((w) => [w.name, w]));
      expect(byName['web']).toMatchObject({
        verdict: 'excluded',
        skipped: 'not sent to the webhook: objectSelector "app notin (web)" (MutatingWebhookConfiguration secure-defaults) does not match the Pod\'s labels',
        patch: [],
        injected: [],
      });
      // NotIn holds where the key is absent: the unlabelled Pods are still sent.
      expect(Object.fromEntries(Object.entries(byName).map(([name, w]) => [name, w.verdict]))).toEqual({ web: 'excluded', iis: 'left-alone', 'db-0': 'hardened', debug: 'hardened', nightly: 'unchanged' });
      expect(report.namespaces.find((n: { name: string }) => n.name === 'team-a').summary).toMatchObject({ workloads: 5, hardened: 2, excluded: 1 });
      expect(report.summary).toMatchObject({ hardened: 3, excluded: 1 });
    });

    test('matchLabels: only labelled Pods are sent; the table says which selector and how many were not sent', async () => {
      const run = await audit(['-o', 'wide'], withSelector({ matchLabels: { app: 'web' } }));
      expect(run.stdout).toContain('the webhook is sent only Pods matching objectSelector "app=web"');
      expect(run.stdout).toMatch(/Pod +debug +not sent \(objectSelector\) +fails: /);
      expect(run.stdout).toMatch(/Deployment +web +hardened/);
      expect(run.stdout).toContain('team-a: 5 workloads, 1 hardened, 4 not sent (objectSelector)');
      expect(run.stdout).toMatch(/total: .*, 5 not sent \(objectSelector\)\n$/); // and tenant-new's api
      // Not sent, so nothing would change: --fail-on change does not fail on them.
      const allExcluded = await audit(['--fail-on', 'change'], withSelector({ matchLabels: { app: 'nothing-has-this' } }));
      expect(allExcluded.code).toBe(0);
    });

    test('an empty objectSelector sends every Pod, as the chart\'s default {}', async () => {
      const run = await audit(['-o', 'json'], withSelector({}));
      expect(JSON.parse(run.stdout).objectSelector).toBeNull();
      expect(workloadsOf(run.stdout, 'team-a').map((w) => w.verdict)).not.toContain('excluded');
    });

    test('a namespace not opted in stays "not opted in"; judged as if it were, its unmatched Pods are not sent', async () => {
      const selector = withSelector({ matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] });
      expect(workloadsOf((await audit(['-o', 'json'], selector)).stdout, 'legacy').map((w) => w.verdict)).toEqual(['not-opted-in']);
      expect(workloadsOf((await audit(['-o', 'json', '--assume-opted-in'], selector)).stdout, 'legacy').map((w) => w.verdict)).toEqual(['excluded']);
    });

    test('--object-selector judges with the given selector instead of the installed one', async () => {
      const run = await audit(['-o', 'json', '--object-selector', '{matchExpressions: [{key: app, operator: Exists}]}'], withSelector({ matchLabels: { app: 'web' } }));
      expect(run.stderr).toBe('');
      const byName = Object.fromEntries(workloadsOf(run.stdout, 'team-a').map((w) => [w.name, w]));
      expect(Object.fromEntries(Object.entries(byName).map(([name, w]) => [name, w.verdict]))).toEqual({ web: 'hardened', iis: 'left-alone', 'db-0': 'excluded', debug: 'excluded', nightly: 'excluded' });
      expect(byName['debug']!.skipped).toContain('objectSelector "app" (--object-selector)');
    });

    test('an invalid selector is one error line naming the field path, exit 2, nothing written', async () => {
      const installed = await audit(['-o', 'json'], withSelector({ matchExpressions: [{ key: 'app', operator: 'NotIn' }] }));
      expect(installed.code).toBe(2);
      expect(installed.stdout).toBe('');
      expect(installed.stderr).toBe('error: MutatingWebhookConfiguration secure-defaults: webhooks[0].objectSelector.matchExpressions[0].values: required and non-empty with operator NotIn; list the label values to compare with\n');
      const flag = await audit(['--object-selector', '{matchExpressions: [{key: app, operator: Matches}]}']);
      expect(flag.code).toBe(2);
      expect(flag.stderr).toMatch(/^error: --object-selector: objectSelector\.matchExpressions\[0\]\.operator: .*"In".*\n$/);
      const notYaml = await audit(['--object-selector', '{matchLabels: [']);
      expect(notYaml.code).toBe(2);
      expect(notYaml.stderr).toMatch(/^error: --object-selector: not YAML or JSON .*\n$/);
    });

    test('which configuration: the chart\'s name from --policy-configmap, or --webhook-configuration', async () => {
      const acme = cluster();
      const renamed: FakeCluster = {
        ...acme,
        configMaps: { 'ops/acme-policy': acme.configMaps!['secure-defaults/secure-defaults-policy']! },
        mutatingWebhookConfigurations: { acme: { ...webhookConfiguration({ matchLabels: { app: 'web' } }), metadata: { name: 'acme' } } },
      };
      const derived = await audit(['-o', 'json', '--policy-configmap', 'ops/acme-policy'], renamed);
      expect(derived.stderr).toBe('');
      expect(JSON.parse(derived.stdout).objectSelector).toBe('app=web');
      const named = await audit(['-o', 'json', '--policy-configmap', 'ops/acme-policy', '--webhook-configuration', 'other'], renamed);
      expect(named.stderr).toContain('note: no MutatingWebhookConfiguration other in the cluster');
      expect(JSON.parse(named.stdout).objectSelector).toBeNull();
    });

    test('no such configuration: a note, every Pod judged; forbidden: a warning saying what to grant; no pod webhook: exit 2', async () => {
      const missing = await audit(['-o', 'json'], { ...cluster(), mutatingWebhookConfigurations: {} });
      expect(missing.code).toBe(0);
      expect(missing.stderr).toMatch(/^note: no MutatingWebhookConfiguration secure-defaults in the cluster: every Pod is judged as if sent, and only kube-system and the webhook's own namespace are taken as excluded \(the chart's default namespaceSelector\)/);
      expect(JSON.parse(missing.stdout).namespaces.find((n: { name: string }) => n.name === 'secure-defaults').excluded).toBe('never sent to the webhook: the chart excludes its own namespace (assumed: the webhook configuration could not be read)');
      const { ApiStatusError } = await import('../../src/cluster/kube-audit-reader.js');
      const forbidden = new ApiStatusError(403, '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/secure-defaults', 'forbidden');
      const locked = await audit(['-o', 'json'], { ...cluster(), mutatingWebhookConfigurations: { 'secure-defaults': forbidden } });
      expect(locked.code).toBe(0);
      expect(locked.stderr).toMatch(/^warning: cannot read MutatingWebhookConfiguration secure-defaults \(forbidden\): its objectSelector and namespaceSelector are not applied: .*only kube-system and the webhook's own namespace are taken as excluded.*audit ClusterRole.*--object-selector and --namespace-selector\n$/);
      expect(JSON.parse(locked.stdout).namespaces.find((n: { name: string }) => n.name === 'kube-system').excluded).toContain('(assumed: the webhook configuration could not be read)');
      // With one selector given, the warning names only the other.
      const lockedOne = await audit(['-o', 'json', '--namespace-selector', '{}'], { ...cluster(), mutatingWebhookConfigurations: { 'secure-defaults': forbidden } });
      expect(lockedOne.stderr).toMatch(/its objectSelector is not applied: every Pod is judged as if sent; .* or pass --object-selector\n$/);
      const other = await audit([], { ...cluster(), mutatingWebhookConfigurations: { 'secure-defaults': { webhooks: [{ name: 'sidecar.example.com' }] } } });
      expect(other.code).toBe(2);
      expect(other.stderr).toBe('error: MutatingWebhookConfiguration secure-defaults has no webhook named pods.secure-defaults.io (it has "sidecar.example.com"); --webhook-configuration NAME names the chart\'s\n');
    });
  });

  describe('the webhook configuration\'s namespaceSelector: namespaces it does not match are never sent', () => {
    const PROD_OUT = { matchLabels: OPT_IN, matchExpressions: [{ key: 'environment', operator: 'NotIn', values: ['prod'] }] };
    /** cluster() plus an opted-in prod namespace, a prod namespace not opted in, and a namespace listed without the name label. */
    function withNamespaces(namespaceSelector: unknown, objectSelector?: unknown): FakeCluster {
      const base = cluster();
      const bare = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bare', labels: { ...OPT_IN } } };
      return {
        ...base,
        namespaces: [...base.namespaces, ns('shop', { ...OPT_IN, environment: 'prod' }), ns('old-prod', { environment: 'prod' }), bare],
        objects: { ...base.objects, Deployment: [...base.objects['Deployment']!, deployment('shop', 'cart', plain), deployment('old-prod', 'legacy', plain), deployment('bare', 'b', plain)] },
        mutatingWebhookConfigurations: { 'secure-defaults': webhookConfiguration(objectSelector, namespaceSelector) },
      };
    }
    const namespaceOf = (stdout: string, name: string) => JSON.parse(stdout).namespaces.find((n: { name: string }) => n.name === name);

    test('the installed selector decides: a namespace it leaves out is excluded, naming the selector; kube-system is judged when it does not exclude it', async () => {
      const run = await audit(['-o', 'json'], withNamespaces(PROD_OUT));
      expect(run.stderr).toBe('');
      const report = JSON.parse(run.stdout);
      expect(report.namespaceSelector).toBe('secure-defaults.io/inject=enabled,environment notin (prod)');
      expect(namespaceOf(run.stdout, 'shop')).toMatchObject({
        excluded: 'never sent to the webhook: namespaceSelector "secure-defaults.io/inject=enabled,environment notin (prod)" (MutatingWebhookConfiguration secure-defaults) does not match the namespace\'s labels',
        workloads: [],
        summaryLine: expect.stringMatching(/^shop: excluded \(never sent to the webhook: namespaceSelector /),
      });
      // This selector does not keep kube-system or the webhook's namespace out: they are sent, and not opted in.
      expect(namespaceOf(run.stdout, 'kube-system')).toMatchObject({ excluded: null, optedIn: false });
      expect(namespaceOf(run.stdout, 'secure-defaults').excluded).toBeNull();
      expect(namespaceOf(run.stdout, 'team-a').summary.hardened).toBeGreaterThan(0);
      const table = await audit([], withNamespaces(PROD_OUT));
      expect(table.stdout).toContain('; only from namespaces matching namespaceSelector "secure-defaults.io/inject=enabled,environment notin (prod)"');
      expect(table.stdout).toMatch(/NAMESPACE shop {2}excluded\n/);
    });

    test('the chart\'s selector excludes kube-system and its own namespace through kubernetes.io/metadata.name, also where the listed namespace lacks that label', async () => {
      const run = await audit(['-o', 'json'], withNamespaces(CHART_NAMESPACE_SELECTOR));
      expect(namespaceOf(run.stdout, 'kube-system').excluded).toBe('never sent to the webhook: namespaceSelector "secure-defaults.io/inject=enabled,kubernetes.io/metadata.name notin (kube-system,secure-defaults)" (MutatingWebhookConfiguration secure-defaults) does not match the namespace\'s labels');
      expect(namespaceOf(run.stdout, 'secure-defaults').excluded).toContain('kubernetes.io/metadata.name notin (kube-system,secure-defaults)');
      const onlyBare = await audit(['-o', 'json', '--namespace-selector', '{matchLabels: {kubernetes.io/metadata.name: bare}}'], withNamespaces(CHART_NAMESPACE_SELECTOR));
      expect(namespaceOf(onlyBare.stdout, 'bare')).toMatchObject({ excluded: null, optedIn: true });
      expect(namespaceOf(onlyBare.stdout, 'bare').workloads.map((w: Workload) => w.verdict)).toEqual(['hardened']);
      expect(namespaceOf(onlyBare.stdout, 'team-a').excluded).toContain('namespaceSelector "kubernetes.io/metadata.name=bare" (--namespace-selector)');
    });

    test('not opted in vs excluded: "not opted in" when labelling would bring it in, "excluded" when the selector keeps it out anyway', async () => {
      const run = await audit(['-o', 'json'], withNamespaces(PROD_OUT));
      expect(namespaceOf(run.stdout, 'legacy')).toMatchObject({ excluded: null, optedIn: false });
      expect(namespaceOf(run.stdout, 'legacy').workloads.map((w: Workload) => w.verdict)).toEqual(['not-opted-in']);
      expect(namespaceOf(run.stdout, 'old-prod').excluded).toContain('namespaceSelector "secure-defaults.io/inject=enabled,environment notin (prod)"');
      const assumed = await audit(['-o', 'json', '--assume-opted-in'], withNamespaces(PROD_OUT));
      expect(namespaceOf(assumed.stdout, 'legacy').workloads.map((w: Workload) => w.verdict)).toEqual(['hardened']);
      expect(namespaceOf(assumed.stdout, 'old-prod').excluded).not.toBeNull();
    });

    test('an empty or absent namespaceSelector sends every namespace: nothing is excluded, not even the webhook\'s own', async () => {
      for (const selector of [{}, null]) {
        const run = await audit(['-o', 'json', '--assume-opted-in'], withNamespaces(selector));
        const report = JSON.parse(run.stdout);
        expect(report.namespaceSelector).toBeNull();
        expect(report.namespaces.filter((n: { excluded: string | null }) => n.excluded !== null)).toEqual([]);
      }
    });

    test('--namespace-selector replaces the installed one; invalid selectors are one error line with the field path, exit 2', async () => {
      const run = await audit(['-o', 'json', '--namespace-selector', '{matchExpressions: [{key: environment, operator: In, values: [prod]}]}'], withNamespaces(PROD_OUT));
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout).namespaceSelector).toBe('environment in (prod)');
      expect(namespaceOf(run.stdout, 'shop').excluded).toBeNull();
      expect(namespaceOf(run.stdout, 'team-a').excluded).toContain('(--namespace-selector)');
      const flag = await audit(['--namespace-selector', '{matchExpressions: [{key: environment, operator: In}]}']);
      expect(flag.code).toBe(2);
      expect(flag.stdout).toBe('');
      expect(flag.stderr).toMatch(/^error: --namespace-selector: namespaceSelector\.matchExpressions\[0\]\.values: required and non-empty with operator In.*\n$/);
      const notYaml = await audit(['--namespace-selector', '{matchLabels: [']);
      expect(notYaml.stderr).toMatch(/^error: --namespace-selector: not YAML or JSON .*\n$/);
      const installed = await audit(['-o', 'json'], withNamespaces({ matchLabels: { 'bad key!': 'x' } }));
      expect(installed.code).toBe(2);
      expect(installed.stderr).toMatch(/^error: MutatingWebhookConfiguration secure-defaults: webhooks\[0\]\.namespaceSelector\.matchLabels/);
    });
  });

  describe('labels controllers add to their Pods: an objectSelector on them', () => {
    test('Exists/DoesNotExist is decided without the value: pod-template-hash is on a Deployment\'s Pods only', async () => {
      const run = await audit(['-o', 'json'], withSelector({ matchExpressions: [{ key: 'pod-template-hash', operator: 'Exists' }] }));
      const verdicts = Object.fromEntries(workloadsOf(run.stdout, 'team-a').map((w) => [w.name, w.verdict]));
      expect(verdicts).toEqual({ web: 'hardened', iis: 'left-alone', 'db-0': 'excluded', debug: 'excluded', nightly: 'excluded' });
    });

    test('In on a hash the audit cannot know: "cannot tell" with the label and the selector, judged as if sent, counted; --fail-on counts it by what it would be if sent', async () => {
      const selector = { matchExpressions: [{ key: 'pod-template-hash', operator: 'In', values: ['5d9f7c'] }] };
      const run = await audit(['-o', 'json'], withSelector(selector));
      // web and tenant-new's api would be hardened if sent, iis left alone (Windows): nothing a deny gate stops.
      expect(run.code).toBe(0);
      const web = workloadsOf(run.stdout, 'team-a').find((w) => w.name === 'web')!;
      expect(web).toMatchObject({ verdict: 'undecided', ifSent: 'hardened' });
      expect(web.patch.length).toBeGreaterThan(0);
      expect(web.skipped).toBe('cannot tell whether the API server sends it to the webhook: objectSelector "pod-template-hash in (5d9f7c)" (MutatingWebhookConfiguration secure-defaults) depends on a label\'s value: its controller sets pod-template-hash to a hash of the Pod template the Deployment controller computes, which the audit cannot know');
      const iis = workloadsOf(run.stdout, 'team-a').find((w) => w.name === 'iis')!;
      expect(iis).toMatchObject({ verdict: 'undecided', ifSent: 'left-alone' });
      expect(iis.skipped).toMatch(/which the audit cannot know; if sent: .*[Ww]indows/);
      // The Pods and the CronJob's Jobs carry no pod-template-hash: In fails on them, decidably.
      expect(workloadsOf(run.stdout, 'team-a').filter((w) => w.name !== 'web' && w.name !== 'iis').map((w) => w.verdict)).toEqual(['excluded', 'excluded', 'excluded']);
      expect(JSON.parse(run.stdout).summary).toMatchObject({ undecided: 3, undecidedWouldDeny: 0, undecidedWouldChange: 2, hardened: 0 }); // the Deployments web, iis and tenant-new's api
      expect((await audit(['--fail-on', 'change'], withSelector(selector))).code).toBe(1);
      const table = await audit(['--fail-on', 'never'], withSelector(selector));
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/Deployment +web +cannot tell if sent \(objectSelector\); if sent: hardened \(\d+ fields\)/);
      expect(table.stdout).toMatch(/total: .*, 3 cannot tell if sent \(objectSelector\) \(if sent: 2 changed\)\n$/);
    });

    test('an undecided workload the webhook would deny if sent fails --fail-on deny, and says so', async () => {
      const fake = cluster('enforce');
      // Only the root Deployment: the fixture's bare root Pod carries no pod-template-hash, so it is sent, and denied, decidably.
      const rootWeb = { ...fake, objects: { Deployment: [deployment('team-a', 'rooted', root)] } };
      const run = await audit(['-o', 'json'], withSelector({ matchExpressions: [{ key: 'pod-template-hash', operator: 'NotIn', values: ['5d9f7c'] }] }, rootWeb));
      expect(run.code).toBe(1);
      const rooted = workloadsOf(run.stdout, 'team-a').find((w) => w.name === 'rooted')!;
      expect(rooted).toMatchObject({ verdict: 'undecided', ifSent: 'denied', patch: [] });
      expect(JSON.parse(run.stdout).summary).toMatchObject({ undecidedWouldDeny: 1, denied: 0 });
      const table = await audit(['--fail-on', 'never'], withSelector({ matchExpressions: [{ key: 'pod-template-hash', operator: 'NotIn', values: ['5d9f7c'] }] }, rootWeb));
      expect(table.stdout).toMatch(/Deployment +rooted +cannot tell if sent \(objectSelector\); if sent: would be DENIED/);
      expect(table.stdout).toMatch(/\(if sent: 1 would be denied or not judged\)/);
    });
  });

  test('a missing policy ConfigMap is one error line with exit 2', async () => {
    const run = await audit(['--policy-configmap', 'ops/nope']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: ConfigMap ops\/nope does not exist; .*\n$/);
  });
});
