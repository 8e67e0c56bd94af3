// The Helm chart, rendered by the real helm: what the cluster would receive.
import { beforeAll, describe, expect, jest, test } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { checkRestricted, parsePolicy } from '../../src/engine/index.js';
import { CHART_DIR, REPO_ROOT, findOne, locateHelm, renderChart, renderChartRaw, runHelm, type Manifest } from './helm-runner.js';

// The first run on a machine builds helm from source.
jest.setTimeout(20 * 60 * 1000);

const NAMESPACE = 'platform-security';

function podTemplate(manifests: readonly Manifest[]): Manifest {
  return findOne(manifests, 'Deployment')['spec']['template'];
}

function webhookContainer(manifests: readonly Manifest[]): Manifest {
  const containers = podTemplate(manifests)['spec']['containers'] as Manifest[];
  expect(containers).toHaveLength(1);
  return containers[0]!;
}

describe('helm chart charts/secure-defaults', () => {
  let defaults: Manifest[];

  beforeAll(async () => {
    locateHelm();
    defaults = await renderChart({ namespace: NAMESPACE });
  });

  test.each([
    ['default values', []],
    ['cert-manager mode', ['certManager.enabled=true']],
    ['everything optional on', ['serviceMonitor.enabled=true', 'allocation.enabled=true', 'webhook.failurePolicy=Ignore', 'auditRole.create=true', 'auditRole.subjects[0].kind=Group', 'auditRole.subjects[0].name=auditors']],
  ])('helm lint --strict passes with %s', async (_name, set) => {
    const args = ['lint', '--strict', CHART_DIR, '--namespace', NAMESPACE];
    for (const pair of set) args.push('--set', pair);
    const result = await runHelm(args);
    expect(result.stderr + result.stdout).toContain('0 chart(s) failed');
    expect(result.code).toBe(0);
  });

  test.each([
    ['1.34.9', false],
    ['1.35.0', true],
    ['1.37.2', true],
  ])('kubeVersion: Kubernetes %s installs: %s (1.35 is the oldest supported release)', async (kubeVersion, installs) => {
    const result = await renderChartRaw({ namespace: NAMESPACE, kubeVersion });
    expect(result.code === 0).toBe(installs);
    if (!installs) expect(result.stderr).toContain('chart requires kubeVersion: >=1.35.0-0');
  });

  test('renders exactly the expected objects by default', () => {
    const kinds = defaults.map((manifest) => manifest['kind']).sort();
    expect(kinds).toEqual(
      [
        'ClusterRole',
        'ClusterRoleBinding',
        'ConfigMap',
        'Deployment',
        'MutatingWebhookConfiguration',
        'PodDisruptionBudget',
        'Role',
        'RoleBinding',
        'Secret',
        'Service',
        'ServiceAccount',
        'ValidatingWebhookConfiguration',
      ].sort(),
    );
    for (const manifest of defaults) {
      const clusterScoped = ['ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'].includes(manifest['kind']);
      expect(manifest['metadata']['namespace']).toBe(clusterScoped ? undefined : NAMESPACE);
    }
  });

  describe('mutating webhook', () => {
    const webhook = (manifests: readonly Manifest[]): Manifest => {
      const config = findOne(manifests, 'MutatingWebhookConfiguration');
      expect(config['webhooks']).toHaveLength(1);
      return config['webhooks'][0];
    };

    test('never sees kube-system or its own namespace, and only opted-in namespaces', () => {
      const selector = webhook(defaults)['namespaceSelector'];
      expect(selector['matchLabels']).toEqual({ 'secure-defaults.io/inject': 'enabled' });
      expect(selector['matchExpressions']).toEqual([
        { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', NAMESPACE] },
      ]);
    });

    test('adds webhook.excludeNamespaces to the exclusions without dropping the fixed ones', async () => {
      const rendered = await renderChart({ namespace: NAMESPACE, set: ['webhook.excludeNamespaces={monitoring,kube-system}'] });
      expect(webhook(rendered)['namespaceSelector']['matchExpressions'][0]['values']).toEqual(['kube-system', NAMESPACE, 'monitoring']);
    });

    test('defaults to failurePolicy Fail, v1 reviews, no side effects, reinvocation, 5 s timeout', () => {
      expect(webhook(defaults)).toMatchObject({
        failurePolicy: 'Fail',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        reinvocationPolicy: 'IfNeeded',
        timeoutSeconds: 5,
        clientConfig: { service: { namespace: NAMESPACE, path: '/mutate', port: 443, name: findOne(defaults, 'Service')['metadata']['name'] } },
      });
    });

    test('failurePolicy and timeout follow values', async () => {
      const rendered = await renderChart({ namespace: NAMESPACE, set: ['webhook.failurePolicy=Ignore', 'webhook.timeoutSeconds=10'] });
      expect(webhook(rendered)).toMatchObject({ failurePolicy: 'Ignore', timeoutSeconds: 10 });
    });

    test('catches Pod CREATE and ephemeral-container UPDATE only', () => {
      const rules = webhook(defaults)['rules'] as Manifest[];
      expect(rules.map((rule) => [rule['resources'], rule['operations'], rule['apiGroups'], rule['apiVersions']])).toEqual([
        [['pods'], ['CREATE'], [''], ['v1']],
        [['pods/ephemeralcontainers'], ['UPDATE'], [''], ['v1']],
      ]);
    });
  });

  describe('policy ConfigMap and its validating webhook', () => {
    test('the chart ships policies/default.yaml byte for byte (one source of truth)', () => {
      const repoPolicy = join(REPO_ROOT, 'policies', 'default.yaml');
      expect(existsSync(repoPolicy)).toBe(true);
      expect(readFileSync(join(CHART_DIR, 'files', 'default-policy.yaml'), 'utf8')).toBe(readFileSync(repoPolicy, 'utf8'));
    });

    test('the rendered policy.yaml is the default policy and parses without errors', () => {
      const configMap = findOne(defaults, 'ConfigMap');
      const text = configMap['data']['policy.yaml'] as string;
      expect(text.trim()).toBe(readFileSync(join(CHART_DIR, 'files', 'default-policy.yaml'), 'utf8').trim());
      const parsed = parsePolicy(text);
      expect(parsed.ok ? [] : parsed.errors).toEqual([]);
    });

    test('policy.content replaces the default', async () => {
      const content = 'apiVersion: secure-defaults.io/v1alpha1\nkind: SecureDefaultsPolicy\n';
      const rendered = await renderChart({ namespace: NAMESPACE, set: [`policy.content=${content.replace(/,/g, '\\,')}`] });
      expect(findOne(rendered, 'ConfigMap')['data']['policy.yaml']).toBe(content);
    });

    test('validates only the policy ConfigMap, in its namespace, failing open', () => {
      const config = findOne(defaults, 'ValidatingWebhookConfiguration');
      const policyName = findOne(defaults, 'ConfigMap')['metadata']['name'];
      expect(config['webhooks']).toEqual([
        expect.objectContaining({
          failurePolicy: 'Ignore',
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
          clientConfig: expect.objectContaining({ service: expect.objectContaining({ path: '/validate-policy', namespace: NAMESPACE }) }),
          rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['configmaps'], scope: 'Namespaced' }],
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NAMESPACE } },
          matchConditions: [{ name: 'policy-configmap-only', expression: `request.name == "${policyName}"` }],
        }),
      ]);
    });

    test('the Deployment points --policy-configmap at the rendered ConfigMap', () => {
      const args = webhookContainer(defaults)['args'] as string[];
      const name = findOne(defaults, 'ConfigMap')['metadata']['name'];
      expect(args).toEqual([
        'serve', '--port', '8443', '--tls-cert', '/tls/tls.crt', '--tls-key', '/tls/tls.key',
        '--policy-configmap', `${NAMESPACE}/${name}`, '--log-level', 'info',
        '--fail-closed', '--shutdown-delay', '0', '--drain-timeout', '20',
      ]);
    });

    test('failurePolicy Ignore also drops --fail-closed, so the webhook admits what it cannot judge', async () => {
      const rendered = await renderChart({ namespace: NAMESPACE, set: ['webhook.failurePolicy=Ignore'] });
      expect(webhookContainer(rendered)['args']).not.toContain('--fail-closed');
    });

    test('caps the heap from heapLimitMB, and refuses a cap above half the memory limit', async () => {
      const env = (manifests: readonly Manifest[]) => podTemplate(manifests)['spec']['containers'][0]['env'] as Manifest[];
      expect(env(defaults)).toContainEqual({ name: 'NODE_OPTIONS', value: '--enable-source-maps --max-old-space-size=128 --max-semi-space-size=16' });
      const raised = await renderChart({ namespace: NAMESPACE, set: ['resources.limits.memory=1Gi', 'heapLimitMB=512'] });
      expect(env(raised)).toContainEqual({ name: 'NODE_OPTIONS', value: '--enable-source-maps --max-old-space-size=512 --max-semi-space-size=16' });
      const result = await renderChartRaw({ namespace: NAMESPACE, set: ['heapLimitMB=200'] });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('heapLimitMB (200) must be at most half of resources.limits.memory (384Mi)');
    });

    test('refuses a grace period too short for preStop sleep + shutdown delay + drain', async () => {
      const result = await renderChartRaw({ namespace: NAMESPACE, set: ['terminationGracePeriodSeconds=25'] });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('terminationGracePeriodSeconds (25) must exceed preStopSleepSeconds + shutdownDelaySeconds + drainTimeoutSeconds (25)');
    });
  });

  describe('the webhook Pod runs under its own medicine', () => {
    test('passes the Pod Security Standards "restricted" profile', () => {
      expect(checkRestricted(podTemplate(defaults))).toEqual([]);
    });

    test('non-root numeric user, read-only root, no privilege escalation, all capabilities dropped', () => {
      const pod = podTemplate(defaults)['spec'];
      expect(pod['securityContext']).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(Number.isInteger(pod['securityContext']['runAsUser'])).toBe(true);
      expect(pod['securityContext']['runAsUser']).toBeGreaterThan(0);
      expect(webhookContainer(defaults)['securityContext']).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(pod['automountServiceAccountToken']).toBe(true);
      const tmp = (pod['volumes'] as Manifest[]).find((volume) => volume['name'] === 'tmp');
      expect(tmp?.['emptyDir']).toBeDefined();
    });

    test('has resources, https probes, and a preStop sleep shorter than the grace period', () => {
      const container = webhookContainer(defaults);
      expect(container['resources']['requests']).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
      expect(container['resources']['limits']).toMatchObject({ memory: expect.any(String) });
      expect(container['livenessProbe']['httpGet']).toEqual({ path: '/healthz', port: 'https', scheme: 'HTTPS' });
      expect(container['readinessProbe']['httpGet']).toEqual({ path: '/readyz', port: 'https', scheme: 'HTTPS' });
      const sleep = container['lifecycle']['preStop']['sleep']['seconds'] as number;
      expect(sleep).toBeGreaterThan(0);
      const args = container['args'] as string[];
      const afterSigterm = Number(args[args.indexOf('--shutdown-delay') + 1]) + Number(args[args.indexOf('--drain-timeout') + 1]);
      expect(podTemplate(defaults)['spec']['terminationGracePeriodSeconds']).toBeGreaterThan(sleep + afterSigterm);
      expect(container['ports']).toEqual([{ name: 'https', containerPort: 8443, protocol: 'TCP' }]);
    });

    test('two replicas, spread over nodes and zones, protected by a PodDisruptionBudget', () => {
      const deployment = findOne(defaults, 'Deployment');
      const selector = deployment['spec']['selector']['matchLabels'];
      expect(deployment['spec']['replicas']).toBe(2);
      const pod = podTemplate(defaults)['spec'];
      const antiAffinity = pod['affinity']['podAntiAffinity']['preferredDuringSchedulingIgnoredDuringExecution'][0]['podAffinityTerm'];
      expect(antiAffinity).toEqual({ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selector } });
      expect(pod['topologySpreadConstraints'][0]).toMatchObject({ topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: selector } });
      const pdb = findOne(defaults, 'PodDisruptionBudget');
      expect(pdb['spec']).toEqual({ maxUnavailable: 1, selector: { matchLabels: selector } });
      expect(podTemplate(defaults)['metadata']['labels']).toMatchObject(selector);
    });

    test('the Service sends 443 to the container port named https', () => {
      const service = findOne(defaults, 'Service');
      expect(service['spec']['ports']).toEqual([{ name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' }]);
      expect(service['spec']['selector']).toEqual(findOne(defaults, 'Deployment')['spec']['selector']['matchLabels']);
    });
  });

  describe('RBAC', () => {
    const ALLOWED: Record<string, readonly string[]> = {
      configmaps: ['get', 'list', 'watch'],
      namespaces: ['get', 'list', 'watch'],
      events: ['create', 'patch'],
    };
    const ALLOWED_WITH_ALLOCATION: Record<string, readonly string[]> = {
      configmaps: ['get', 'list', 'watch', 'update', 'create'],
      namespaces: ['get', 'list', 'watch', 'patch'],
      events: ['create', 'patch'],
      leases: ['get', 'update', 'create'],
    };

    function rules(manifests: readonly Manifest[]): Manifest[] {
      return manifests.filter((manifest) => manifest['kind'] === 'Role' || manifest['kind'] === 'ClusterRole').flatMap((role) => role['rules'] as Manifest[]);
    }

    test.each([
      ['default', [] as string[], ALLOWED],
      ['allocation on', ['allocation.enabled=true'], ALLOWED_WITH_ALLOCATION],
    ])('%s: no wildcards and no verb beyond what the webhook uses', async (_name, set, allowed) => {
      const rendered = set.length === 0 ? defaults : await renderChart({ namespace: NAMESPACE, set });
      const all = rules(rendered);
      expect(all.length).toBeGreaterThan(0);
      for (const rule of all) {
        for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames']) {
          expect(rule[field] ?? []).not.toContain('*');
        }
        for (const resource of rule['resources'] as string[]) {
          expect(Object.keys(allowed)).toContain(resource);
          for (const verb of rule['verbs'] as string[]) expect(allowed[resource]).toContain(verb);
        }
      }
    });

    test('allocation on: serve is told the ledger and Lease names its RBAC is scoped to, and its Pod name', async () => {
      const rendered = await renderChart({ namespace: NAMESPACE, set: ['allocation.enabled=true'] });
      const container = podTemplate(rendered)['spec']['containers'][0];
      const args = container['args'] as string[];
      const flag = (name: string) => args[args.indexOf(name) + 1];
      const scopedNames = (resource: string) =>
        rules(rendered)
          .filter((rule) => (rule['resources'] as string[]).includes(resource) && rule['resourceNames'] !== undefined)
          .flatMap((rule) => rule['resourceNames'] as string[]);
      expect(scopedNames('leases')).toEqual([flag('--allocation-lease')]);
      expect(scopedNames('configmaps')).toContain(flag('--allocation-ledger'));
      expect(flag('--allocation-namespace')).toBe(NAMESPACE);
      expect(container['env']).toContainEqual({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
      expect(podTemplate(defaults)['spec']['containers'][0]['args']).not.toContain('--allocation-ledger');
    });

    test('ConfigMaps are readable only by the policy ConfigMap name, only in the release namespace', () => {
      const configMapRules = rules(defaults).filter((rule) => (rule['resources'] as string[]).includes('configmaps'));
      expect(configMapRules).toEqual([
        { apiGroups: [''], resources: ['configmaps'], resourceNames: [findOne(defaults, 'ConfigMap')['metadata']['name']], verbs: ['get', 'list', 'watch'] },
      ]);
      expect(findOne(defaults, 'ClusterRole')['rules'].some((rule: Manifest) => rule['resources'].includes('configmaps'))).toBe(false);
    });

    test('bindings grant the roles to the webhook ServiceAccount', () => {
      const serviceAccount = findOne(defaults, 'ServiceAccount')['metadata']['name'];
      expect(podTemplate(defaults)['spec']['serviceAccountName']).toBe(serviceAccount);
      for (const [binding, role] of [['RoleBinding', 'Role'], ['ClusterRoleBinding', 'ClusterRole']] as const) {
        const rendered = findOne(defaults, binding);
        expect(rendered['roleRef']).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: role, name: findOne(defaults, role)['metadata']['name'] });
        expect(rendered['subjects']).toEqual([{ kind: 'ServiceAccount', name: serviceAccount, namespace: NAMESPACE }]);
      }
    });
  });

  describe('audit ClusterRole (auditRole.create)', () => {
    test('is off by default', () => {
      expect(defaults.filter((m) => String(m['metadata']['name']).endsWith('-auditor'))).toEqual([]);
    });

    test('grants get/list on exactly what `secure-defaults audit` lists, and get on the policy ConfigMap and the webhook configuration by name', async () => {
      const rendered = await renderChart({ namespace: NAMESPACE, set: ['auditRole.create=true'] });
      const role = rendered.find((m) => m['kind'] === 'ClusterRole' && m['metadata']['name'] === 'sd-secure-defaults-auditor');
      expect(role).toBeDefined();
      const granted = new Map<string, string[]>();
      for (const rule of role!['rules'] as Manifest[]) {
        for (const group of rule['apiGroups'] as string[]) {
          for (const resource of rule['resources'] as string[]) {
            const key = `${group}/${resource}${rule['resourceNames'] ? `:${(rule['resourceNames'] as string[]).join(',')}` : ''}`;
            granted.set(key, rule['verbs'] as string[]);
          }
        }
      }
      const { AUDITED_KINDS } = await import('../../src/cluster/kube-audit-reader.js');
      const expected = new Map<string, string[]>([['/namespaces', ['get', 'list']]]);
      for (const kind of AUDITED_KINDS) expected.set(`${kind.apiVersion.includes('/') ? kind.apiVersion.split('/')[0] : ''}/${kind.resource}`, ['get', 'list']);
      expected.set(`/configmaps:${findOne(rendered, 'ConfigMap')['metadata']['name']}`, ['get']);
      expected.set(`admissionregistration.k8s.io/mutatingwebhookconfigurations:${findOne(rendered, 'MutatingWebhookConfiguration')['metadata']['name']}`, ['get']);
      expect(Object.fromEntries(granted)).toEqual(Object.fromEntries(expected));
      expect(rendered.filter((m) => m['metadata']['name'] === 'sd-secure-defaults-auditor' && m['kind'] === 'ClusterRoleBinding')).toEqual([]);
    });

    test('auditRole.subjects binds it; a subject without a name is refused at install time', async () => {
      const rendered = await renderChart({ namespace: NAMESPACE, set: ['auditRole.create=true', 'auditRole.subjects[0].kind=Group', 'auditRole.subjects[0].name=platform-auditors', 'auditRole.subjects[0].apiGroup=rbac.authorization.k8s.io'] });
      const binding = rendered.find((m) => m['kind'] === 'ClusterRoleBinding' && m['metadata']['name'] === 'sd-secure-defaults-auditor');
      expect(binding!['roleRef']).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'sd-secure-defaults-auditor' });
      expect(binding!['subjects']).toEqual([{ kind: 'Group', name: 'platform-auditors', apiGroup: 'rbac.authorization.k8s.io' }]);
      const refused = await renderChartRaw({ namespace: NAMESPACE, set: ['auditRole.create=true', 'auditRole.subjects[0].kind=Group'] });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('name');
    });
  });

  describe('certificates', () => {
    test('Helm mode: the caBundle is the Secret CA, which signed a serving cert naming the Service', () => {
      const secret = findOne(defaults, 'Secret');
      expect(secret['type']).toBe('kubernetes.io/tls');
      const decode = (key: string): string => Buffer.from(secret['data'][key] as string, 'base64').toString('utf8');
      const ca = new X509Certificate(decode('ca.crt'));
      const serving = new X509Certificate(decode('tls.crt'));
      expect(serving.verify(ca.publicKey)).toBe(true);
      const service = findOne(defaults, 'Service')['metadata']['name'];
      expect(serving.checkHost(`${service}.${NAMESPACE}.svc`)).toBe(`${service}.${NAMESPACE}.svc`);
      expect(decode('tls.key')).toContain('PRIVATE KEY');
      for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
        for (const webhook of findOne(defaults, kind)['webhooks'] as Manifest[]) {
          expect(webhook['clientConfig']['caBundle']).toBe(secret['data']['ca.crt']);
        }
      }
      const tlsVolume = (podTemplate(defaults)['spec']['volumes'] as Manifest[]).find((volume) => volume['name'] === 'tls');
      expect(tlsVolume?.['secret']['secretName']).toBe(secret['metadata']['name']);
    });

    test('cert-manager mode: no Secret or caBundle; the CA is injected from the serving Certificate', async () => {
      const rendered = await renderChart({ namespace: NAMESPACE, set: ['certManager.enabled=true'] });
      expect(rendered.filter((manifest) => manifest['kind'] === 'Secret')).toEqual([]);
      const certificates = rendered.filter((manifest) => manifest['kind'] === 'Certificate');
      const issuers = rendered.filter((manifest) => manifest['kind'] === 'Issuer');
      expect(certificates).toHaveLength(2);
      expect(issuers).toHaveLength(2);
      const ca = certificates.find((certificate) => certificate['spec']['isCA'] === true)!;
      const serving = certificates.find((certificate) => certificate['spec']['isCA'] !== true)!;
      const caIssuer = issuers.find((issuer) => issuer['spec']['ca'] !== undefined)!;
      const selfSigned = issuers.find((issuer) => issuer['spec']['selfSigned'] !== undefined)!;
      expect(ca['spec']['issuerRef']).toEqual({ kind: 'Issuer', name: selfSigned['metadata']['name'] });
      expect(caIssuer['spec']['ca']['secretName']).toBe(ca['spec']['secretName']);
      expect(serving['spec']['issuerRef']).toEqual({ kind: 'Issuer', name: caIssuer['metadata']['name'] });
      const service = findOne(rendered, 'Service')['metadata']['name'];
      expect(serving['spec']['dnsNames']).toContain(`${service}.${NAMESPACE}.svc`);
      const tlsVolume = (podTemplate(rendered)['spec']['volumes'] as Manifest[]).find((volume) => volume['name'] === 'tls');
      expect(tlsVolume?.['secret']['secretName']).toBe(serving['spec']['secretName']);
      for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
        const config = findOne(rendered, kind);
        expect(config['metadata']['annotations']['cert-manager.io/inject-ca-from']).toBe(`${NAMESPACE}/${serving['metadata']['name']}`);
        for (const webhook of config['webhooks'] as Manifest[]) expect(webhook['clientConfig']['caBundle']).toBeUndefined();
      }
    });
  });

  test('ServiceMonitor is off by default and, when on, scrapes /metrics over verified https', async () => {
    expect(defaults.some((manifest) => manifest['kind'] === 'ServiceMonitor')).toBe(false);
    const rendered = await renderChart({ namespace: NAMESPACE, set: ['serviceMonitor.enabled=true', 'serviceMonitor.labels.release=prom'] });
    const monitor = findOne(rendered, 'ServiceMonitor');
    expect(monitor['metadata']['labels']['release']).toBe('prom');
    expect(monitor['spec']['endpoints']).toEqual([
      expect.objectContaining({ port: 'https', path: '/metrics', scheme: 'https', tlsConfig: expect.objectContaining({ ca: { secret: { name: findOne(rendered, 'Secret')['metadata']['name'], key: 'ca.crt' } } }) }),
    ]);
  });

  describe('values.schema.json refuses bad values at install time', () => {
    test.each([
      ['replicas: "two"', ['replicas=two'], "at '/replicas': got string, want integer"],
      ['an unknown failurePolicy', ['webhook.failurePolicy=Sometimes'], "at '/webhook/failurePolicy'"],
      ['a timeout above the API server maximum', ['webhook.timeoutSeconds=31'], "at '/webhook/timeoutSeconds': maximum"],
      ['a misspelt top-level key', ['replica=3'], "additional properties 'replica' not allowed"],
      ['a privileged container port', ['containerPort=443'], "at '/containerPort': minimum"],
    ])('%s', async (_name, set, path) => {
      const result = await renderChartRaw({ namespace: NAMESPACE, set });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(path);
    });

    test('a values file with replicas: "two" is refused too', async () => {
      const file = join(REPO_ROOT, 'test', 'chart', 'fixtures', 'bad-replicas.yaml');
      expect(parseYaml(readFileSync(file, 'utf8'))).toEqual({ replicas: 'two' });
      const refused = await renderChartRaw({ namespace: NAMESPACE, values: file });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain("at '/replicas': got string, want integer");
    });
  });
});
