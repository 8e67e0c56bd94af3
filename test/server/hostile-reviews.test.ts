// Reviews built to exhaust the webhook's memory or to make answers and log lines of megabytes,
// against the real HTTPS server in process. (The same attacks against `serve` under the image's
// 128 MB heap: test/e2e/hostile-serve.test.ts.)
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { OPT_IN_LABEL, type AdmissionDecision, type AdmissionInput } from '../../src/engine/model.js';
import { decideAdmission as realDecideAdmission, parsePolicy } from '../../src/engine/index.js';
import { boundWarnings, MAX_WARNINGS } from '../../src/admission/admission-responses.js';
import { MAX_POD_CONTAINERS } from '../../src/admission/pod-admission.js';
import { staticPolicySource } from '../../src/ports/standalone-ports.js';
import { createReviewBudget } from '../../src/server/review-budget.js';
import { createWorkerPolicyParser, type WorkerPolicyParser } from '../../src/server/worker-policy-parser.js';
import { compilePolicyWorker, type CompiledPolicyWorker } from './compiled-policy-worker.js';
import { configMapReview, podReview, startTestWebhook, type TestWebhook } from './webhook-harness.js';

function podWith(spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team-a' }, spec };
}

const containers = (count: number, list = 'c') => Array.from({ length: count }, (_, i) => ({ name: `${list}${i}`, image: 'x' }));

describe('reviews too large to be a Pod the API server stores', () => {
  let hook: TestWebhook | null = null;
  afterEach(async () => {
    await hook?.stop();
    hook = null;
  });

  it.each([
    ['containers', { containers: containers(MAX_POD_CONTAINERS + 1) }],
    ['spread over the three lists', { containers: containers(10_001), initContainers: containers(10_000, 'i'), ephemeralContainers: containers(10_000, 'e') }],
    ['160,000 containers', { containers: containers(160_000) }],
  ])('are refused at once, naming the counts: %s', async (_label, spec) => {
    let engineCalls = 0;
    hook = await startTestWebhook({
      decideAdmission: (input) => {
        engineCalls++;
        return { allowed: true, patch: [], injected: [], warnings: [], warningReasons: [] } as AdmissionDecision & { allowed: true };
      },
    });
    const answer = await hook.post('/mutate', podReview({ object: podWith(spec) }));
    const response = answer.json().response;
    expect(response.allowed).toBe(false);
    expect(response.status.message).toMatch(/^request\.object\.spec has \d+ containers \(\d+ containers.*\), more than the 30000 the API server can store in one Pod/);
    expect(engineCalls).toBe(0);
  }, 30_000);

  it('hardens a Pod of exactly the limit', async () => {
    hook = await startTestWebhook();
    const answer = await hook.post('/mutate', podReview({ object: podWith({ containers: containers(MAX_POD_CONTAINERS) }) }));
    expect(answer.json().response).toMatchObject({ allowed: true });
  }, 30_000);
});

describe('answers and log lines stay bounded', () => {
  let hook: TestWebhook | null = null;
  afterEach(async () => {
    await hook?.stop();
    hook = null;
  });

  it.each([
    ['10,000 short warnings', Array.from({ length: 10_000 }, (_, i) => `warning ${i}`)],
    ['50 warnings of 100 KB', Array.from({ length: 50 }, (_, i) => `${i}`.padEnd(100_000, 'w'))],
    ['one warning of 1 MB', ['x'.repeat(1_000_000)]],
  ])('warnings: %s', async (_label, warnings) => {
    const bounded = boundWarnings({ texts: warnings, reasons: warnings.map(() => 'other' as const) }).texts;
    expect(bounded.length).toBeLessThanOrEqual(MAX_WARNINGS + 1);
    expect(bounded.join('').length).toBeLessThan(4096 + 2048);
    if (warnings.length > bounded.length) expect(bounded.at(-1)).toBe(`and ${warnings.length - bounded.length + 1} more warnings like these`);
    expect(bounded[0]!.startsWith(warnings[0]!.slice(0, 100))).toBe(true);
  });

  it('keeps short warnings as they are', () => {
    expect(boundWarnings({ texts: ['a', '', 'b'], reasons: ['would-deny', 'other', 'not-judged'] })).toEqual({ texts: ['a', 'b'], reasons: ['would-deny', 'not-judged'] });
  });

  it('an engine decision with 30,000 containers hardened gives a bounded log line and bounded warnings', async () => {
    const policy = parsePolicy('apiVersion: secure-defaults.io/v1alpha1\nkind: SecureDefaultsPolicy\nmetadata: {name: p}\nspec:\n  fallback: {uidRange: "100000-165535"}\n');
    if (!policy.ok) throw new Error('policy');
    hook = await startTestWebhook({ policySource: staticPolicySource(policy.policy), decideAdmission: (input: AdmissionInput) => realDecideAdmission(input) });
    // Half the containers plain (their fields injected), half privileged or root (left alone, with warnings).
    const securityContext = (i: number) => (i % 2 === 0 ? {} : i % 4 === 1 ? { privileged: true } : { runAsUser: 0, runAsNonRoot: false });
    const spec = { containers: Array.from({ length: MAX_POD_CONTAINERS }, (_, i) => ({ name: `c${i}`, image: 'x', securityContext: securityContext(i) })) };
    const answer = await hook.post('/mutate', podReview({ object: podWith(spec) }));
    const response = answer.json().response;
    expect(response.allowed).toBe(true);
    expect(response.warnings.length).toBeLessThanOrEqual(MAX_WARNINGS + 1);
    expect(response.warnings.join('').length).toBeLessThan(4096 + 2048);
    const line = hook.logger.decisions().at(-1)!;
    expect(line.fields['injected']).toHaveLength(50);
    expect(line.fields['injectedOmitted']).toBeGreaterThan(15_000);
    expect(JSON.stringify(line.fields).length).toBeLessThan(64 * 1024);
  }, 30_000);

  it('an enforce-mode denial of 30,000 containers names the first violations and counts the rest', async () => {
    const policy = parsePolicy('apiVersion: secure-defaults.io/v1alpha1\nkind: SecureDefaultsPolicy\nmetadata: {name: p}\nspec:\n  mode: enforce\n  fallback: {uidRange: "100000-165535"}\n');
    if (!policy.ok) throw new Error('policy');
    hook = await startTestWebhook({ policySource: staticPolicySource(policy.policy), decideAdmission: (input: AdmissionInput) => realDecideAdmission(input) });
    const spec = {
      securityContext: { supplementalGroups: Array.from({ length: 100_000 }, (_, i) => i + 1) },
      containers: Array.from({ length: MAX_POD_CONTAINERS }, (_, i) => ({ name: `c${i}`, image: 'x', securityContext: { runAsUser: 0 } })),
    };
    const answer = await hook.post('/mutate', podReview({ object: podWith(spec) }));
    const response = answer.json().response;
    expect(response.allowed).toBe(false);
    expect(response.status.message.length).toBeLessThan(8192 + 100);
    expect(response.status.message).toMatch(/; and \d+ more/);
    const line = hook.logger.decisions().at(-1)!;
    expect(JSON.stringify(line.fields).length).toBeLessThan(64 * 1024);
  }, 30_000);
});

describe('large reviews in flight are held to a budget', () => {
  let hook: TestWebhook | null = null;
  afterEach(async () => {
    await hook?.stop();
    hook = null;
  });

  it('counts only large reviews, and always lets one through alone', () => {
    const budget = createReviewBudget(1000, 100);
    expect(budget.tryReserve(5000)).toBe(true); // alone: always
    expect(budget.tryReserve(99)).toBe(true); // small: never counted
    expect(budget.tryReserve(100)).toBe(false);
    budget.release(5000);
    expect(budget.tryReserve(600)).toBe(true);
    expect(budget.tryReserve(400)).toBe(true);
    expect(budget.tryReserve(1)).toBe(true);
    expect(budget.tryReserve(100)).toBe(false);
    expect(budget.inFlight()).toBe(1000);
  });

  it('refuses large reviews past the budget with a clear 429, answers the others, and releases when answered', async () => {
    // An engine that takes its time, so that the reviews are all in flight together.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const budget = createReviewBudget(3 * 1024 * 1024, 256 * 1024);
    hook = await startTestWebhook({
      reviewBudget: budget,
      namespaces: {
        lookup: async (name: string) => {
          await gate;
          return { name, labels: { [OPT_IN_LABEL]: 'enabled' }, annotations: {} };
        },
      },
    });
    const big = podReview({ object: podWith({ containers: containers(1), padding: 'p'.repeat(1024 * 1024) }) });
    const bigAnswers = Array.from({ length: 6 }, () => hook!.post('/mutate', big));
    const small = hook.post('/mutate', podReview());
    await new Promise((r) => setTimeout(r, 500));
    release();
    const answers = await Promise.all(bigAnswers);
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
    for (const refused of answers.filter((a) => a.status === 429)) {
      expect(refused.text).toMatch(/^secure-defaults is busy: \d+ bytes of large reviews are being judged \(limit 3145728\); this review of \d+ bytes is refused rather than risk running out of memory; retry it\n$/);
      expect(refused.headers['retry-after']).toBe('1');
    }
    expect((await small).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(budget.inFlight()).toBe(0);
    expect((await hook.post('/mutate', big)).status).toBe(200);
  });
});

describe('hostile policy ConfigMaps at /validate-policy', () => {
  let hook: TestWebhook | null = null;
  let worker: CompiledPolicyWorker;
  let parser: WorkerPolicyParser;
  beforeAll(async () => {
    worker = await compilePolicyWorker();
    parser = createWorkerPolicyParser({ workerUrl: worker.url });
  }, 120_000);
  afterAll(async () => {
    await parser?.close();
    await worker?.remove();
  });
  afterEach(async () => {
    await hook?.stop();
    hook = null;
  });
  const header = 'apiVersion: secure-defaults.io/v1alpha1\nkind: SecureDefaultsPolicy\nmetadata: {name: p}\n';
  const policyReview = (policyText: string) => configMapReview({ uid: 'cm-1', username: 'tenant-admin', data: { 'policy.yaml': policyText } });

  it.each([
    ['40,000 unknown keys under spec', `${header}spec:\n${Array.from({ length: 40_000 }, (_, i) => `  k${i}: 1\n`).join('')}`, /spec\.k0: unknown field/],
    ['40,000 labels with a duplicate at the end', `${header}spec:\n  namespaces:\n  - uidRange: "10000-19999"\n    selector:\n      matchLabels:\n${Array.from({ length: 40_000 }, (_, i) => `        l${i}: v\n`).join('')}        l1: v\n`, /Map keys must be unique/],
    ['a 900 KB anchored scalar in 99 rules', `${header}x: &a ${'a'.repeat(900_000)}\nspec:\n  namespaces:\n${Array.from({ length: 99 }, (_, i) => `  - {names: [*a], uidRange: "${10000 + i * 10}-${10000 + i * 10 + 9}"}\n`).join('')}`, /x: unknown field/],
    ['10,000 overlapping rules', `${header}spec:\n  namespaces:\n${Array.from({ length: 10_000 }, (_, i) => `  - {names: [n${i}], uidRange: "${100000 + i}-${200000 + i}"}\n`).join('')}`, /overlaps spec\.namespaces\[0\]/],
    // Parsed on the event loop, this one exhausted the image's 128 MB heap: the process crashed.
    ['250,000 empty lists', `${header}spec: [${Array.from({ length: 250_000 }, () => '[]').join(',')}]\n`, /the policy parser ran out of memory/],
  ])('refuses %s with a bounded message, while every Pod admission is answered within a second', async (_label, policyText, reason) => {
    hook = await startTestWebhook({ parsePolicy: parser.parseUnlessBusy });
    const admissionMs: number[] = [];
    let polling = true;
    let heapPeak = 0;
    const poller = (async () => {
      while (polling) {
        const started = Date.now();
        const answer = await hook!.post('/mutate', podReview());
        expect(answer.json().response.allowed).toBe(true);
        admissionMs.push(Date.now() - started);
        heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await new Promise((r) => setTimeout(r, 150));
    const heapBefore = process.memoryUsage().heapUsed;
    const started = Date.now();
    const answer = await hook.post('/validate-policy', policyReview(policyText));
    const took = Date.now() - started;
    polling = false;
    await poller;
    const response = answer.json().response;
    expect(response.allowed).toBe(false);
    expect(response.status.message).toMatch(/^policy ConfigMap secure-defaults\/policy refused \(data\.policy\.yaml\): /);
    expect(response.status.message).toMatch(reason);
    expect(response.status.message.length).toBeLessThan(8192 + 100);
    expect(JSON.stringify(hook.logger.decisions().at(-1)!.fields).length).toBeLessThan(16 * 1024);
    // The parse runs in a worker thread, bounded by its heap limit and deadline; the event loop
    // only compiles what the worker validated. Before, it parsed on the event loop: /healthz was
    // only bounded at 8 s, and the last case took the process down.
    expect(took).toBeLessThan(30_000);
    expect(admissionMs.length).toBeGreaterThan(2);
    expect(Math.max(...admissionMs)).toBeLessThan(1_000);
    expect(heapPeak - heapBefore).toBeLessThan(64 * 1024 * 1024);
  }, 60_000);
});
