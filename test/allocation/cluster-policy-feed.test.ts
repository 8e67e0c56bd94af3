// The cluster sources announce each newly accepted policy, which is how `serve` starts and stops
// the allocator when an edit adds or removes spec.allocation.
import { describe, expect, it } from '@jest/globals';
import type { V1ConfigMap, V1Namespace } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { createClusterSources } from '../../src/cluster/cluster-sources.js';
import { parsePolicy } from '../../src/engine/index.js';
import { createWebhookMetrics } from '../../src/metrics/webhook-metrics.js';
import { FakeListWatch } from '../cluster/fake-list-watch.js';
import { ManualClock } from '../cluster/manual-clock.js';
import { BROKEN_POLICY, policyYaml } from '../cluster/policy-fixtures.js';

const configMap = (rv: string, text: string, labels: Record<string, string> = {}): V1ConfigMap => ({
  metadata: { namespace: 'secure-defaults', name: 'policy', resourceVersion: rv, labels },
  data: { 'policy.yaml': text },
});
const withAllocation = (name: string): string => `${policyYaml(name)}  allocation: { range: "1000000000-1999999999", blockSize: 10000 }\n`;

describe('cluster sources: policy change notifications', () => {
  it('tells listeners of each accepted policy once, never of a refused edit or an edit that leaves the policy text alone', async () => {
    const clock = new ManualClock();
    const configMaps = new FakeListWatch<V1ConfigMap>();
    const namespaces = new FakeListWatch<V1Namespace>();
    configMaps.listAnswers.push({ items: [configMap('1', policyYaml('plain'))], resourceVersion: '1' });
    namespaces.listAnswers.push({ items: [], resourceVersion: '1' });
    const sources = createClusterSources(
      { configMap: configMaps, namespaces, readNamespace: async () => null, events: { record: async () => {} } },
      {
        configMap: { namespace: 'secure-defaults', name: 'policy' },
        parsePolicy,
        logger: { error() {}, warn() {}, info() {}, debug() {} },
        metrics: createWebhookMetrics(new Registry()),
        clock,
      },
    );
    const heard: string[] = [];
    const unsubscribe = sources.onPolicyChange((snapshot) => heard.push(`${snapshot.policy.name}@${snapshot.generation} allocation=${snapshot.policy.allocation !== null}`));
    sources.start();
    await clock.advance(0);
    const watch = configMaps.lastWatch().callbacks;
    watch.onEvent('MODIFIED', configMap('2', withAllocation('alloc')));
    watch.onEvent('MODIFIED', configMap('3', BROKEN_POLICY));
    watch.onEvent('MODIFIED', configMap('4', withAllocation('alloc'), { touched: 'yes' }));
    watch.onEvent('MODIFIED', configMap('5', policyYaml('plain-again')));
    unsubscribe();
    watch.onEvent('MODIFIED', configMap('6', withAllocation('unheard')));
    sources.stop();
    expect(heard).toEqual(['plain@1 allocation=false', 'alloc@2 allocation=true', 'plain-again@3 allocation=false']);
    expect(sources.policySource.current()?.policy.name).toBe('unheard');
  });
});
