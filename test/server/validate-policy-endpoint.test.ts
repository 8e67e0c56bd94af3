import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request as httpsRequest } from 'node:https';
import { createWorkerPolicyParser } from '../../src/server/worker-policy-parser.js';
import { fixtureWorker } from './compiled-policy-worker.js';
import { configMapReview, startTestWebhook, type TestWebhook } from './webhook-harness.js';

describe('POST /validate-policy', () => {
  let hook: TestWebhook;
  beforeAll(async () => {
    hook = await startTestWebhook();
  });
  afterAll(async () => {
    await hook.stop();
  });

  it('refuses an edit of the policy ConfigMap that does not validate, listing each error with its path', async () => {
    const response = (await hook.post('/validate-policy', configMapReview({ uid: 'v1', data: { 'policy.yaml': 'broken' } }))).json().response;
    expect(response).toMatchObject({ uid: 'v1', allowed: false, status: { code: 403 } });
    expect(response.status.message).toBe(
      'policy ConfigMap secure-defaults/policy refused (data.policy.yaml): spec.fallback.uidRange: "20000-1999": min is greater than max',
    );
  });

  it('refuses a policy ConfigMap without the policy.yaml key, naming the key', async () => {
    const response = (await hook.post('/validate-policy', configMapReview({ uid: 'v2', operation: 'CREATE', data: { other: 'x' } }))).json().response;
    expect(response.allowed).toBe(false);
    expect(response.status.message).toMatch(/data\.policy\.yaml: missing \(its data keys are "other"\); put the policy document under the key "policy\.yaml"/);
  });

  it('accepts a valid policy', async () => {
    const response = (await hook.post('/validate-policy', configMapReview({ uid: 'v3' }))).json().response;
    expect(response).toEqual({ uid: 'v3', allowed: true });
  });

  it.each([
    ['another ConfigMap in the same namespace', configMapReview({ uid: 'o1', name: 'other', data: { 'policy.yaml': 'broken' } })],
    ['a same-named ConfigMap elsewhere', configMapReview({ uid: 'o2', namespace: 'team-a', data: { 'policy.yaml': 'broken' } })],
    ['another resource', configMapReview({ uid: 'o3', resource: 'secrets', data: { 'policy.yaml': 'broken' } })],
  ])('does not judge %s', async (_label, review) => {
    const response = (await hook.post('/validate-policy', review)).json().response;
    expect(response).toEqual({ uid: review.request.uid, allowed: true });
  });

  it('allows deleting the policy ConfigMap with a warning that the last good policy stays', async () => {
    const response = (await hook.post('/validate-policy', configMapReview({ uid: 'del', operation: 'DELETE', data: null }))).json().response;
    expect(response.allowed).toBe(true);
    expect(response.warnings[0]).toMatch(/keeps using the last good policy/);
  });

  it('gives up the parse when the API server hangs up first: the one policy worker is free again, and the log says why', async () => {
    // A worker that never answers stands for a text that takes long to read; its deadline is far
    // beyond the test, so only the hang-up can stop it.
    const parser = createWorkerPolicyParser({ workerUrl: fixtureWorker('hanging-policy-worker.mjs'), timeoutMs: 60_000, maxWorkers: 1 });
    const slow = await startTestWebhook({ parsePolicy: parser.parseUnlessBusy });
    try {
      const body = JSON.stringify(configMapReview({ uid: 'gone', data: { 'policy.yaml': 'spec: {}' } }));
      const req = httpsRequest({ host: '127.0.0.1', port: slow.webhook.port, method: 'POST', path: '/validate-policy', ca: slow.ca, agent: false, servername: 'localhost', headers: { 'content-type': 'application/json' } });
      req.on('error', () => undefined);
      req.end(body);
      const deadline = Date.now() + 10_000;
      while (parser.busy().running === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(parser.busy().running).toBe(1);
      req.destroy();
      while (parser.busy().running > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(parser.busy()).toEqual({ running: 0, queued: 0 });
      while (slow.logger.decisions().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(slow.logger.decisions().at(-1)).toMatchObject({
        level: 'warn',
        fields: { endpoint: 'validate-policy', uid: 'gone', result: 'errored', reason: expect.stringMatching(/^the API server stopped waiting for the answer .*the parse was given up and nothing changed: retry the edit$/) },
      });
    } finally {
      await slow.stop();
      await parser.close();
    }
  }, 30_000);
});

