import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect } from 'node:tls';
import { podReview, startTestWebhook, type TestWebhook } from './webhook-harness.js';

// As text: 200 000 levels is too deep for JSON.stringify itself, which is the point.
function deeplyNestedPodReview(uid: string, depth: number): string {
  const spec = '{"n":'.repeat(depth) + '1' + '}'.repeat(depth);
  return JSON.stringify(podReview({ uid, object: { apiVersion: 'v1', kind: 'Pod', spec: 'SPEC' } })).replace('"SPEC"', spec);
}

const notAPod = podReview({ uid: 'svc', object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: {} } });
const noObject = podReview({ uid: 'no-object', object: null });
const deep = deeplyNestedPodReview('deep', 200_000);
// Written as text: a JS object literal with __proto__ would set the prototype instead of a key.
const protoPod = JSON.stringify(podReview({ uid: 'proto' })).replace('"metadata":{', '"metadata":{"__proto__":{"polluted":true},');
const v1beta1 = { ...podReview({ uid: 'old-version' }), apiVersion: 'admission.k8s.io/v1beta1' };

describe.each(['open', 'closed'] as const)('bad input with failure policy %s', (failurePolicy) => {
  let hook: TestWebhook;
  beforeAll(async () => {
    hook = await startTestWebhook({ failurePolicy, timeouts: { headersTimeoutMs: 300, requestTimeoutMs: 600, connectionsCheckingIntervalMs: 50 } });
  });
  afterAll(async () => {
    await hook.stop();
  });

  // No uid to answer to: plain HTTP 400 with a one-line reason.
  it.each([
    ['not JSON', '{"apiVersion": ', /not valid JSON/],
    ['empty body', '', /body is empty/],
    ['a JSON array', '[]', /not a JSON object/],
    ['not an AdmissionReview', { apiVersion: 'v1', kind: 'Pod' }, /kind is "Pod"; expected "AdmissionReview"/],
    ['an unknown API version', { ...podReview(), apiVersion: 'admission.k8s.io/v2' }, /apiVersion is "admission.k8s.io\/v2"/],
    ['a review without request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, /request is missing/],
    ['a request without uid', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { operation: 'CREATE' } }, /request.uid is missing/],
    ['a uid that is not a string', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 7 } }, /request.uid is missing/],
  ])('answers 400 to %s', async (_label, body, reason) => {
    const answer = await hook.post('/mutate', body);
    expect(answer.status).toBe(400);
    expect(answer.text).toMatch(reason);
    expect(answer.text.trim().split('\n')).toHaveLength(1);
  });

  it('answers 400 to the wrong content type', async () => {
    const answer = await hook.post('/mutate', podReview(), { 'content-type': 'text/plain' });
    expect(answer.status).toBe(400);
    expect(answer.text).toMatch(/Content-Type must be application\/json, got "text\/plain"/);
  });

  it('accepts application/json with a charset', async () => {
    const answer = await hook.post('/mutate', podReview({ uid: 'cs' }), { 'content-type': 'application/json; charset=utf-8' });
    expect(answer.json().response.uid).toBe('cs');
  });

  // A uid to answer to: an AdmissionReview that admits unchanged with a warning (open) or refuses (closed).
  it.each([
    ['an object that is not a Pod', notAPod, /request.object.kind is "Service"; expected "Pod"/],
    ['a Pod CREATE without object', noObject, /request.object is missing/],
    ['hostile nesting', deep, /nested deeper than 100 levels/],
    ['a __proto__ key', protoPod, /"__proto__" is not allowed/],
  ])('answers %s with an AdmissionReview carrying the reason', async (_label, body, reason) => {
    const answer = await hook.post('/mutate', body);
    expect(answer.status).toBe(200);
    const { response } = answer.json();
    const uid = (typeof body === 'string' ? JSON.parse(body) : body).request.uid;
    expect(response.uid).toBe(uid);
    if (failurePolicy === 'open') {
      expect(response.allowed).toBe(true);
      expect(response).not.toHaveProperty('patch');
      expect(response.warnings[0]).toMatch(reason);
    } else {
      expect(response.allowed).toBe(false);
      expect(response.status.code).toBe(400);
      expect(response.status.message).toMatch(reason);
    }
  });

  it('answers a v1beta1 review in v1beta1, naming the fix', async () => {
    const review = (await hook.post('/mutate', v1beta1)).json();
    expect(review.apiVersion).toBe('admission.k8s.io/v1beta1');
    expect(review.response.uid).toBe('old-version');
    const text = failurePolicy === 'open' ? review.response.warnings[0] : review.response.status.message;
    expect(text).toMatch(/admissionReviewVersions: \["v1"\]/);
    expect(review.response.allowed).toBe(failurePolicy === 'open');
  });

  it('refuses a body over the 8 MiB limit with 413, and accepts one just under it', async () => {
    const big = podReview({ uid: 'big' });
    const tooBig = JSON.stringify({ ...big, padding: 'x'.repeat(8 * 1024 * 1024) });
    const refused = await hook.post('/mutate', tooBig);
    expect(refused.status).toBe(413);
    expect(refused.text).toMatch(/over the 8388608-byte limit/);
    const object = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', annotations: { blob: 'y'.repeat(7 * 1024 * 1024) } }, spec: { containers: [] } };
    const accepted = await hook.post('/mutate', podReview({ uid: 'just-under', object }));
    expect(accepted.status).toBe(200);
    expect(accepted.json().response.uid).toBe('just-under');
  });

  it('answers GET /mutate with 405 and unknown paths with 404', async () => {
    expect((await hook.get('/mutate')).status).toBe(405);
    const missing = await hook.get('/nope');
    expect(missing.status).toBe(404);
    expect(missing.text).toBe('no such endpoint: GET /nope\n');
  });

  it('closes a connection that sends headers too slowly (slowloris)', async () => {
    const socket = connect({ host: '127.0.0.1', port: hook.webhook.port, ca: hook.ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    socket.write('POST /mutate HTTP/1.1\r\nHost: localhost\r\n');
    const started = Date.now();
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(Buffer.concat(received).toString()).toMatch(/^HTTP\/1.1 408/);
  });

  it('still serves a good request after all of that', async () => {
    const answer = await hook.post('/mutate', podReview({ uid: 'after' }));
    expect(answer.json().response).toMatchObject({ uid: 'after', allowed: true, patchType: 'JSONPatch' });
  });
});
