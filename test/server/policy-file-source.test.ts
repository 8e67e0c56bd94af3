// `serve --policy FILE` follows the file: real files on disk, the real parser, the real directory
// watch; edits written in place, by rename (as editors and ConfigMap volumes do), broken, deleted.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePolicy } from '../../src/engine/index.js';
import { systemClock } from '../../src/foundation/clock.js';
import { MAX_POLICY_FILE_BYTES, PolicyFileSource, readPolicyFileText } from '../../src/server/policy-file-source.js';
import { startServe, type ServeOptions } from '../../src/cli/commands/serve.js';
import type { PolicyParseResult } from '../../src/engine/model.js';
import type { PolicyTextParser } from '../../src/ports/admission-ports.js';
import { compilePolicyWorker, type CompiledPolicyWorker } from './compiled-policy-worker.js';
import { httpsCall, podReview, RecordingLogger } from './webhook-harness.js';

const policyText = (name: string, uidRange: string): string => `apiVersion: secure-defaults.io/v1alpha1
kind: SecureDefaultsPolicy
metadata: { name: ${name} }
spec:
  mode: fill
  fallback: { uidRange: "${uidRange}" }
`;
const BROKEN = policyText('broken', '20000-1999');

async function until(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

let dir = '';
let file = '';
let source: PolicyFileSource | null = null;
let logger = new RecordingLogger();
let metrics = { reloadErrors: 0, generation: 0 };

async function startSource(pollIntervalMs = 60_000, parse: PolicyTextParser = parsePolicy): Promise<PolicyFileSource> {
  const initialText = policyText('first', '100000-165535');
  await writeFile(file, initialText);
  const initial = parsePolicy(initialText);
  if (!initial.ok) throw new Error('fixture policy does not parse');
  source = new PolicyFileSource({
    path: file,
    initialText,
    initial,
    parsePolicy: parse,
    logger,
    clock: systemClock,
    metrics: { countPolicyReloadError: () => metrics.reloadErrors++, setPolicyGeneration: (g) => (metrics.generation = g) },
    pollIntervalMs,
    debounceMs: 20,
  });
  source.start();
  return source;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'secure-defaults-policy-file-'));
  file = join(dir, 'policy.yaml');
  logger = new RecordingLogger();
  metrics = { reloadErrors: 0, generation: 0 };
});

afterEach(async () => {
  source?.stop();
  source = null;
  await rm(dir, { recursive: true, force: true });
});

describe('PolicyFileSource', () => {
  it('applies an edit written in place, seen by the directory watch', async () => {
    const policies = await startSource();
    expect(policies.current()).toMatchObject({ generation: 1, policy: { name: 'first' } });
    expect(metrics.generation).toBe(1);
    await writeFile(file, policyText('second', '200000-265535'));
    await until('generation 2', () => policies.current().generation === 2);
    expect(policies.current().policy.name).toBe('second');
    expect(metrics.generation).toBe(2);
    expect(logger.entries).toContainEqual(expect.objectContaining({ level: 'info', message: 'policy loaded', fields: expect.objectContaining({ policy: 'second', generation: 2 }) }));
  });

  it('applies a file replaced by rename (editors, ConfigMap volumes)', async () => {
    const policies = await startSource();
    await writeFile(join(dir, '.policy.yaml.tmp'), policyText('renamed', '300000-365535'));
    await rename(join(dir, '.policy.yaml.tmp'), file);
    await until('the renamed policy', () => policies.current().policy.name === 'renamed');
    expect(policies.current().generation).toBe(2);
  });

  it('keeps the last good policy on a bad edit, logs each error with its path once, counts it, and takes the fix', async () => {
    const policies = await startSource(50);
    await writeFile(file, BROKEN);
    await until('the refusal', () => metrics.reloadErrors === 1);
    // Several polls of the same broken text: still one refusal.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(metrics.reloadErrors).toBe(1);
    expect(policies.current()).toMatchObject({ generation: 1, policy: { name: 'first' } });
    const errors = logger.entries.filter((e) => e.level === 'error').map((e) => e.message);
    expect(errors).toEqual([
      expect.stringMatching(/^policy error: spec\.fallback\.uidRange: "20000-1999".*min is greater than max/),
      'policy change refused (1 error); keeping policy "first" (generation 1)',
    ]);
    await writeFile(file, policyText('fixed', '400000-465535'));
    await until('the fix', () => policies.current().policy.name === 'fixed');
    expect(policies.current().generation).toBe(2);
  });

  it('keeps the last good policy when the file is deleted, and takes it back when it returns', async () => {
    const policies = await startSource(50);
    await unlink(file);
    await until('the warning', () => logger.entries.some((e) => e.level === 'warn' && /cannot read it \(ENOENT\); keeping policy "first"/.test(e.message)));
    expect(policies.current().policy.name).toBe('first');
    expect(metrics.reloadErrors).toBe(0);
    await writeFile(file, policyText('back', '500000-565535'));
    await until('the returned file', () => policies.current().policy.name === 'back');
  });

  it('refuses a file larger than a ConfigMap without reading all of it', async () => {
    await writeFile(file, Buffer.alloc(MAX_POLICY_FILE_BYTES + 10, 0x20));
    expect(await readPolicyFileText(file)).toEqual({ ok: false, reason: `it is larger than ${MAX_POLICY_FILE_BYTES} bytes (the most a ConfigMap can hold)` });
    expect(await readPolicyFileText('/dev/zero')).toMatchObject({ ok: false, reason: expect.stringContaining('larger than') });
  });
});

describe('PolicyFileSource with a parse that answers later', () => {
  /** A parser whose answers the test releases, in any order; it ignores the abort, as a late worker message would. */
  function heldParser() {
    const held: Array<{ text: string; release: () => void; aborted: () => boolean }> = [];
    const parse: PolicyTextParser = (text, signal) =>
      new Promise<PolicyParseResult>((resolve) => held.push({ text, release: () => resolve(parsePolicy(text)), aborted: () => signal?.aborted ?? false }));
    return { held, parse };
  }

  it('keeps the last good policy while a parse runs, and never applies an older parse that finishes after a newer one', async () => {
    const { held, parse } = heldParser();
    const policies = await startSource(60_000, parse);
    await writeFile(file, policyText('older', '200000-265535'));
    void policies.checkNow();
    await until('the older parse', () => held.length === 1);
    expect(policies.current().policy.name).toBe('first');
    await writeFile(file, policyText('newer', '300000-365535'));
    void policies.checkNow();
    await until('the newer parse', () => held.length === 2);
    expect(held[0]!.aborted()).toBe(true);
    held[1]!.release();
    await until('the newer policy', () => policies.current().policy.name === 'newer');
    held[0]!.release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(policies.current()).toMatchObject({ generation: 2, policy: { name: 'newer' } });
    expect(logger.entries.filter((e) => e.message === 'policy loaded').map((e) => e.fields.policy)).toEqual(['newer']);
  });

  it('drops a parse when the file goes back to the policy in force', async () => {
    const { held, parse } = heldParser();
    const policies = await startSource(60_000, parse);
    await writeFile(file, policyText('passing', '200000-265535'));
    void policies.checkNow();
    await until('the parse', () => held.length === 1);
    await writeFile(file, policyText('first', '100000-165535'));
    await policies.checkNow();
    held[0]!.release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(policies.current()).toMatchObject({ generation: 1, policy: { name: 'first' } });
  });
});

/** The Pod-level runAsUser serve's webhook gives the next Pod, from the patch it answers. */
async function runAsUserOfNextPod(running: { webhook: { port: number; initialCertificatePem: string } }): Promise<number | undefined> {
  const answer = await httpsCall(running.webhook.port, {
    method: 'POST',
    path: '/mutate',
    ca: running.webhook.initialCertificatePem,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(podReview({ namespace: 'anything' })),
  });
  const patch = JSON.parse(Buffer.from(answer.json().response.patch as string, 'base64').toString()) as Array<{ path: string; value: { runAsUser?: number } }>;
  return patch.find((op) => op.path === '/spec/securityContext')?.value.runAsUser;
}

describe('serve --policy FILE', () => {
  const base: ServeOptions = { port: 0, host: '127.0.0.1', failClosed: false, shutdownDelay: 0, drainTimeout: 2, policyPollInterval: 0.1 };
  let worker: CompiledPolicyWorker;
  beforeAll(async () => {
    worker = await compilePolicyWorker();
  }, 120_000);
  afterAll(async () => {
    await worker?.remove();
  });

  it('hardens the next Pod with the edited policy, and keeps it through a bad edit', async () => {
    await writeFile(file, policyText('first', '100000-165535'));
    const serveLogger = new RecordingLogger();
    const running = await startServe({ ...base, policy: file }, serveLogger, systemClock, { policyWorkerUrl: worker.url });
    const uidOfNextPod = () => runAsUserOfNextPod(running);
    try {
      expect(await uidOfNextPod()).toBe(100000);
      await writeFile(file, policyText('second', '200000-265535'));
      await until('the new policy', () => serveLogger.entries.some((e) => e.message === 'policy loaded'));
      expect(await uidOfNextPod()).toBe(200000);
      await writeFile(file, BROKEN);
      await until('the refusal', () => serveLogger.entries.some((e) => e.message.startsWith('policy change refused')));
      expect(await uidOfNextPod()).toBe(200000);
      const text = (await httpsCall(running.webhook.port, { method: 'GET', path: '/metrics', ca: running.webhook.initialCertificatePem })).text;
      expect(text).toContain('secure_defaults_policy_generation 2');
      expect(text).toContain('secure_defaults_policy_reload_errors_total 1');
    } finally {
      await running.stop();
    }
  });

  it('answers every admission within a second, with the policy in force, while a 1 MiB policy loads', async () => {
    // 14,500 rules plus a new fallback: some 980 KiB, about a second to read on an idle core, which
    // the admission loop spent blocked before it moved to a worker thread.
    const rules = Array.from({ length: 14_500 }, (_, i) => `  - {names: [team-${i}, team-${i}-dev], uidRange: "${1_000_000 + i * 100}-${1_000_000 + i * 100 + 99}"}\n`).join('');
    const big = `${policyText('big', '200000-265535')}  namespaces:\n${rules}`;
    expect(Buffer.byteLength(big)).toBeGreaterThan(900 * 1024);
    expect(Buffer.byteLength(big)).toBeLessThan(MAX_POLICY_FILE_BYTES);
    await writeFile(file, policyText('first', '100000-165535'));
    const serveLogger = new RecordingLogger();
    const running = await startServe({ ...base, policy: file }, serveLogger, systemClock, { policyWorkerUrl: worker.url });
    const answers: Array<{ ms: number; uid: number | undefined }> = [];
    let heapPeak = 0;
    const admit = async (): Promise<void> => {
      const started = Date.now();
      const uid = await runAsUserOfNextPod(running);
      answers.push({ ms: Date.now() - started, uid });
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    };
    try {
      await admit();
      const heapBefore = process.memoryUsage().heapUsed;
      await writeFile(file, big);
      const loaded = () => serveLogger.entries.some((e) => e.message === 'policy loaded');
      const deadline = Date.now() + 60_000;
      while (!loaded() && Date.now() < deadline) {
        await admit();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(loaded()).toBe(true);
      await admit();
      // Old bound: /healthz within 8 s while a policy parsed on the event loop.
      expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(1_000);
      // Answered during the parse, with the last good policy; then the new one; nothing in between.
      const uids = answers.map((a) => a.uid);
      expect(uids.filter((uid) => uid === 100000).length).toBeGreaterThan(2);
      expect(uids.at(-1)).toBe(200000);
      expect(uids.every((uid) => uid === 100000 || uid === 200000)).toBe(true);
      expect(uids.indexOf(200000)).toBe(uids.length - uids.filter((uid) => uid === 200000).length);
      // The YAML tree (tens of MB) lived in the worker; this heap held the text and the compiled rules.
      expect(heapPeak - heapBefore).toBeLessThan(64 * 1024 * 1024);
    } finally {
      await running.stop();
    }
  }, 120_000);
});
