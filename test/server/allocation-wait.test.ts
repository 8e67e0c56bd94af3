// A Pod in a namespace that still awaits its allocated UID block: the webhook waits for the
// namespace cache to see the allocator's annotation and hardens the Pod from that block, or denies
// it with a message naming where to look. Real policy parser, engine and namespace cache; time is
// virtual (FakeTime), except in the last test, which goes through the real HTTPS server.
import { describe, expect, it } from '@jest/globals';
import type { V1Namespace } from '@kubernetes/client-node';
import { BlockWaitingDirectory } from '../../src/allocation/block-waiting-directory.js';
import { NamespaceCache } from '../../src/cluster/namespace-cache.js';
import { decideAdmission, parsePolicy } from '../../src/engine/index.js';
import type { CompiledPolicy, NamespaceInfo } from '../../src/engine/model.js';
import { readAdmissionReview, type AdmissionRequest } from '../../src/admission/admission-review.js';
import type { AdmissionOutcome } from '../../src/admission/admission-pipeline.js';
import { admitPod, type PodAdmissionDeps } from '../../src/admission/pod-admission.js';
import { everyNamespaceOptedIn, noAllocatedBlocks, staticPolicySource } from '../../src/ports/standalone-ports.js';
import { systemClock } from '../../src/foundation/clock.js';
import { realSleep } from '../../src/foundation/clock.js';
import { FakeTime, flushMicrotasks } from '../allocation/fakes/fake-time.js';
import { decodePatch, podReview, startTestWebhook } from './webhook-harness.js';

const OPT_IN = { 'secure-defaults.io/inject': 'enabled' };
const UID_RANGE = 'secure-defaults.io/uid-range';

function policyText(mode: 'fill' | 'enforce'): string {
  return `apiVersion: secure-defaults.io/v1alpha1
kind: SecureDefaultsPolicy
metadata: { name: allocating }
spec:
  mode: ${mode}
  namespaces:
    - names: [ruled]
      uidRange: "50000-59999"
  fallback: { uidRange: "100000-165535" }
  allocation: { range: "1000000000-1999999999", blockSize: 10000 }
`;
}

function compile(text: string): CompiledPolicy {
  const parsed = parsePolicy(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.policy;
}

const namespace = (name: string, labels: Record<string, string>, annotations: Record<string, string> = {}): V1Namespace => ({
  metadata: { name, labels, annotations, resourceVersion: '1' },
});

function requestFor(ns: string, options: { dryRun?: boolean; runAsUser?: number } = {}): AdmissionRequest {
  const securityContext = options.runAsUser === undefined ? {} : { securityContext: { runAsUser: options.runAsUser } };
  const review = podReview({
    namespace: ns,
    dryRun: options.dryRun ?? false,
    object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: ns }, spec: { ...securityContext, containers: [{ name: 'app', image: 'nginx' }] } },
  });
  const reading = readAdmissionReview(JSON.stringify(review));
  if (reading.kind !== 'request') throw new Error(`fixture is not a usable review: ${JSON.stringify(reading)}`);
  return reading.request;
}

function runAsUserOf(outcome: AdmissionOutcome): number | undefined {
  const patch = (decodePatch(outcome.response) ?? []) as Array<{ path: string; value: { runAsUser?: number } }>;
  return patch.find((op) => op.path === '/spec/securityContext')?.value.runAsUser;
}

/** Settles `promise` into an inspectable box, so a test can see whether it is still pending. */
function track<T>(promise: Promise<T>): { done: boolean; value?: T } {
  const box: { done: boolean; value?: T } = { done: false };
  void promise.then((value) => {
    box.done = true;
    box.value = value;
  });
  return box;
}

function setUp(options: { mode?: 'fill' | 'enforce'; timeoutMs?: number; namespaces?: V1Namespace[]; direct?: NamespaceInfo[] } = {}) {
  const time = new FakeTime();
  const direct = new Map((options.direct ?? []).map((ns) => [ns.name, ns]));
  const cache = new NamespaceCache(async (name) => direct.get(name) ?? null);
  cache.replace(options.namespaces ?? []);
  const passRequests: string[] = [];
  const directory = new BlockWaitingDirectory(cache, {
    timeoutMs: options.timeoutMs ?? 3000,
    clock: time,
    sleep: time.sleep,
    requestAllocation: () => passRequests.push('pass'),
  });
  const deps: PodAdmissionDeps = {
    policySource: staticPolicySource(compile(policyText(options.mode ?? 'fill'))),
    namespaces: directory,
    allocatedBlocks: directory,
    decideAdmission,
    failurePolicy: 'open',
  };
  return { time, cache, deps, passRequests };
}

describe('admission waits for a namespace to get its allocated UID block', () => {
  it('holds the Pod until the cache sees the annotation, then hardens it from the block', async () => {
    const { time, cache, deps, passRequests } = setUp({ namespaces: [namespace('fresh', OPT_IN)] });
    const admission = track(admitPod(requestFor('fresh'), deps));
    await time.advance(500);
    expect(admission.done).toBe(false);
    expect(passRequests).toEqual(['pass']);

    cache.apply('MODIFIED', namespace('fresh', OPT_IN, { [UID_RANGE]: '1000010000-1000019999' }));
    await flushMicrotasks();
    expect(admission.done).toBe(true);
    const outcome = admission.value!;
    expect(outcome.result).toBe('patched');
    expect(runAsUserOf(outcome)).toBe(1000010000);
    expect(outcome.log).toMatchObject({ waitedForBlockMs: 500 });
  });

  it('denies the Pod once the wait runs out, saying how to find out why', async () => {
    const { time, deps } = setUp({ timeoutMs: 3000, namespaces: [namespace('starved', OPT_IN)] });
    const admission = track(admitPod(requestFor('starved'), deps));
    await time.advance(2999);
    expect(admission.done).toBe(false);
    await time.advance(1);
    expect(admission.done).toBe(true);
    const outcome = admission.value!;
    expect(outcome.result).toBe('denied');
    expect(outcome.response.allowed).toBe(false);
    expect(outcome.response.status?.code).toBe(403);
    expect(outcome.response.status?.message).toContain('namespace "starved" has no UID block yet');
    expect(outcome.response.status?.message).toContain('within 3000 ms');
    expect(outcome.response.status?.message).toContain('kubectl get events -n default --field-selector involvedObject.kind=Namespace,involvedObject.name=starved');
  });

  it('denies in enforce mode too, rather than admitting the Pod without its range', async () => {
    const { time, deps } = setUp({ mode: 'enforce', timeoutMs: 1000, namespaces: [namespace('starved', OPT_IN)] });
    const admission = track(admitPod(requestFor('starved'), deps));
    await time.advance(1000);
    expect(admission.value?.result).toBe('denied');
  });

  it('lets a dry-run request wait without asking the allocator for a pass', async () => {
    const { time, cache, deps, passRequests } = setUp({ namespaces: [namespace('fresh', OPT_IN)] });
    const admission = track(admitPod(requestFor('fresh', { dryRun: true }), deps));
    await time.advance(100);
    expect(admission.done).toBe(false);
    cache.apply('MODIFIED', namespace('fresh', OPT_IN, { [UID_RANGE]: '1000020000-1000029999' }));
    await flushMicrotasks();
    expect(runAsUserOf(admission.value!)).toBe(1000020000);
    expect(passRequests).toEqual([]);
  });

  it.each([
    ['a namespace matched by a spec.namespaces rule', namespace('ruled', OPT_IN), 50000],
    ['a namespace that already has its block', namespace('settled', OPT_IN, { [UID_RANGE]: '1000030000-1000039999' }), 1000030000],
  ])('does not wait for %s', async (_what, ns, expectedUid) => {
    const { deps, passRequests } = setUp({ namespaces: [ns] });
    const admission = track(admitPod(requestFor(ns.metadata!.name!), deps));
    await flushMicrotasks();
    expect(admission.done).toBe(true);
    expect(runAsUserOf(admission.value!)).toBe(expectedUid);
    expect(passRequests).toEqual([]);
  });

  it('leaves a namespace that has not opted in alone, without waiting', async () => {
    const { deps, passRequests } = setUp({ namespaces: [namespace('legacy', {})] });
    const admission = track(admitPod(requestFor('legacy'), deps));
    await flushMicrotasks();
    expect(admission.value?.result).toBe('skipped');
    expect(passRequests).toEqual([]);
  });

  it('waits for a namespace the watch has not delivered yet (read directly), until it arrives annotated', async () => {
    const justCreated: NamespaceInfo = { name: 'brand-new', labels: OPT_IN, annotations: {} };
    const { time, cache, deps } = setUp({ direct: [justCreated] });
    const admission = track(admitPod(requestFor('brand-new'), deps));
    await time.advance(200);
    expect(admission.done).toBe(false);
    cache.apply('ADDED', namespace('brand-new', OPT_IN));
    await flushMicrotasks();
    expect(admission.done).toBe(false);
    cache.apply('MODIFIED', namespace('brand-new', OPT_IN, { [UID_RANGE]: '1000040000-1000049999' }));
    await flushMicrotasks();
    expect(runAsUserOf(admission.value!)).toBe(1000040000);
  });

  it('skips the Pod when its namespace opts out while the Pod waits', async () => {
    const { time, cache, deps } = setUp({ namespaces: [namespace('leaving', OPT_IN)] });
    const admission = track(admitPod(requestFor('leaving'), deps));
    await time.advance(100);
    cache.apply('MODIFIED', namespace('leaving', {}));
    await flushMicrotasks();
    expect(admission.value?.result).toBe('skipped');
    expect(admission.value?.log.reason).toContain('has not opted in');
  });

  it('in enforce mode denies an explicit runAsUser outside the block once the block is known', async () => {
    const { time, cache, deps } = setUp({ mode: 'enforce', namespaces: [namespace('fresh', OPT_IN)] });
    const admission = track(admitPod(requestFor('fresh', { runAsUser: 100 }), deps));
    await time.advance(50);
    cache.apply('MODIFIED', namespace('fresh', OPT_IN, { [UID_RANGE]: '1000010000-1000019999' }));
    await flushMicrotasks();
    expect(admission.value?.result).toBe('denied');
    expect(admission.value?.response.status?.message).toContain('1000010000-1000019999');
  });

  it('without a cluster (standalone directory) does not wait: the namespace gets spec.fallback', async () => {
    const deps: PodAdmissionDeps = {
      policySource: staticPolicySource(compile(policyText('fill'))),
      namespaces: everyNamespaceOptedIn(),
      allocatedBlocks: noAllocatedBlocks,
      decideAdmission,
      failurePolicy: 'open',
    };
    const outcome = await admitPod(requestFor('anything'), deps);
    expect(runAsUserOf(outcome)).toBe(100000);
  });

  it('through the HTTPS server: a waiting Pod holds no other request up, and is answered when its block arrives', async () => {
    const cache = new NamespaceCache(async () => null);
    cache.replace([namespace('waiting', OPT_IN), namespace('ruled', OPT_IN)]);
    const directory = new BlockWaitingDirectory(cache, { timeoutMs: 10_000, clock: systemClock, sleep: realSleep, requestAllocation: () => undefined });
    const hook = await startTestWebhook({ policySource: staticPolicySource(compile(policyText('fill'))), namespaces: directory, allocatedBlocks: directory, decideAdmission, parsePolicy });
    try {
      const waiting = track(hook.post('/mutate', podReview({ uid: 'waits', namespace: 'waiting' })));
      const other = await hook.post('/mutate', podReview({ uid: 'other', namespace: 'ruled' }));
      expect(other.json().response).toMatchObject({ uid: 'other', allowed: true });
      expect(waiting.done).toBe(false);
      cache.apply('MODIFIED', namespace('waiting', OPT_IN, { [UID_RANGE]: '1000050000-1000059999' }));
      const answer = await new Promise<void>((resolve) => {
        const poll = (): void => (waiting.done ? resolve() : void setTimeout(poll, 10));
        poll();
      }).then(() => waiting.value!.json().response);
      expect(answer.uid).toBe('waits');
      const patch = decodePatch(answer) as Array<{ path: string; value: { runAsUser?: number } }>;
      expect(patch.find((op) => op.path === '/spec/securityContext')?.value.runAsUser).toBe(1000050000);
    } finally {
      await hook.stop();
    }
  });
});
