import { describe, expect, it } from '@jest/globals';
import { waitForNamespaceBlock, type NamespaceSource } from '../../src/allocation/namespace-block-waiter.js';
import { parsePolicy, type CompiledPolicy, type NamespaceInfo } from '../../src/engine/index.js';
import { FakeTime } from './fakes/fake-time.js';

function policy(withAllocation: boolean): CompiledPolicy {
  const parsed = parsePolicy(`
apiVersion: secure-defaults.io/v1alpha1
kind: SecureDefaultsPolicy
metadata: { name: test }
spec:
  namespaces:
    - names: [payments]
      uidRange: "50000-59999"
${withAllocation ? '  allocation: { range: "1000000000-1999999999", blockSize: 10000 }' : ''}
`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.policy;
}

/** A namespace cache like the server's: set() stores and notifies subscribers. */
class FakeNamespaceCache implements NamespaceSource {
  private readonly items = new Map<string, NamespaceInfo>();
  private listeners: Array<(ns: NamespaceInfo) => void> = [];
  get(name: string): NamespaceInfo | undefined {
    return this.items.get(name);
  }
  subscribe(listener: (ns: NamespaceInfo) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }
  set(ns: NamespaceInfo): void {
    this.items.set(ns.name, ns);
    for (const l of [...this.listeners]) l(ns);
  }
  subscribers(): number {
    return this.listeners.length;
  }
}

const OPTED_IN = { 'secure-defaults.io/inject': 'enabled' };
const BLOCK = { 'secure-defaults.io/uid-range': '1000010000-1000019999' };

function setup(withAllocation = true) {
  const cache = new FakeNamespaceCache();
  const time = new FakeTime();
  const requests: string[] = [];
  const wait = (name: string, timeoutMs = 5_000) =>
    waitForNamespaceBlock({ source: cache, policy: policy(withAllocation), name, timeoutMs, clock: time, sleep: time.sleep, requestAllocation: () => requests.push(name) });
  return { cache, time, requests, wait };
}

describe('waitForNamespaceBlock', () => {
  it.each([
    ['allocation is off', false, { name: 'team', labels: OPTED_IN, annotations: {} }],
    ['the namespace already has its block', true, { name: 'team', labels: OPTED_IN, annotations: BLOCK }],
    ['the namespace is not opted in', true, { name: 'team', labels: {}, annotations: {} }],
    ['a spec.namespaces rule covers the namespace', true, { name: 'payments', labels: OPTED_IN, annotations: {} }],
  ])('does not wait when %s', async (_name, withAllocation, ns) => {
    const { cache, wait, requests } = setup(withAllocation);
    cache.set(ns);
    expect(await wait(ns.name)).toEqual({ status: 'not-needed', namespace: ns });
    expect(requests).toEqual([]);
  });

  it('waits until the allocator annotates the namespace, and asks it to hurry', async () => {
    const { cache, time, wait, requests } = setup();
    cache.set({ name: 'team', labels: OPTED_IN, annotations: {} });
    const waiting = wait('team');
    await time.advance(300);
    cache.set({ name: 'other', labels: OPTED_IN, annotations: BLOCK });
    cache.set({ name: 'team', labels: OPTED_IN, annotations: BLOCK });
    expect(await waiting).toEqual({ status: 'ready', namespace: { name: 'team', labels: OPTED_IN, annotations: BLOCK }, waitedMs: 300 });
    expect(requests).toEqual(['team']);
    expect(cache.subscribers()).toBe(0);
  });

  it('gives up after the timeout with a message saying to retry and where to look', async () => {
    const { cache, time, wait } = setup();
    cache.set({ name: 'team', labels: OPTED_IN, annotations: {} });
    const waiting = wait('team', 2_000);
    await time.advance(1_999);
    let done = false;
    void waiting.then(() => (done = true));
    await time.advance(0);
    expect(done).toBe(false);
    await time.advance(1);
    expect(await waiting).toEqual({
      status: 'timeout',
      namespace: { name: 'team', labels: OPTED_IN, annotations: {} },
      message: expect.stringMatching(/namespace "team" has no UID block yet .* within 2000 ms\. Retry .*kubectl get events -n default --field-selector involvedObject.kind=Namespace,involvedObject.name=team/),
    });
    expect(cache.subscribers()).toBe(0);
  });

  it('stops waiting when the namespace opts out meanwhile', async () => {
    const { cache, time, wait } = setup();
    cache.set({ name: 'team', labels: OPTED_IN, annotations: {} });
    const waiting = wait('team');
    await time.advance(100);
    cache.set({ name: 'team', labels: {}, annotations: {} });
    expect(await waiting).toEqual({ status: 'not-needed', namespace: { name: 'team', labels: {}, annotations: {} } });
  });

  it('says not-needed for a namespace the cache does not know', async () => {
    const { wait } = setup();
    expect(await wait('missing')).toEqual({ status: 'not-needed', namespace: undefined });
  });
});
