// The admission pipeline's stages on their own, without HTTP: what each one makes of its input,
// and that decide and record never let an error escape into the caller's batch.
import { describe, expect, it } from '@jest/globals';
import { createAdmissionPipeline, type AdmissionOutcome, type ReviewDecider } from '../../src/admission/admission-pipeline.js';
import { allowed, denied, MAX_WARNINGS, type AdmissionAnswer } from '../../src/admission/admission-responses.js';
import type { AdmissionRequest } from '../../src/admission/admission-review.js';
import type { FailurePolicy } from '../../src/admission/failure-policy.js';
import type { AdmissionResult, WebhookMetrics } from '../../src/ports/admission-ports.js';
import { podReview, RecordingLogger } from '../server/webhook-harness.js';

class RecordingMetrics implements WebhookMetrics {
  readonly admissions: Array<{ endpoint: string; operation: string; result: AdmissionResult }> = [];
  readonly warnings: string[][] = [];
  readonly wouldDeny: Array<{ namespace: string; reasons: readonly string[] }> = [];
  failOnObserve = false;
  observeAdmission(endpoint: string, operation: string, result: AdmissionResult): void {
    if (this.failOnObserve) throw new Error('metrics broke');
    this.admissions.push({ endpoint, operation, result });
  }
  countInjected(): void {}
  countWouldDeny(namespace: string, reasons: readonly string[]): void {
    this.wouldDeny.push({ namespace, reasons });
  }
  setPolicyGeneration(): void {}
  countPolicyReloadError(): void {}
  countTlsReloadError(): void {}
  setCertificateExpiry(): void {}
  countWarnings(reasons: readonly string[]): void {
    this.warnings.push([...reasons]);
  }
  setReady(): void {}
}

function setUp(decide: ReviewDecider, failurePolicy: FailurePolicy = 'open') {
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const pipeline = createAdmissionPipeline('mutate', { decide, failurePolicy, logger, metrics });
  return { logger, metrics, pipeline };
}

function requestOf(review: unknown): AdmissionRequest {
  const { pipeline } = setUp(async () => {
    throw new Error('unused');
  });
  const reading = pipeline.read(Buffer.from(JSON.stringify(review)));
  if (reading.kind !== 'request') throw new Error(`fixture is not a request: ${JSON.stringify(reading)}`);
  return reading.request;
}

const outcome = (answer: AdmissionAnswer, result: AdmissionResult, extra: Partial<AdmissionOutcome> = {}): AdmissionOutcome => ({
  ...answer,
  result,
  log: {},
  injected: [],
  ...extra,
});

describe('read', () => {
  it.each([
    ['an empty body', 'rejected', ''],
    ['text that is not JSON', 'rejected', '{"kind":'],
    ['a review without a request', 'rejected', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' })],
    ['a review with a uid but no operation', 'unusable', JSON.stringify({ ...podReview({ uid: 'r0' }), request: { ...podReview({ uid: 'r0' }).request, operation: '' } })],
    ['a Pod review', 'request', JSON.stringify(podReview({ uid: 'r1' }))],
  ])('%s reads as %s', (_name, kind, body) => {
    const { pipeline } = setUp(async () => outcome(allowed('x'), 'allowed'));
    expect(pipeline.read(Buffer.from(body)).kind).toBe(kind);
  });
});

describe('decide', () => {
  it("returns the decider's outcome as it is", async () => {
    const decided = outcome(denied('d1', 'no'), 'denied');
    const { pipeline } = setUp(async () => decided);
    await expect(pipeline.decide(requestOf(podReview({ uid: 'd1' })))).resolves.toBe(decided);
  });

  it.each<[FailurePolicy, boolean]>([
    ['open', true],
    ['closed', false],
  ])('turns a decider that throws into an answer with the reason (failure policy %s: allowed %s)', async (failurePolicy, isAllowed) => {
    const { pipeline } = setUp(async () => {
      throw new Error('engine exploded');
    }, failurePolicy);
    const decided = await pipeline.decide(requestOf(podReview({ uid: 'd2' })));
    expect(decided.result).toBe('errored');
    expect(decided.log).toEqual({ reason: 'internal error: engine exploded' });
    expect(decided.response.uid).toBe('d2');
    expect(decided.response.allowed).toBe(isAllowed);
    expect(JSON.stringify(decided.response)).toContain('internal error: engine exploded');
  });
});

describe('answer', () => {
  it('is an admission.k8s.io/v1 AdmissionReview echoing the uid', () => {
    const { pipeline } = setUp(async () => outcome(allowed('x'), 'allowed'));
    expect(JSON.parse(pipeline.answer(outcome(denied('a1', 'refused: reason'), 'denied')))).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'a1', allowed: false, status: { status: 'Failure', code: 403, reason: 'Forbidden', message: 'refused: reason' } },
    });
  });

  it('answers an unusable review in the API version it came in, with its uid and the reason', () => {
    const { pipeline } = setUp(async () => outcome(allowed('x'), 'allowed'), 'closed');
    const answer = JSON.parse(pipeline.answerUnusable({ kind: 'unusable', uid: 'u1', apiVersion: 'admission.k8s.io/v1beta1', reason: 'request.uid is too long' }));
    expect(answer).toMatchObject({ apiVersion: 'admission.k8s.io/v1beta1', response: { uid: 'u1', allowed: false } });
    expect(answer.response.status.message).toContain('request.uid is too long');
  });
});

describe('record', () => {
  const request = requestOf(podReview({ uid: 'rec', namespace: 'team-a' }));

  it.each<[string, string, AdmissionOutcome]>([
    ['a patch', 'info', outcome(allowed('rec'), 'patched')],
    ['a request not handled at all', 'debug', outcome(allowed('rec'), 'skipped', { quiet: true })],
    ['an errored decision', 'warn', outcome(allowed('rec'), 'errored')],
    ['an invalid request', 'warn', outcome(allowed('rec'), 'invalid')],
  ])('logs %s at %s, with the metrics', (_name, level, decided) => {
    const { pipeline, logger, metrics } = setUp(async () => decided);
    pipeline.record({ request, outcome: decided, seconds: 0.0021 });
    expect(logger.entries).toEqual([
      {
        level,
        message: 'admission decision',
        fields: expect.objectContaining({ endpoint: 'mutate', uid: 'rec', namespace: 'team-a', name: 'web-*', result: decided.result, durationMs: 2.1 }),
      },
    ]);
    expect(metrics.admissions).toEqual([{ endpoint: 'mutate', operation: 'CREATE', result: decided.result }]);
  });

  it('counts warnings by the reasons their writers gave, and what warn mode would have denied', () => {
    // The texts are not read: a warning worded like another reason's is counted under its own.
    const warnings = { texts: ['allowPrivilegeEscalation: false not added to container "a" because it is privileged', 'something new'], reasons: ['sys-admin-capability', 'other'] as const };
    const decided = outcome(allowed('rec', { warnings }), 'patched', { wouldDeny: { namespace: 'team-a', reasons: ['privileged'] } });
    const { pipeline, metrics } = setUp(async () => decided);
    pipeline.record({ request, outcome: decided, seconds: 0 });
    expect(metrics.warnings).toEqual([['sys-admin-capability', 'other']]);
    expect(metrics.wouldDeny).toEqual([{ namespace: 'team-a', reasons: ['privileged'] }]);
  });

  it('counts the warnings that were sent: the first ones by reason, the line that sums up the rest as "other"', () => {
    const count = MAX_WARNINGS + 5;
    const texts = Array.from({ length: count }, (_, i) => `spec.containers[${i}] is not an object; it was not hardened`);
    const decided = outcome(allowed('rec', { warnings: { texts, reasons: texts.map(() => 'unreadable-pod-field' as const) } }), 'patched');
    const { pipeline, metrics } = setUp(async () => decided);
    pipeline.record({ request, outcome: decided, seconds: 0 });
    expect(decided.response.warnings).toHaveLength(MAX_WARNINGS + 1);
    expect(metrics.warnings).toEqual([[...Array.from({ length: MAX_WARNINGS }, () => 'unreadable-pod-field'), 'other']]);
  });

  it('counts nothing for an answer without warnings', () => {
    const decided = outcome(allowed('rec', { warnings: { texts: [], reasons: [] } }), 'patched');
    const { pipeline, metrics } = setUp(async () => decided);
    pipeline.record({ request, outcome: decided, seconds: 0 });
    expect(decided.response).toEqual({ uid: 'rec', allowed: true });
    expect(metrics.warnings).toEqual([]);
  });

  it('logs a failure of its own bookkeeping instead of throwing it at the batch', () => {
    const decided = outcome(allowed('rec'), 'allowed');
    const { pipeline, logger, metrics } = setUp(async () => decided);
    metrics.failOnObserve = true;
    expect(() => pipeline.record({ request, outcome: decided, seconds: 0 })).not.toThrow();
    expect(logger.entries).toEqual([{ level: 'error', message: 'could not record an admission decision', fields: { endpoint: 'mutate', uid: 'rec', reason: 'metrics broke' } }]);
  });

  it('records an unread review as invalid, naming the uid when it has one', () => {
    const { pipeline, logger, metrics } = setUp(async () => outcome(allowed('x'), 'allowed'));
    pipeline.recordUnread({ kind: 'rejected', reason: 'request body is empty' }, 0);
    pipeline.recordUnread({ kind: 'unusable', uid: 'u2', apiVersion: 'admission.k8s.io/v1', reason: 'no request.object' }, 0);
    expect(metrics.admissions).toEqual([
      { endpoint: 'mutate', operation: '', result: 'invalid' },
      { endpoint: 'mutate', operation: '', result: 'invalid' },
    ]);
    expect(logger.entries).toEqual([
      { level: 'warn', message: 'admission request refused', fields: { endpoint: 'mutate', reason: 'request body is empty' } },
      { level: 'warn', message: 'admission request could not be judged', fields: { endpoint: 'mutate', uid: 'u2', reason: 'no request.object' } },
    ]);
  });
});
