// The audit's answer for a workload is the webhook's answer for the Pod its controller creates:
// the real webhook (HTTPS, AdmissionReview in and out, the same policy and namespaces) is asked
// about a Pod the test builds from the template itself, and the audit about the workload.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { auditNamespace, listNamespaces } from '../../src/audit/cluster-audit.js';
import { checkRestricted, decideAdmission, parsePolicy, type CompiledPolicy, type NamespaceInfo } from '../../src/engine/index.js';
import { staticPolicySource, inMemoryNamespaces } from '../../src/ports/standalone-ports.js';
import { podArbitrary } from '../engine/pod-generators.js';
import { POLICY_HEADER } from '../engine/engine-fixtures.js';
import { decodePatch, podReview, startTestWebhook, type TestWebhook } from '../server/webhook-harness.js';
import { deployment, FakeClusterReader, ns } from './fake-cluster-reader.js';

const RULES = `
  namespaces:
    - names: ["payments", "team-*"]
      uidRange: "20000-29999"
    - selector:
        matchExpressions:
          - { key: tier, operator: In, values: [search, ads] }
      uidRange: "30000-39999"
  fallback:
    uidRange: "100000-165535"
  allocation:
    range: "1000000000-1999999999"
    blockSize: 10000
`;

function compile(spec: string): CompiledPolicy {
  const parsed = parsePolicy(`${POLICY_HEADER}spec:\n${spec}`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.policy;
}

const OPT_IN = { 'secure-defaults.io/inject': 'enabled' };
const NAMESPACES = [
  ns('payments', OPT_IN),
  ns('team-web', OPT_IN),
  ns('search', { ...OPT_IN, tier: 'search' }),
  ns('tenant-a', OPT_IN, { 'secure-defaults.io/uid-range': '1000010000-1000019999' }),
  ns('tenant-bad', OPT_IN, { 'secure-defaults.io/uid-range': '20000-29999' }),
  ns('tenant-new', OPT_IN),
  ns('legacy'),
];

describe.each([
  ['fill mode', `  mode: fill${RULES}`],
  ['enforce mode', `  mode: enforce${RULES}`],
  ['warn mode', `  mode: warn${RULES}`],
  ['fill mode with Pod opt-out', `  mode: fill\n  allowPodOptOut: true${RULES}`],
])('audit = webhook (%s)', (_name, spec) => {
  const policy = compile(spec);
  let webhook: TestWebhook;
  let namespaces: NamespaceInfo[];

  beforeAll(async () => {
    namespaces = await listNamespaces(new FakeClusterReader({ namespaces: NAMESPACES, objects: {} }));
    webhook = await startTestWebhook({
      policySource: staticPolicySource(policy),
      namespaces: inMemoryNamespaces(namespaces),
      decideAdmission,
      parsePolicy,
      failurePolicy: 'closed',
    });
  });
  afterAll(() => webhook.stop());

  test('for generated Pod templates in every kind of namespace, the verdict, patch, warnings and message are the webhook\'s', async () => {
    await fc.assert(
      fc.asyncProperty(podArbitrary(), fc.constantFrom(...NAMESPACES.map((n) => (n['metadata'] as { name: string }).name)), fc.boolean(), async (pod, namespaceName, optOut) => {
        const template = { ...(optOut ? { annotations: { 'secure-defaults.io/skip': 'true' } } : {}), ...((pod['metadata'] as object | undefined) ?? {}) };
        const object = deployment(namespaceName, 'web', pod['spec'] as Record<string, unknown>, template);
        const reader = new FakeClusterReader({ namespaces: NAMESPACES, objects: { Deployment: [object] } });
        const namespace = namespaces.find((n) => n.name === namespaceName)!;
        const audit = await auditNamespace(reader, { decideAdmission, checkRestricted }, { policy, generation: 1 }, namespace, { assumeOptedIn: false, excluded: new Map() });
        const [workload] = audit.workloads;

        // What the Deployment controller sends: the template's labels, annotations and spec, a generateName.
        const templateOf = (object['spec'] as { template: { metadata: { labels?: object; annotations?: object }; spec: object } }).template;
        const { labels, annotations } = templateOf.metadata;
        const controllerPod = { apiVersion: 'v1', kind: 'Pod', metadata: { labels, annotations, generateName: 'web-', namespace: namespaceName }, spec: templateOf.spec };
        const answer = (await webhook.post('/mutate', podReview({ namespace: namespaceName, object: controllerPod, dryRun: true }))).json().response;

        expect(workload).toBeDefined();
        if (namespaceName === 'legacy') {
          // Not opted in: the API server does not call the webhook; called anyway, it changes nothing.
          expect(workload!.verdict).toBe('not-opted-in');
          expect(answer.allowed).toBe(true);
          expect(answer.patch).toBeUndefined();
          return;
        }
        expect(workload!.verdict === 'denied').toBe(!answer.allowed);
        expect(workload!.patch).toEqual(decodePatch(answer) ?? []);
        expect(workload!.warnings).toEqual(answer.warnings ?? []);
        expect(workload!.message).toBe(answer.allowed ? null : answer.status.message);
        if (answer.allowed && workload!.verdict !== 'left-alone') expect(workload!.verdict).toBe(answer.patch === undefined ? 'unchanged' : 'hardened');
      }),
      { numRuns: 120 },
    );
  });
});
