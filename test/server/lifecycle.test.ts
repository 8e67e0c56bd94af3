import { describe, expect, it } from '@jest/globals';
import { Agent } from 'node:https';
import type { AdmissionDecision } from '../../src/engine/model.js';
import type { PolicySnapshot, PolicySource } from '../../src/ports/admission-ports.js';
import { fakeDecideAdmission, fakePolicy, httpsCall, podReview, startTestWebhook } from './webhook-harness.js';

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('readiness, metrics and shutdown', () => {
  it('is not ready until a policy is loaded, and not ready once shutdown begins', async () => {
    let snapshot: PolicySnapshot | null = null;
    const policySource: PolicySource = { current: () => snapshot };
    let cachesSynced = false;
    const hook = await startTestWebhook({ policySource, readinessChecks: [() => (cachesSynced ? null : 'namespace cache not synced')] });
    try {
      const first = await hook.get('/readyz');
      expect(first.status).toBe(503);
      expect(first.text).toBe('not ready: no valid policy loaded yet; namespace cache not synced\n');
      expect((await hook.get('/healthz')).status).toBe(200);

      snapshot = { policy: fakePolicy(), generation: 3 };
      cachesSynced = true;
      expect((await hook.get('/readyz')).status).toBe(200);

      const shutdown = hook.webhook.shutdown({ delayMs: 300, drainTimeoutMs: 1000 });
      const during = await hook.get('/readyz');
      expect(during.status).toBe(503);
      expect(during.text).toMatch(/shutting down/);
      await shutdown;
    } finally {
      hook.agent.destroy();
    }
  });

  it('answers Pods per the failure policy while no policy is loaded', async () => {
    const open = await startTestWebhook({ policySource: { current: () => null } });
    const closed = await startTestWebhook({ policySource: { current: () => null }, failurePolicy: 'closed' });
    try {
      const openAnswer = (await open.post('/mutate', podReview({ uid: 'o' }))).json().response;
      expect(openAnswer).toMatchObject({ uid: 'o', allowed: true, warnings: ['secure-defaults did not harden this request: no valid policy has been loaded yet'] });
      const closedAnswer = (await closed.post('/mutate', podReview({ uid: 'c' }))).json().response;
      expect(closedAnswer).toMatchObject({ uid: 'c', allowed: false, status: { code: 503 } });
      expect(closedAnswer.status.message).toMatch(/no valid policy has been loaded yet/);
    } finally {
      await open.stop();
      await closed.stop();
    }
  });

  it('turns an engine exception into an answer with the reason and keeps serving', async () => {
    const hook = await startTestWebhook({
      failurePolicy: 'closed',
      decideAdmission: (input) => {
        if ((input.pod as { metadata: { name?: string } }).metadata.name === 'boom') throw new TypeError('cannot read properties of undefined');
        return fakeDecideAdmission(input);
      },
    });
    try {
      const object = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'boom' }, spec: { containers: [] } };
      const answer = await hook.post('/mutate', podReview({ uid: 'boom-1', object }));
      expect(answer.status).toBe(200);
      expect(answer.json().response).toMatchObject({ uid: 'boom-1', allowed: false, status: { code: 500 } });
      expect(answer.json().response.status.message).toMatch(/the hardening engine failed: cannot read properties of undefined/);
      expect((await hook.post('/mutate', podReview({ uid: 'next' }))).json().response.allowed).toBe(true);
    } finally {
      await hook.stop();
    }
  });

  it('answers a failing namespace lookup per the failure policy', async () => {
    const hook = await startTestWebhook({ namespaces: { lookup: async () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.1:443')) } });
    try {
      const response = (await hook.post('/mutate', podReview({ uid: 'ns' }))).json().response;
      expect(response.allowed).toBe(true);
      expect(response.warnings[0]).toMatch(/could not look up namespace "team-a": connect ECONNREFUSED/);
    } finally {
      await hook.stop();
    }
  });

  it('exposes requests by operation and result, latency, injected fields and the policy generation', async () => {
    const hook = await startTestWebhook({ policySource: { current: () => ({ policy: fakePolicy(), generation: 7 }) } });
    try {
      await hook.post('/mutate', podReview());
      await hook.post('/mutate', podReview());
      await hook.post('/mutate', podReview({ namespace: 'legacy' }));
      await hook.post('/mutate', 'not json');
      const metrics = await hook.get('/metrics');
      expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
      const text = metrics.text;
      expect(text).toContain('secure_defaults_admission_requests_total{webhook_endpoint="mutate",operation="CREATE",result="patched"} 2');
      expect(text).toContain('secure_defaults_admission_requests_total{webhook_endpoint="mutate",operation="CREATE",result="skipped"} 1');
      expect(text).toContain('secure_defaults_admission_requests_total{webhook_endpoint="mutate",operation="unknown",result="invalid"} 1');
      expect(text).toContain('secure_defaults_admission_duration_seconds_count{webhook_endpoint="mutate",operation="CREATE"} 3');
      expect(text).toContain('secure_defaults_injected_fields_total{field="spec.securityContext.runAsNonRoot"} 2');
      expect(text).toContain('secure_defaults_policy_generation 7');
      expect(text).toContain('secure_defaults_policy_reload_errors_total 0');
    } finally {
      await hook.stop();
    }
  });

  it('lets in-flight requests finish on shutdown, refuses new connections after, and closes kept-alive ones', async () => {
    const gate = deferred<void>();
    const entered = deferred<void>();
    const decisions: AdmissionDecision[] = [];
    const hook = await startTestWebhook({
      namespaces: {
        lookup: async (name) => {
          entered.resolve();
          await gate.promise;
          return { name, labels: { 'secure-defaults.io/inject': 'enabled' }, annotations: {} };
        },
      },
      decideAdmission: (input) => {
        const decision = fakeDecideAdmission(input);
        decisions.push(decision);
        return decision;
      },
    });
    const idleAgent = new Agent({ keepAlive: true, ca: hook.ca });
    try {
      // An idle kept-alive connection, as the API server holds.
      await httpsCall(hook.webhook.port, { method: 'GET', path: '/healthz', ca: hook.ca, agent: idleAgent });
      const inFlight = hook.post('/mutate', podReview({ uid: 'in-flight' }));
      await entered.promise;
      let stopped = false;
      const shutdown = hook.webhook.shutdown({ delayMs: 0, drainTimeoutMs: 5000 }).then(() => (stopped = true));
      await new Promise((r) => setTimeout(r, 100));
      expect(stopped).toBe(false);
      await expect(httpsCall(hook.webhook.port, { method: 'GET', path: '/healthz', ca: hook.ca })).rejects.toThrow(/ECONNREFUSED/);
      gate.resolve();
      const answer = await inFlight;
      expect(answer.json().response).toMatchObject({ uid: 'in-flight', allowed: true, patchType: 'JSONPatch' });
      expect(answer.headers.connection).toBe('close');
      await shutdown;
      expect(stopped).toBe(true);
      expect(decisions).toHaveLength(1);
      // close() only completes once every connection is gone: the idle kept-alive one was closed, not waited out.
      expect(hook.logger.entries.some((e) => e.message.startsWith('drain timeout reached'))).toBe(false);
    } finally {
      idleAgent.destroy();
      hook.agent.destroy();
    }
  });

  it('bounds the drain: a request that never finishes is cut off at the drain timeout', async () => {
    const hook = await startTestWebhook({ namespaces: { lookup: () => new Promise(() => undefined) } });
    try {
      const hanging = hook.post('/mutate', podReview({ uid: 'hangs' })).catch((error: Error) => error);
      await new Promise((r) => setTimeout(r, 50));
      const started = Date.now();
      await hook.webhook.shutdown({ delayMs: 0, drainTimeoutMs: 300 });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(String(await hanging)).toMatch(/socket hang up|ECONNRESET/);
      expect(hook.logger.entries.some((e) => e.message.startsWith('drain timeout reached'))).toBe(true);
    } finally {
      hook.agent.destroy();
    }
  });
});
