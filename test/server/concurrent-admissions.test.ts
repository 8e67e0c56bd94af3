import { describe, expect, it } from '@jest/globals';
import type { AdmissionDecision, AdmissionInput } from '../../src/engine/model.js';
import { request as httpsRequest } from 'node:https';
import { systemClock } from '../../src/foundation/clock.js';
import { QUIET_BEFORE_LONE_REVIEW_MS } from '../../src/server/webhook-app.js';
import { decodePatch, fakeDecideAdmission, OPTED_IN, podReview, readAnswer, startTestWebhook, type HttpAnswer } from './webhook-harness.js';

// The webhook handles the requests that arrive in one event-loop turn as a batch (turn-batch.ts).
// Whatever lands in a batch together, each answer must be that request's own, its log line must
// exist before its client can read the answer, and one failure must not touch its neighbours. The
// webhook reports each batch's size (onReviewBatch), so the tests know batches really formed.
const CONCURRENT = 40;

function podNamed(name: string, extra: Record<string, unknown> = {}) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: OPTED_IN.name }, spec: { containers: [{ name: 'app', image: 'nginx' }], ...extra } };
}

describe('concurrent admission requests', () => {
  it('judges a lone review after a quiet spell at once; one right behind another, or with company, waits for the turn to end', async () => {
    // The turn's end is held by the test: a review that waited for it would never be answered.
    const heldTurns: Array<() => void> = [];
    const batchSizes: number[] = [];
    // The webhook's monotonic clock moves only when the test says: "a quiet spell" is explicit.
    let monotonicMs = 1_000;
    const clock = { ...systemClock, monotonic: () => monotonicMs };
    const answeredWithin = (answer: Promise<unknown>, ms: number) => Promise.race([answer.then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('waiting'), ms))]);
    const releaseHeldTurns = () => {
      while (heldTurns.length > 0) heldTurns.shift()!();
    };
    const hook = await startTestWebhook({ clock, turnScheduler: (run) => heldTurns.push(run), onReviewBatch: (endpoint, size) => endpoint === 'mutate' && batchSizes.push(size) });
    try {
      const alone = hook.post('/mutate', podReview({ uid: 'alone', object: podNamed('alone') }));
      expect(await answeredWithin(alone, 2_000)).toBe('answered');
      expect((await alone).json().response.uid).toBe('alone');
      expect(heldTurns).toHaveLength(0);

      // Right behind another one (as under load, where the next may be unread in the same poll
      // phase), a review waits for the turn's end even when it is the only one in flight.
      monotonicMs += QUIET_BEFORE_LONE_REVIEW_MS / 2;
      const close = hook.post('/mutate', podReview({ uid: 'close', object: podNamed('close') }));
      expect(await answeredWithin(close, 300)).toBe('waiting');
      releaseHeldTurns();
      expect((await close).json().response.uid).toBe('close');
      monotonicMs += 10 * QUIET_BEFORE_LONE_REVIEW_MS;

      // A second review whose body is still arriving is in flight: the complete one now waits for
      // the turn's end, so that both would be judged together had the other's body come in time.
      const slowBody = Buffer.from(JSON.stringify(podReview({ uid: 'slow', object: podNamed('slow') })));
      const slow = httpsRequest({ host: '127.0.0.1', port: hook.webhook.port, method: 'POST', path: '/mutate', ca: hook.ca, servername: 'localhost', agent: false, headers: { 'content-type': 'application/json', 'content-length': slowBody.length } });
      const slowAnswer = new Promise<HttpAnswer>((answered, failed) => {
        slow.on('response', (res) => readAnswer(res).then(answered, failed));
        slow.on('error', failed);
      });
      slow.write(slowBody.subarray(0, 10));
      // Long enough for the handshake and the headers to reach the handler.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const company = hook.post('/mutate', podReview({ uid: 'company', object: podNamed('company') }));
      expect(await answeredWithin(company, 300)).toBe('waiting');
      expect(heldTurns.length).toBeGreaterThan(0);
      releaseHeldTurns();
      monotonicMs += 10 * QUIET_BEFORE_LONE_REVIEW_MS;
      expect((await company).json().response.uid).toBe('company');
      // With the other review answered, the slow one is alone once its body is complete.
      slow.end(slowBody.subarray(10));
      expect((await slowAnswer).json().response.uid).toBe('slow');
      expect(batchSizes).toEqual([1, 1, 1, 1]);
    } finally {
      await hook.stop();
    }
  });


  it('judges a burst of big reviews a bounded number of bytes per turn, answering every one', async () => {
    // Each review about 100 KB (a Pod with a big annotation): 30 together would be parsed as one
    // batch of 3 MB, about 30 MB live; with a 300 KB turn at most three are judged per turn.
    const padding = 'x'.repeat(100_000);
    const batches: Array<{ size: number; bytes: number }> = [];
    const hook = await startTestWebhook({ maxTurnBytes: 300_000, onReviewBatch: (endpoint, size, bytes) => endpoint === 'mutate' && batches.push({ size, bytes }) });
    try {
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          hook.post('/mutate', podReview({ uid: `big-${i}`, object: { ...podNamed(`big-${i}`), metadata: { name: `big-${i}`, namespace: OPTED_IN.name, annotations: { padding } } } })),
        ),
      );
      answers.forEach((answer, i) => {
        expect(answer.status).toBe(200);
        expect(answer.json().response.uid).toBe(`big-${i}`);
      });
      expect(batches.reduce((sum, batch) => sum + batch.size, 0)).toBe(30);
      for (const batch of batches) expect(batch.bytes).toBeLessThanOrEqual(300_000);
      // The bound did split what arrived together, or this test would prove nothing.
      expect(batches.length).toBeGreaterThan(10);
      expect(Math.max(...batches.map((batch) => batch.size))).toBeGreaterThan(1);
    } finally {
      await hook.stop();
    }
  });

  it('answers each with its own uid and patch, and logs it before the answer is seen', async () => {
    // The patch names the Pod, so an answer sent to the wrong request would show.
    const decide = (input: AdmissionInput): AdmissionDecision => {
      const name = (input.pod as { metadata: { name: string } }).metadata.name;
      return { allowed: true, patch: [{ op: 'add', path: '/metadata/labels', value: { hardened: name } }], injected: [`metadata.labels.hardened`], warnings: [], warningReasons: [] };
    };
    const batchSizes: number[] = [];
    const hook = await startTestWebhook({ decideAdmission: decide, onReviewBatch: (endpoint, size) => endpoint === 'mutate' && batchSizes.push(size) });
    try {
      const answers = await Promise.all(
        Array.from({ length: CONCURRENT }, async (_, i) => {
          const answer = await hook.post('/mutate', podReview({ uid: `uid-${i}`, object: podNamed(`pod-${i}`) }));
          const logged = hook.logger.decisions().some((line) => line.fields.uid === `uid-${i}`);
          return { i, answer, logged };
        }),
      );
      for (const { i, answer, logged } of answers) {
        expect(answer.status).toBe(200);
        const response = answer.json().response;
        expect(response.uid).toBe(`uid-${i}`);
        expect(decodePatch(response)).toEqual([{ op: 'add', path: '/metadata/labels', value: { hardened: `pod-${i}` } }]);
        expect(logged).toBe(true);
      }
      expect(hook.logger.decisions()).toHaveLength(CONCURRENT);
      // Every review went through a batch, and some batches held several: the answers above were
      // sorted out of real batches, not of requests that happened to arrive one per turn.
      expect(batchSizes.reduce((sum, size) => sum + size, 0)).toBe(CONCURRENT);
      expect(Math.max(...batchSizes)).toBeGreaterThan(1);
    } finally {
      await hook.stop();
    }
  });

  it('keeps one failing decision and one unreadable body from affecting the rest', async () => {
    const hook = await startTestWebhook({
      failurePolicy: 'closed',
      decideAdmission: (input) => {
        if ((input.pod as { metadata: { name: string } }).metadata.name === 'boom') throw new TypeError('engine blew up');
        return fakeDecideAdmission(input);
      },
    });
    try {
      const requests = Array.from({ length: CONCURRENT }, (_, i) => {
        if (i === 7) return hook.post('/mutate', podReview({ uid: 'uid-boom', object: podNamed('boom') }));
        if (i === 13) return hook.post('/mutate', '{"kind": "AdmissionReview", "apiVersion": ');
        return hook.post('/mutate', podReview({ uid: `uid-${i}`, object: podNamed(`pod-${i}`) }));
      });
      const answers = await Promise.all(requests);
      answers.forEach((answer, i) => {
        if (i === 13) {
          expect(answer.status).toBe(400);
          expect(answer.text).toMatch(/not valid JSON/);
          return;
        }
        const response = answer.json().response;
        if (i === 7) {
          expect(response).toMatchObject({ uid: 'uid-boom', allowed: false, status: { code: 500 } });
          expect(response.status.message).toMatch(/engine blew up/);
        } else {
          expect(response).toMatchObject({ uid: `uid-${i}`, allowed: true, patchType: 'JSONPatch' });
        }
      });
    } finally {
      await hook.stop();
    }
  });
});
