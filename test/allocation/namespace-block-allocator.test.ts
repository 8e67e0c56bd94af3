import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import type { AllocationPlanSettings } from '../../src/allocation/allocation-plan.js';
import { createAllocatorMetrics } from '../../src/allocation/allocator-metrics.js';
import { allocatorPolicyFrom, type AllocatorPolicy } from '../../src/allocation/allocator-policy.js';
import { parsePolicy } from '../../src/engine/index.js';
import { parseIdRangeText, rangesOverlap } from '../../src/allocation/id-range-text.js';
import { decodeLedger, encodeLedger, LEDGER_FORMAT } from '../../src/allocation/ledger.js';
import { NamespaceBlockAllocator } from '../../src/allocation/namespace-block-allocator.js';
import { OPT_IN_LABEL, UID_RANGE_ANNOTATION } from '../../src/engine/model.js';
import { FakeTime } from './fakes/fake-time.js';
import { MemoryCluster } from './fakes/memory-cluster.js';

const OPTED_IN = { [OPT_IN_LABEL]: 'enabled' };
const settings: AllocationPlanSettings = { pool: { min: 1_000_000, max: 1_049_999 }, blockSize: 10_000, releaseAfterMs: null };

/** A policy fake: opted-in namespaces want a block unless their name starts with "rule-" (as if a spec.namespaces rule matched). */
function fakePolicy(overrides: Partial<AllocationPlanSettings> = {}): AllocatorPolicy {
  return {
    settings: { ...settings, ...overrides },
    wantsBlock: (ns) => ns.labels[OPT_IN_LABEL] === 'enabled' && !ns.name.startsWith('rule-'),
    annotationRejection: (ns) => (ns.annotations[UID_RANGE_ANNOTATION]?.startsWith('0-') ? 'range includes root (UID 0)' : null),
  };
}

function recordingLogger() {
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, ...(fields ? { fields } : {}) });
  return { lines, logger: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } };
}

function setup(policy: AllocatorPolicy | null = fakePolicy(), cluster = new MemoryCluster()) {
  const registry = new Registry();
  const metrics = createAllocatorMetrics(registry);
  const { lines, logger } = recordingLogger();
  const time = new FakeTime();
  const allocator = new NamespaceBlockAllocator({ cluster, policy: () => policy, clock: time, logger, metrics });
  const metric = async (name: string, labels: Record<string, string> = {}): Promise<number | undefined> => {
    const found = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
    return found?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value;
  };
  return { cluster, allocator, lines, metric, time };
}

const annotation = (cluster: MemoryCluster, name: string): string | undefined => cluster.namespace(name).annotations[UID_RANGE_ANNOTATION];

describe('NamespaceBlockAllocator.runPass', () => {
  it('gives opted-in namespaces blocks, records them in the ledger and on the namespaces', async () => {
    const { cluster, allocator, metric } = setup();
    cluster.addNamespace('team-a', OPTED_IN);
    cluster.addNamespace('team-b', OPTED_IN);
    cluster.addNamespace('not-opted-in');
    cluster.addNamespace('rule-covered', OPTED_IN);
    const outcome = await allocator.runPass();
    expect(outcome.status).toBe('done');
    expect(annotation(cluster, 'team-a')).toBe('1000000-1009999');
    expect(annotation(cluster, 'team-b')).toBe('1010000-1019999');
    expect(annotation(cluster, 'not-opted-in')).toBeUndefined();
    expect(annotation(cluster, 'rule-covered')).toBeUndefined();
    const ledger = decodeLedger(cluster.ledgerData());
    expect(ledger.ok && ledger.ledger.entries.map((e) => [e.namespace, e.namespaceUid])).toEqual([
      ['team-a', cluster.namespace('team-a').uid],
      ['team-b', cluster.namespace('team-b').uid],
    ]);
    expect(await metric('secure_defaults_allocation_blocks_allocated_total')).toBe(2);
    expect(await metric('secure_defaults_allocation_blocks_live')).toBe(2);
    expect(await metric('secure_defaults_allocation_pool_free_blocks')).toBe(3);
  });

  it('does nothing when the policy has no spec.allocation', async () => {
    const { cluster, allocator } = setup(null);
    cluster.addNamespace('team-a', OPTED_IN);
    expect(await allocator.runPass()).toEqual({ status: 'disabled' });
    expect(cluster.ledgerData()).toBeUndefined();
  });

  it('re-reads and re-plans when another writer changed the ledger in between (409)', async () => {
    const { cluster, allocator, metric } = setup();
    cluster.addNamespace('mine', OPTED_IN);
    const other = cluster.addNamespace('theirs', { [OPT_IN_LABEL]: 'disabled' });
    // Another replica hands out the first block just before our write lands.
    cluster.setLedgerData(encodeLedger({ entries: [] }));
    cluster.beforeLedgerWrite = () => {
      cluster.beforeLedgerWrite = null;
      cluster.setLedgerData(encodeLedger({ entries: [{ range: { min: 1_000_000, max: 1_009_999 }, namespace: 'theirs', namespaceUid: other.uid, deletedAt: null }] }));
    };
    const outcome = await allocator.runPass();
    expect(outcome.status).toBe('done');
    expect(annotation(cluster, 'mine')).toBe('1010000-1019999');
    expect(await metric('secure_defaults_allocation_ledger_conflicts_total')).toBe(1);
  });

  it('never hands out one block twice when several allocators run at the same moment', async () => {
    const cluster = new MemoryCluster();
    for (let i = 0; i < 5; i++) cluster.addNamespace(`ns-${i}`, OPTED_IN);
    const replicas = [setup(fakePolicy(), cluster), setup(fakePolicy(), cluster), setup(fakePolicy(), cluster)];
    const outcomes = await Promise.all(replicas.map((r) => r.allocator.runPass()));
    expect(outcomes.map((o) => o.status)).toEqual(['done', 'done', 'done']);
    const ranges = [0, 1, 2, 3, 4].map((i) => parseIdRangeText(annotation(cluster, `ns-${i}`) ?? 'missing'));
    const parsed = ranges.map((r) => (r.ok ? r.range : null));
    expect(parsed).not.toContain(null);
    for (const [i, a] of parsed.entries()) for (const b of parsed.slice(i + 1)) expect(rangesOverlap(a!, b!)).toBe(false);
  });

  it('heals a crash between the ledger write and the annotation on the next pass, with the same block', async () => {
    const { cluster, allocator } = setup();
    cluster.addNamespace('team-a', OPTED_IN);
    cluster.failAnnotations = true;
    const first = await allocator.runPass();
    expect(first.status === 'done' && first.annotationConflicts).toBe(1);
    expect(annotation(cluster, 'team-a')).toBeUndefined();
    cluster.failAnnotations = false;
    await allocator.runPass();
    expect(annotation(cluster, 'team-a')).toBe('1000000-1009999');
    const ledger = decodeLedger(cluster.ledgerData());
    expect(ledger.ok && ledger.ledger.entries).toHaveLength(1);
  });

  it('never overwrites a namespace that changed after it was listed', async () => {
    const { cluster, allocator } = setup();
    cluster.addNamespace('team-a', OPTED_IN);
    const inner = cluster.annotateNamespace.bind(cluster);
    cluster.annotateNamespace = async (name, rv, annotations) => {
      cluster.updateNamespace(name, (ns) => ({ annotations: { ...ns.annotations, [UID_RANGE_ANNOTATION]: '2000000-2000999' } }));
      return inner(name, rv, annotations);
    };
    const outcome = await allocator.runPass();
    expect(outcome.status === 'done' && outcome.annotationConflicts).toBe(1);
    expect(annotation(cluster, 'team-a')).toBe('2000000-2000999');
  });

  it('stops allocating on a damaged ledger and says how to repair it', async () => {
    const { cluster, allocator, lines, metric } = setup();
    cluster.addNamespace('team-a', OPTED_IN);
    cluster.setLedgerData({ format: LEDGER_FORMAT, blocks: 'not a ledger line\n' });
    const outcome = await allocator.runPass();
    expect(outcome).toEqual({ status: 'ledger-corrupt', message: expect.stringMatching(/line 1: "not": expected "MIN-MAX".*allocations repair/) });
    expect(annotation(cluster, 'team-a')).toBeUndefined();
    expect(cluster.ledgerData()).toEqual({ format: LEDGER_FORMAT, blocks: 'not a ledger line\n' });
    expect(await metric('secure_defaults_allocation_ledger_corrupt')).toBe(1);
    await allocator.runPass();
    expect(lines.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([expect.stringContaining('ledger ConfigMap is damaged')]);
  });

  it('reports a full pool once per namespace as a Warning Event, log line and metric', async () => {
    const { cluster, allocator, lines, metric } = setup(fakePolicy({ pool: { min: 1_000_000, max: 1_009_999 } }));
    cluster.addNamespace('first', OPTED_IN);
    cluster.addNamespace('second', OPTED_IN);
    await allocator.runPass();
    await allocator.runPass();
    expect(annotation(cluster, 'first')).toBe('1000000-1009999');
    expect(annotation(cluster, 'second')).toBeUndefined();
    expect(cluster.events).toEqual([
      { namespace: 'second', type: 'Warning', reason: 'UidPoolExhausted', message: expect.stringContaining('no free block of 10000 IDs is left in the pool 1000000-1009999') },
    ]);
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(await metric('secure_defaults_allocation_problems_total', { reason: 'UidPoolExhausted' })).toBe(2);
  });

  it('reports a hand-set annotation that collides, or that the engine would ignore, as Events', async () => {
    const { cluster, allocator } = setup();
    cluster.addNamespace('owner', OPTED_IN);
    await allocator.runPass();
    cluster.addNamespace('copycat', OPTED_IN, { [UID_RANGE_ANNOTATION]: '1005000-1005999' });
    cluster.addNamespace('rooty', OPTED_IN, { [UID_RANGE_ANNOTATION]: '0-999' });
    await allocator.runPass();
    expect(cluster.events.map((e) => [e.namespace, e.reason])).toEqual([
      ['copycat', 'UidRangeCollision'],
      ['rooty', 'UidRangeInvalid'],
    ]);
    expect(cluster.events[0]?.message).toMatch(/overlaps 1000000-1009999 of namespace owner/);
    expect(cluster.events[1]?.message).toMatch(/includes 0 \(root\)/);
  });

  it('reports a hand-set annotation inside the fallback range as an Event saying why, and never adopts it', async () => {
    const parsed = parsePolicy(
      'apiVersion: secure-defaults.io/v1alpha1\nkind: SecureDefaultsPolicy\nmetadata: {name: p}\nspec:\n  fallback: {uidRange: "100000-165535"}\n  allocation: {range: "1000000-1099999", blockSize: 10000}\n',
    );
    if (!parsed.ok) throw new Error('policy');
    const { cluster, allocator } = setup(allocatorPolicyFrom(parsed.policy));
    cluster.addNamespace('sharer', OPTED_IN, { [UID_RANGE_ANNOTATION]: '100000-100010' });
    await allocator.runPass();
    expect(cluster.events.map((e) => [e.namespace, e.reason])).toEqual([['sharer', 'UidRangeInvalid']]);
    expect(cluster.events[0]?.message).toMatch(/"100000-100010" ignored: it overlaps the uid range 100000-165535 of spec.fallback, which every namespace without a block of its own shares/);
    expect(annotation(cluster, 'sharer')).toBe('100000-100010');
  });

  it('keeps a deleted namespace block reserved and says so in the metrics', async () => {
    const { cluster, allocator, metric } = setup();
    cluster.addNamespace('gone', OPTED_IN);
    await allocator.runPass();
    cluster.deleteNamespace('gone');
    cluster.addNamespace('next', OPTED_IN);
    await allocator.runPass();
    expect(annotation(cluster, 'next')).toBe('1010000-1019999');
    expect(await metric('secure_defaults_allocation_blocks_quarantined')).toBe(1);
  });
});
