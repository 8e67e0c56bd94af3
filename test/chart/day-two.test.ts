// The chart's optional day-two objects, rendered by the real helm: NetworkPolicy, hostNetwork,
// startupProbe, Service metadata, PrometheusRule, Grafana dashboard, and NOTES.txt.
import { beforeAll, describe, expect, jest, test } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHART_DIR, KUBE_VERSION, findOne, locateHelm, parseManifests, renderChart, renderChartRaw, runHelm, type Manifest } from './helm-runner.js';

jest.setTimeout(20 * 60 * 1000);

const NAMESPACE = 'platform-security';
const kinds = (manifests: readonly Manifest[]): string[] => manifests.map((m) => m['kind'] as string);
const container = (manifests: readonly Manifest[]): Manifest => findOne(manifests, 'Deployment')['spec']['template']['spec']['containers'][0];
const argAfter = (args: readonly string[], flag: string): string | undefined => args[args.indexOf(flag) + 1];

beforeAll(() => {
  locateHelm();
});

describe('optional objects are off by default', () => {
  test('no NetworkPolicy, PrometheusRule or dashboard ConfigMap, and no hostNetwork', async () => {
    const manifests = await renderChart({ namespace: NAMESPACE });
    expect(kinds(manifests)).not.toContain('NetworkPolicy');
    expect(kinds(manifests)).not.toContain('PrometheusRule');
    expect(manifests.filter((m) => m['kind'] === 'ConfigMap').map((m) => m['metadata']['name'])).toEqual(['sd-secure-defaults-policy']);
    expect(findOne(manifests, 'Deployment')['spec']['template']['spec']['hostNetwork']).toBeUndefined();
    expect(container(manifests)['args']).not.toContain('--host');
  });

  test('helm lint --strict passes with all of them on', async () => {
    const set = ['networkPolicy.enabled=true', 'prometheusRule.enabled=true', 'grafanaDashboard.enabled=true', 'hostNetwork.enabled=true', 'networkPolicy.apiServerCidrs={10.0.0.0/24}'];
    const result = await runHelm(['lint', '--strict', CHART_DIR, '--namespace', NAMESPACE, ...set.flatMap((pair) => ['--set', pair])]);
    expect(result.stderr + result.stdout).toContain('0 chart(s) failed');
  });
});

describe('NetworkPolicy (issue 12 and 15)', () => {
  test('without CIDRs: ingress to the webhook port only, from anywhere (the API server is no Pod)', async () => {
    const manifests = await renderChart({ namespace: NAMESPACE, set: ['networkPolicy.enabled=true'] });
    const policy = findOne(manifests, 'NetworkPolicy');
    expect(policy['metadata']['namespace']).toBe(NAMESPACE);
    expect(policy['spec']['podSelector']['matchLabels']).toEqual(findOne(manifests, 'Deployment')['spec']['selector']['matchLabels']);
    expect(policy['spec']['policyTypes']).toEqual(['Ingress']);
    expect(policy['spec']['ingress']).toEqual([{ ports: [{ port: 8443, protocol: 'TCP' }] }]);
    expect(container(manifests)['ports']).toEqual([{ name: 'https', containerPort: 8443, protocol: 'TCP' }]);
  });

  test('with the control plane CIDRs: the API server, and Prometheus for /metrics, and nobody else', async () => {
    const manifests = await renderChart({ namespace: NAMESPACE, set: ['networkPolicy.enabled=true', 'networkPolicy.apiServerCidrs={10.0.0.0/24,fd00::/64}', 'containerPort=9443'] });
    expect(findOne(manifests, 'NetworkPolicy')['spec']['ingress']).toEqual([
      { ports: [{ port: 9443, protocol: 'TCP' }], from: [{ ipBlock: { cidr: '10.0.0.0/24' } }, { ipBlock: { cidr: 'fd00::/64' } }] },
      { ports: [{ port: 9443, protocol: 'TCP' }], from: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }] },
    ]);
  });

  test('the schema refuses a CIDR that is not one', async () => {
    const result = await renderChartRaw({ set: ['networkPolicy.enabled=true', 'networkPolicy.apiServerCidrs={apiserver}'] });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('apiServerCidrs');
  });
});

describe('hostNetwork, startupProbe and Service metadata', () => {
  test('hostNetwork listens on the configured node port, with host DNS and one replica per node', async () => {
    const manifests = await renderChart({ namespace: NAMESPACE, set: ['hostNetwork.enabled=true', 'hostNetwork.port=10270'] });
    const spec = findOne(manifests, 'Deployment')['spec']['template']['spec'];
    expect(spec['hostNetwork']).toBe(true);
    expect(spec['dnsPolicy']).toBe('ClusterFirstWithHostNet');
    expect(spec['affinity']['podAntiAffinity']['requiredDuringSchedulingIgnoredDuringExecution']).toEqual([
      { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: findOne(manifests, 'Deployment')['spec']['selector']['matchLabels'] } },
    ]);
    expect(argAfter(container(manifests)['args'], '--port')).toBe('10270');
    // Bound to the node's own address (the kubelet expands $(POD_IP) from the env), not 0.0.0.0.
    expect(argAfter(container(manifests)['args'], '--host')).toBe('$(POD_IP)');
    expect(container(manifests)['env']).toContainEqual({ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
    expect(container(manifests)['ports']).toEqual([{ name: 'https', containerPort: 10270, protocol: 'TCP' }]);
    // The Service still targets the named port, so the API server reaches the node's port.
    expect(findOne(manifests, 'Service')['spec']['ports'][0]['targetPort']).toBe('https');
  });

  test('a startupProbe on /healthz gives a slow start periodSeconds × failureThreshold before liveness applies', async () => {
    const manifests = await renderChart({ set: ['startupProbe.failureThreshold=45'] });
    expect(container(manifests)['startupProbe']).toEqual({
      httpGet: { path: '/healthz', port: 'https', scheme: 'HTTPS' },
      periodSeconds: 2,
      failureThreshold: 45,
      timeoutSeconds: 2,
    });
  });

  test('Service annotations and labels', async () => {
    const manifests = await renderChart({ set: ['service.annotations.service\\.beta\\.kubernetes\\.io/aws-load-balancer-scheme=internal', 'service.labels.team=platform'] });
    const service = findOne(manifests, 'Service');
    expect(service['metadata']['annotations']).toEqual({ 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal' });
    expect(service['metadata']['labels']).toMatchObject({ team: 'platform', 'app.kubernetes.io/name': 'secure-defaults' });
  });
});

describe('PrometheusRule', () => {
  test('has the six alerts, thresholds from values, and the failure policy in its words', async () => {
    // A values file: --set would pass 0.8 as a string.
    const values = join(mkdtempSync(join(tmpdir(), 'secure-defaults-values-')), 'values.yaml');
    writeFileSync(values, 'webhook: { timeoutSeconds: 10, failurePolicy: Ignore }\nprometheusRule: { enabled: true, latencyTimeoutRatio: 0.8, certificateExpiryDays: 7, labels: { release: kube-prometheus-stack }, alertLabels: { team: platform } }\n');
    const manifests = await renderChart({ namespace: NAMESPACE, values });
    const rule = findOne(manifests, 'PrometheusRule');
    expect(rule['apiVersion']).toBe('monitoring.coreos.com/v1');
    expect(rule['metadata']['labels']['release']).toBe('kube-prometheus-stack');
    const alerts = rule['spec']['groups'][0]['rules'] as Manifest[];
    expect(alerts.map((a) => a['alert']).sort()).toEqual([
      'SecureDefaultsAdmissionErrors',
      'SecureDefaultsAdmissionLatencyNearTimeout',
      'SecureDefaultsCertificateExpiringSoon',
      'SecureDefaultsNoReadyReplica',
      'SecureDefaultsPolicyRefused',
      'SecureDefaultsUidPoolNearlyFull',
    ]);
    const byName = new Map(alerts.map((a) => [a['alert'] as string, a]));
    expect(byName.get('SecureDefaultsAdmissionLatencyNearTimeout')!['expr']).toMatch(/> 8\s*$/);
    expect(byName.get('SecureDefaultsCertificateExpiringSoon')!['expr']).toContain(`< ${7 * 86400}`);
    for (const alert of alerts) {
      expect(alert['labels']['team']).toBe('platform');
      expect(alert['expr']).toContain(`namespace="${NAMESPACE}"`);
    }
    expect(byName.get('SecureDefaultsNoReadyReplica')!['annotations']['description']).toContain('admitted unhardened');
  });
});

describe('Grafana dashboard ConfigMap', () => {
  test('carries the sidecar label and a dashboard that parses, with the panels the issue lists', async () => {
    const manifests = await renderChart({ namespace: NAMESPACE, set: ['grafanaDashboard.enabled=true', 'grafanaDashboard.annotations.grafana_folder=Security'] });
    const configMap = manifests.find((m) => m['kind'] === 'ConfigMap' && m['metadata']['name'] === 'sd-secure-defaults-dashboard')!;
    expect(configMap['metadata']['labels']['grafana_dashboard']).toBe('1');
    expect(configMap['metadata']['annotations']).toEqual({ grafana_folder: 'Security' });
    expect(configMap['metadata']['namespace']).toBe(NAMESPACE);
    const dashboard = JSON.parse(configMap['data']['secure-defaults.json']) as { uid: string; panels: Array<{ title: string; id: number }> };
    expect(dashboard.uid).toBe('secure-defaults');
    const titles = dashboard.panels.map((p) => p.title);
    for (const title of ['Pod admissions by result', 'Admission latency', 'Fields injected', 'Refusals and would-be denials', 'UID pool']) expect(titles).toContain(title);
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
  });

  test('can go to the namespace the Grafana sidecar watches', async () => {
    const manifests = await renderChart({ set: ['grafanaDashboard.enabled=true', 'grafanaDashboard.namespace=monitoring'] });
    expect(manifests.find((m) => m['metadata']['name'] === 'sd-secure-defaults-dashboard')!['metadata']['namespace']).toBe('monitoring');
  });
});

describe('NOTES.txt', () => {
  test('checks the webhook with EndpointSlices, not the deprecated Endpoints API', async () => {
    // helm template does not render NOTES.txt: render the same text through a define in a copy.
    const copy = mkdtempSync(join(tmpdir(), 'secure-defaults-notes-'));
    try {
      cpSync(CHART_DIR, copy, { recursive: true });
      const notes = readFileSync(join(CHART_DIR, 'templates', 'NOTES.txt'), 'utf8');
      writeFileSync(join(copy, 'templates', '_test-notes.tpl'), `{{- define "test.notes" -}}\n${notes}{{- end -}}\n`);
      writeFileSync(join(copy, 'templates', 'test-notes.yaml'), 'notes: |\n{{ include "test.notes" . | indent 2 }}\n');
      const result = await runHelm(['template', 'sd', copy, '--namespace', NAMESPACE, '--kube-version', KUBE_VERSION, '--show-only', 'templates/test-notes.yaml']);
      expect(result.stderr).toBe('');
      const text = parseManifests(result.stdout)[0]!['notes'] as string;
      expect(text).toContain(`kubectl get endpointslices -n ${NAMESPACE} -l kubernetes.io/service-name=sd-secure-defaults`);
      expect(text).not.toMatch(/kubectl get [a-z,]*\bendpoints\b/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe('helm package', () => {
  test('packages the chart with its dashboard file, as the README tells', async () => {
    const out = mkdtempSync(join(tmpdir(), 'secure-defaults-package-'));
    try {
      const result = await runHelm(['package', CHART_DIR, '-d', out]);
      expect(result.code).toBe(0);
      const version = /^version: (\S+)$/m.exec(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8'))![1]!;
      const tarball = join(out, `secure-defaults-${version}.tgz`);
      const rendered = await runHelm(['template', 'sd', tarball, '--kube-version', KUBE_VERSION, '--set', 'grafanaDashboard.enabled=true']);
      expect(rendered.code).toBe(0);
      expect(rendered.stdout).toContain('"uid": "secure-defaults"');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
