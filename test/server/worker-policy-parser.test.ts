// The policy parser in a real worker thread (the worker compiled as it ships), and workers that
// hang, crash, exit or run out of memory: each must come back as a refused policy with its reason.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parsePolicy } from '../../src/engine/index.js';
import type { NamespaceInfo, PolicyParseResult } from '../../src/engine/model.js';
import { createWorkerPolicyParser, PolicyParseCancelled } from '../../src/server/worker-policy-parser.js';
import { compilePolicyWorker, fixtureWorker, type CompiledPolicyWorker } from './compiled-policy-worker.js';

let worker: CompiledPolicyWorker;
beforeAll(async () => {
  worker = await compilePolicyWorker();
}, 120_000);
afterAll(async () => {
  await worker?.remove();
});

const header = 'apiVersion: secure-defaults.io/v1alpha1\nkind: SecureDefaultsPolicy\nmetadata: {name: big}\n';
/** About 730 KiB of valid rules: some 60 MB of heap to read. */
const manyRules = `${header}spec:\n  namespaces:\n${Array.from({ length: 9_000 }, (_, i) => `  - {names: [team-${i}, team-${i}-dev], uidRange: "${100000 + i * 100}-${100000 + i * 100 + 99}"}\n`).join('')}`;

const namespaces: NamespaceInfo[] = [
  { name: 'team-a', labels: { tier: 'gold' }, annotations: {} },
  { name: 'team-7-dev', labels: {}, annotations: {} },
  { name: 'other', labels: {}, annotations: { 'secure-defaults.io/uid-range': '5000000-5009999' } },
];

/** What a parse result decides, without its functions: equal results judge every namespace alike. */
function observable(result: PolicyParseResult) {
  if (!result.ok) return result;
  const { policy, warnings } = result;
  return { name: policy.name, mode: policy.mode, defaults: policy.defaults, allocation: policy.allocation, allowPodOptOut: policy.allowPodOptOut, warnings, resolved: namespaces.map((ns) => policy.resolveIdDefaultsWithWarnings(ns)) };
}

describe('the policy parser in a worker thread', () => {
  it.each([
    ['policies/default.yaml', readFileSync('policies/default.yaml', 'utf8')],
    ['a policy with rules, a selector, a mode-only rule and allocation', `${header}spec:\n  mode: fill\n  allocation: {range: "2000000-2999999", blockSize: 10000}\n  namespaces:\n  - {names: [team-a, "team-*"], uidRange: "100000-109999"}\n  - {selector: {matchLabels: {tier: gold}}, uidRange: "110000-119999"}\n  - {names: [other], mode: warn}\n  fallback: {uidRange: "120000-129999"}\n`],
    ['9,000 rules', manyRules],
    ['a broken range', `${header}spec:\n  fallback: {uidRange: "20000-1999"}\n`],
    ['a YAML syntax error', `${header}spec: [\n`],
    ['unknown fields', `${header}spec:\n  mdoe: fill\n`],
  ])('answers exactly what parsePolicy answers: %s', async (_label, text) => {
    const parser = createWorkerPolicyParser({ workerUrl: worker.url });
    try {
      expect(observable(await parser.parse(text))).toEqual(observable(parsePolicy(text)));
    } finally {
      await parser.close();
    }
  }, 60_000);

  it('refuses a policy whose parse outgrows the heap limit, and the next parse works', async () => {
    const parser = createWorkerPolicyParser({ workerUrl: worker.url, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } });
    try {
      const result = await parser.parse(manyRules);
      expect(result).toEqual({ ok: false, errors: [{ path: '(document)', message: expect.stringMatching(/^the policy parser ran out of memory \(its heap is limited to 16 MB\) and was stopped; .*shorten it$/) }] });
      expect((await parser.parse(readFileSync('policies/default.yaml', 'utf8'))).ok).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
      expect(parser.busy()).toEqual({ running: 0, queued: 0 });
    } finally {
      await parser.close();
    }
  }, 60_000);

  it('refuses, with the default limits, 733 KiB of empty lists that exhausted the heap of the whole process when parsed on it', async () => {
    const parser = createWorkerPolicyParser({ workerUrl: worker.url });
    try {
      const text = `${header}spec: [${Array.from({ length: 250_000 }, () => '[]').join(',')}]\n`;
      const heapBefore = process.memoryUsage().heapUsed;
      const result = await parser.parse(text);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.errors[0]!.message).toMatch(/^the policy parser ran out of memory \(its heap is limited to 128 MB\)/);
      // The parse's memory was the worker's: this heap holds the text and little else.
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    } finally {
      await parser.close();
    }
  }, 120_000);

  it.each([
    ['hangs', 'hanging-policy-worker.mjs', /^the policy parser did not finish within 300 ms and was stopped; /],
    ['throws', 'throwing-policy-worker.mjs', /^the policy parser failed \(the worker broke on purpose\); the policy was not loaded$/],
    ['exits without an answer', 'exiting-policy-worker.mjs', /^the policy parser exited \(code 3\) without an answer; the policy was not loaded$/],
    ['is missing', 'no-such-worker.mjs', /^the policy parser (failed|could not start) \(.*no-such-worker\.mjs.*\); the policy was not loaded$/],
  ])('refuses the policy, saying why, when the worker %s', async (_label, script, message) => {
    const parser = createWorkerPolicyParser({ workerUrl: fixtureWorker(script), timeoutMs: 300 });
    try {
      const result = await parser.parse(header);
      expect(result).toEqual({ ok: false, errors: [{ path: '(document)', message: expect.stringMatching(message) }] });
      await new Promise((r) => setTimeout(r, 50));
      expect(parser.busy()).toEqual({ running: 0, queued: 0 });
    } finally {
      await parser.close();
    }
  }, 30_000);

  it('stops the worker of a parse that is no longer wanted', async () => {
    const parser = createWorkerPolicyParser({ workerUrl: fixtureWorker('hanging-policy-worker.mjs'), timeoutMs: 60_000 });
    try {
      const controller = new AbortController();
      const parse = parser.parse(header, controller.signal);
      await new Promise((r) => setTimeout(r, 100));
      expect(parser.busy().running).toBe(1);
      controller.abort();
      await expect(parse).rejects.toBeInstanceOf(PolicyParseCancelled);
      await new Promise((r) => setTimeout(r, 100));
      expect(parser.busy()).toEqual({ running: 0, queued: 0 });
    } finally {
      await parser.close();
    }
  }, 30_000);

  it('runs one parse at a time, refuses reviews beyond the queue as busy, never a reload, and refuses all on close', async () => {
    const parser = createWorkerPolicyParser({ workerUrl: fixtureWorker('hanging-policy-worker.mjs'), timeoutMs: 60_000, maxWorkers: 1, maxQueued: 1 });
    const first = parser.parseUnlessBusy(header);
    const queued = parser.parseUnlessBusy(header);
    const busy = await parser.parseUnlessBusy(header);
    expect(busy).toEqual({ ok: false, errors: [{ path: '(document)', message: 'the policy parser is busy (1 parse running, 1 waiting); the policy was not loaded: retry in a few seconds' }] });
    const reload = parser.parse(header);
    expect(parser.busy()).toEqual({ running: 1, queued: 2 });
    await parser.close();
    for (const result of await Promise.all([first, queued, reload])) expect(result.ok).toBe(false);
    expect(await queued).toEqual({ ok: false, errors: [{ path: '(document)', message: 'the policy parser is shut down; the policy was not loaded' }] });
  }, 30_000);

  it('starts a waiting reload before waiting reviews', async () => {
    const parser = createWorkerPolicyParser({ workerUrl: worker.url, maxWorkers: 1 });
    try {
      const order: string[] = [];
      const track = (label: string, parse: Promise<PolicyParseResult>) => parse.then(() => order.push(label));
      await Promise.all([track('review 1', parser.parseUnlessBusy(manyRules)), track('review 2', parser.parseUnlessBusy(header)), track('reload', parser.parse(header))]);
      expect(order).toEqual(['review 1', 'reload', 'review 2']);
    } finally {
      await parser.close();
    }
  }, 60_000);
});
