import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { decideAdmission, parsePolicy, type CompiledPolicy } from '../../src/engine/index.js';
import { staticPolicySource } from '../../src/ports/standalone-ports.js';
import { decodePatch, OPTED_IN, podReview, startTestWebhook, type TestWebhook } from './webhook-harness.js';

function defaultPolicy(): CompiledPolicy {
  const parsed = parsePolicy(readFileSync('policies/default.yaml', 'utf8'));
  if (!parsed.ok) throw new Error('policies/default.yaml does not parse');
  return parsed.policy;
}

describe('POST /mutate over real TLS', () => {
  let hook: TestWebhook;
  beforeAll(async () => {
    hook = await startTestWebhook();
  });
  afterAll(async () => {
    await hook.stop();
  });

  it('patches a new Pod in an opted-in namespace and echoes the uid', async () => {
    const answer = await hook.post('/mutate', podReview({ uid: 'abc-123' }));
    expect(answer.status).toBe(200);
    const review = answer.json();
    expect(review.apiVersion).toBe('admission.k8s.io/v1');
    expect(review.kind).toBe('AdmissionReview');
    expect(review.response.uid).toBe('abc-123');
    expect(review.response.allowed).toBe(true);
    expect(review.response.patchType).toBe('JSONPatch');
    expect(decodePatch(review.response)).toEqual([{ op: 'add', path: '/spec/securityContext', value: { runAsNonRoot: true } }]);
    expect(review.response.warnings).toEqual(['test warning']);
    expect(review.response.auditAnnotations).toEqual({ policy: 'test-policy@1', injected: 'spec.securityContext.runAsNonRoot' });
    // The API server prefixes audit annotation keys with "<webhook name>/": a key with its own prefix would be dropped.
    for (const key of Object.keys(review.response.auditAnnotations)) expect(key).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/);
  });

  it('sends no patchType or patch when there is nothing to add', async () => {
    const object = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { securityContext: { runAsNonRoot: true }, containers: [] } };
    const review = (await hook.post('/mutate', podReview({ object }))).json();
    expect(review.response.allowed).toBe(true);
    expect(review.response).not.toHaveProperty('patchType');
    expect(review.response).not.toHaveProperty('patch');
  });

  it('answers a dry-run request exactly like a real one', async () => {
    const real = (await hook.post('/mutate', podReview({ uid: 'real' }))).json().response;
    const dry = (await hook.post('/mutate', podReview({ uid: 'dry', dryRun: true }))).json().response;
    expect({ ...dry, uid: 'real' }).toEqual(real);
  });

  it('denies with the engine message', async () => {
    const object = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bad', labels: { deny: 'yes' } }, spec: { containers: [] } };
    const review = (await hook.post('/mutate', podReview({ uid: 'd1', object }))).json();
    expect(review.response).toMatchObject({ uid: 'd1', allowed: false, status: { code: 403, message: 'spec.containers[app]: refused by the test engine' } });
  });

  it.each([
    ['a namespace that did not opt in', podReview({ namespace: 'legacy' })],
    ['a namespace that does not exist', podReview({ namespace: 'ghost' })],
    ['UPDATE of a Pod', podReview({ operation: 'UPDATE' })],
    ['DELETE of a Pod', podReview({ operation: 'DELETE', object: null })],
    ['CREATE of pods/binding', podReview({ subResource: 'binding', object: { kind: 'Binding' } })],
    ['another resource', podReview({ resource: 'services', object: { kind: 'Service' } })],
    ['UPDATE of pods/status', podReview({ operation: 'UPDATE', subResource: 'status' })],
  ])('allows %s untouched', async (_label, review) => {
    const response = (await hook.post('/mutate', review)).json().response;
    expect(response).toEqual({ uid: review.request.uid, allowed: true });
  });

  it('passes ephemeral-container updates to the engine with target ephemeralContainers', async () => {
    const seen: string[] = [];
    const local = await startTestWebhook({
      decideAdmission: (input) => {
        seen.push(input.target);
        return { allowed: true, patch: [{ op: 'add', path: '/spec/ephemeralContainers/0/securityContext', value: {} }], injected: ['x'], warnings: [], warningReasons: [] };
      },
    });
    try {
      const review = podReview({ operation: 'UPDATE', subResource: 'ephemeralcontainers' });
      const response = (await local.post('/mutate', review)).json().response;
      expect(seen).toEqual(['ephemeralContainers']);
      expect(response.patchType).toBe('JSONPatch');
    } finally {
      await local.stop();
    }
  });

  it('hardens only the ephemeral container kubectl debug adds, never one that already exists (real engine)', async () => {
    const local = await startTestWebhook({ decideAdmission, policySource: staticPolicySource(defaultPolicy()) });
    try {
      const spec = (ephemeral: object[]) => ({ containers: [{ name: 'app', image: 'nginx' }], ephemeralContainers: ephemeral });
      const old = { name: 'old-debug', image: 'busybox' };
      const added = { name: 'new-debug', image: 'busybox' };
      const review = podReview({
        operation: 'UPDATE',
        subResource: 'ephemeralcontainers',
        object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: OPTED_IN.name }, spec: spec([old, added]) },
        oldObject: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: OPTED_IN.name }, spec: spec([old]) },
      });
      const response = (await local.post('/mutate', review)).json().response;
      const paths = (decodePatch(response) as { path: string }[]).map((op) => op.path);
      expect(paths.length).toBeGreaterThan(0);
      expect(paths.every((path) => path.startsWith('/spec/ephemeralContainers/1'))).toBe(true);
    } finally {
      await local.stop();
    }
  });

  it('on reinvocation, reports the Pod-level values it moved to the containers in the audit event and the log line (real engine)', async () => {
    const local = await startTestWebhook({ decideAdmission, policySource: staticPolicySource(defaultPolicy()) });
    try {
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'meshed', namespace: OPTED_IN.name }, spec: { containers: [{ name: 'app', image: 'nginx' }] } };
      const first = (await local.post('/mutate', podReview({ uid: 'first', object: pod }))).json().response;
      const hardened = fastJsonPatch.applyPatch(fastJsonPatch.deepClone(pod), decodePatch(first) as Operation[]).newDocument;
      // What a mesh injector after us adds.
      hardened.spec.containers.push({ name: 'mesh-agent', image: 'mesh', securityContext: { privileged: true } } as never);
      const second = (await local.post('/mutate', podReview({ uid: 'second', object: hardened }))).json().response;
      const removed = 'spec.securityContext.runAsUser,spec.securityContext.runAsGroup,spec.securityContext.runAsNonRoot';
      expect(second.auditAnnotations.removed).toBe(removed);
      expect(decodePatch(second)).toEqual(expect.arrayContaining([{ op: 'remove', path: '/spec/securityContext/runAsUser' }]));
      const line = local.logger.decisions().find((entry) => entry.fields['uid'] === 'second');
      expect(line?.fields['removed']).toEqual(removed.split(','));
    } finally {
      await local.stop();
    }
  });

  it('logs one line per decision with uid, namespace, pod name and what was added, never the object', async () => {
    const before = hook.logger.decisions().length;
    await hook.post('/mutate', podReview({ uid: 'log-me' }));
    const lines = hook.logger.decisions().slice(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.fields).toMatchObject({
      uid: 'log-me',
      namespace: 'team-a',
      name: 'web-*',
      operation: 'CREATE',
      result: 'patched',
      injected: ['spec.securityContext.runAsNonRoot'],
    });
    expect(JSON.stringify(lines[0]!.fields)).not.toContain('nginx');
  });

  it('logs a skipped Pod at info with the reason, and requests it does not handle only at debug', async () => {
    const before = hook.logger.decisions().length;
    await hook.post('/mutate', podReview({ uid: 'legacy-pod', namespace: 'legacy' }));
    await hook.post('/mutate', podReview({ uid: 'svc', resource: 'services', object: { kind: 'Service' } }));
    const [skipped, unhandled] = hook.logger.decisions().slice(before);
    expect(skipped).toMatchObject({ level: 'info', fields: { uid: 'legacy-pod', result: 'skipped', reason: 'namespace "legacy" has not opted in; allowed unchanged' } });
    expect(unhandled).toMatchObject({ level: 'debug', fields: { uid: 'svc', reason: 'CREATE services is not handled by this webhook; allowed unchanged' } });
  });

  it('echoes every uid correctly under concurrency', async () => {
    const uids = Array.from({ length: 60 }, (_, i) => `concurrent-${i}`);
    const answers = await Promise.all(uids.map((uid) => hook.post('/mutate', podReview({ uid }))));
    expect(answers.map((a) => a.json().response.uid)).toEqual(uids);
  });
});
