// The cluster wiring end to end inside one process: fake API calls feed the real reflectors, the
// real policy parser and engine judge, and Pods go through the real HTTPS server.
import { afterEach, describe, expect, it } from '@jest/globals';
import type { V1ConfigMap, V1Namespace } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { createClusterSources, type ClusterSources } from '../../src/cluster/cluster-sources.js';
import type { PolicyEvent } from '../../src/cluster/policy-event-recorder.js';
import { decideAdmission, parsePolicy } from '../../src/engine/index.js';
import { createWebhookMetrics } from '../../src/metrics/webhook-metrics.js';
import { decodePatch, podReview, startTestWebhook, type TestWebhook } from '../server/webhook-harness.js';
import { FakeListWatch } from './fake-list-watch.js';
import { ManualClock } from './manual-clock.js';
import { BROKEN_POLICY, policyYaml } from './policy-fixtures.js';

const configMap = (rv: string, text: string): V1ConfigMap => ({ metadata: { namespace: 'secure-defaults', name: 'policy', resourceVersion: rv }, data: { 'policy.yaml': text } });
const namespace = (name: string, rv: string, labels: Record<string, string>): V1Namespace => ({ metadata: { name, resourceVersion: rv, labels } });

describe('cluster sources behind the webhook', () => {
  let hook: TestWebhook | null = null;
  let sources: ClusterSources | null = null;
  afterEach(async () => {
    sources?.stop();
    await hook?.stop();
  });

  it('serves the ConfigMap policy, follows edits for the next Pod, refuses a broken edit, and follows namespace labels', async () => {
    const clock = new ManualClock();
    const configMaps = new FakeListWatch<V1ConfigMap>();
    const namespaces = new FakeListWatch<V1Namespace>();
    const events: PolicyEvent[] = [];
    const registry = new Registry();
    const metrics = createWebhookMetrics(registry);
    configMaps.listAnswers.push({ items: [configMap('10', policyYaml('v1', '100000-165535'))], resourceVersion: '10' });
    namespaces.listAnswers.push({ items: [namespace('team-a', '3', { 'secure-defaults.io/inject': 'enabled' }), namespace('legacy', '4', {})], resourceVersion: '11' });
    sources = createClusterSources(
      {
        configMap: configMaps,
        namespaces,
        readNamespace: async () => null,
        events: { record: async (_cm, event) => void events.push(event) },
      },
      { configMap: { namespace: 'secure-defaults', name: 'policy' }, parsePolicy, logger: { error() {}, warn() {}, info() {}, debug() {} }, metrics, clock },
    );
    hook = await startTestWebhook({
      policySource: sources.policySource,
      namespaces: sources.namespaces,
      decideAdmission,
      parsePolicy,
      registry,
      metrics,
      readinessChecks: sources.readinessChecks,
    });
    expect((await hook.get('/readyz')).text).toBe('not ready: no valid policy loaded yet; namespace cache not synced; policy ConfigMap not read yet\n');
    sources.start();
    await clock.advance(0);
    expect((await hook.get('/readyz')).status).toBe(200);

    const runAsUserOf = async (uid: string, ns = 'team-a'): Promise<unknown> => {
      const response = (await hook!.post('/mutate', podReview({ uid, namespace: ns }))).json().response;
      const patch = (decodePatch(response) ?? []) as Array<{ path: string; value: unknown }>;
      const podContext = patch.find((op) => op.path === '/spec/securityContext');
      return (podContext?.value as { runAsUser?: number } | undefined)?.runAsUser;
    };
    expect(await runAsUserOf('p1')).toBe(100000);

    configMaps.lastWatch().callbacks.onEvent('MODIFIED', configMap('12', policyYaml('v2', '200000-265535')));
    expect(await runAsUserOf('p2')).toBe(200000);

    configMaps.lastWatch().callbacks.onEvent('MODIFIED', configMap('13', BROKEN_POLICY));
    expect(await runAsUserOf('p3')).toBe(200000);
    expect(events.map((e) => e.reason)).toEqual(['PolicyLoaded', 'PolicyLoaded', 'PolicyRejected']);
    const text = (await hook.get('/metrics')).text;
    expect(text).toContain('secure_defaults_policy_generation 2');
    expect(text).toContain('secure_defaults_policy_reload_errors_total 1');

    expect(await runAsUserOf('p4', 'legacy')).toBeUndefined();
    namespaces.lastWatch().callbacks.onEvent('MODIFIED', namespace('legacy', '14', { 'secure-defaults.io/inject': 'enabled' }));
    expect(await runAsUserOf('p5', 'legacy')).toBe(200000);
  });

  it('announces a policy whose parse answers after the watch event was handled', async () => {
    const clock = new ManualClock();
    const configMaps = new FakeListWatch<V1ConfigMap>();
    const namespaces = new FakeListWatch<V1Namespace>();
    configMaps.listAnswers.push({ items: [configMap('10', policyYaml('v1', '100000-165535'))], resourceVersion: '10' });
    namespaces.listAnswers.push({ items: [], resourceVersion: '11' });
    const later = (text: string) => new Promise<ReturnType<typeof parsePolicy>>((resolve) => setTimeout(() => resolve(parsePolicy(text)), 20));
    sources = createClusterSources(
      { configMap: configMaps, namespaces, readNamespace: async () => null, events: { record: async () => undefined } },
      { configMap: { namespace: 'secure-defaults', name: 'policy' }, parsePolicy: later, logger: { error() {}, warn() {}, info() {}, debug() {} }, metrics: createWebhookMetrics(new Registry()), clock },
    );
    const announced: string[] = [];
    sources.onPolicyChange((snapshot) => announced.push(`${snapshot.policy.name}@${snapshot.generation}`));
    sources.start();
    await clock.advance(0);
    expect(announced).toEqual([]);
    await sources.policySource.settled();
    expect(announced).toEqual(['v1@1']);
    configMaps.lastWatch().callbacks.onEvent('MODIFIED', configMap('12', policyYaml('v2', '200000-265535')));
    expect(sources.policySource.current()?.policy.name).toBe('v1');
    await sources.policySource.settled();
    expect(announced).toEqual(['v1@1', 'v2@2']);
  });
});
