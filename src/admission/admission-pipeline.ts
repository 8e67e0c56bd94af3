// What happens to one AdmissionReview, whatever carried it, in four stages:
//   read    the body's bytes into an AdmissionRequest, or why it cannot be one (admission-review.ts);
//   decide  the request into an outcome: the endpoint's decider (pod-admission.ts for /mutate,
//           policy-config-map-review.ts for /validate-policy), a thrown error turned into an answer;
//   answer  the outcome into the AdmissionReview JSON sent back, uid always echoed;
//   record  the outcome into metrics and the one log line written for it.
// The HTTP layer (src/server/webhook-app.ts) receives the bodies, groups them per event-loop turn
// and calls these stages in order; a new per-review step belongs to one of them.
import type { LogFields, Logger } from '../foundation/logger.js';
import type { AdmissionResult, WebhookMetrics } from '../ports/admission-ports.js';
import { reviewResponse, type AdmissionAnswer } from './admission-responses.js';
import { readAdmissionReview, type AdmissionRequest, type ReviewReading } from './admission-review.js';
import { unableToJudge, type FailurePolicy } from './failure-policy.js';
import { podLogName, podOwner } from './pod-log-names.js';

export type ReviewEndpoint = 'mutate' | 'validate-policy';

/**
 * What deciding a request came to: the answer (with the reason of each of its warnings, for
 * secure_defaults_warnings_total), and what its metrics and log line say.
 */
export interface AdmissionOutcome extends AdmissionAnswer {
  readonly result: AdmissionResult;
  /** For the decision's log line: what was added or why it was refused/skipped. Never the object. */
  readonly log: LogFields;
  readonly injected: readonly string[];
  /** Warn mode: the reasons of what enforce would have refused, for secure_defaults_would_deny_total. */
  readonly wouldDeny?: { readonly namespace: string; readonly reasons: readonly string[] };
  /** Requests the webhook does not handle at all are logged at debug; every decision at info or above. */
  readonly quiet?: boolean;
}

/**
 * An endpoint's decision: expected failures come back as outcomes, never as rejections. `signal`,
 * where the HTTP layer gives one, aborts when the caller hung up before the answer was sent.
 */
export type ReviewDecider = (request: AdmissionRequest, signal?: AbortSignal) => Promise<AdmissionOutcome>;

/** A review that could not be read: refused outright (no uid) or answered as unusable. */
export type UnreadReview = Exclude<ReviewReading, { kind: 'request' }>;

/** A review answered, with the time it took from arrival to answer. */
export interface AnsweredReview {
  readonly request: AdmissionRequest;
  readonly outcome: AdmissionOutcome;
  readonly seconds: number;
}

export interface AdmissionPipelineDeps {
  readonly decide: ReviewDecider;
  readonly failurePolicy: FailurePolicy;
  readonly logger: Logger;
  readonly metrics: WebhookMetrics;
}

export interface AdmissionPipeline {
  readonly endpoint: ReviewEndpoint;
  /** Never throws by design: anything that is not a usable AdmissionReview comes back as a reading saying why. */
  read(body: Buffer): ReviewReading;
  /** Never rejects: an unforeseen error becomes an answer with the reason rather than a bare 500. */
  decide(request: AdmissionRequest, signal?: AbortSignal): Promise<AdmissionOutcome>;
  /** The AdmissionReview JSON for a decided request. */
  answer(outcome: AdmissionOutcome): string;
  /** The AdmissionReview JSON for a review that has a uid but cannot be acted on. */
  answerUnusable(reading: Extract<ReviewReading, { kind: 'unusable' }>): string;
  /** Metrics and the decision's log line; a failure here is logged and never escapes. */
  record(answered: AnsweredReview): void;
  /** Metrics and the log line of a review that could not be read. */
  recordUnread(reading: UnreadReview, seconds: number): void;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function ownerField(request: AdmissionRequest): { owner?: string } {
  const owner = podOwner(request.object);
  return owner === '' ? {} : { owner };
}

export function createAdmissionPipeline(endpoint: ReviewEndpoint, deps: AdmissionPipelineDeps): AdmissionPipeline {
  const { logger, metrics, failurePolicy } = deps;

  const recordAnswer = ({ request, outcome, seconds }: AnsweredReview): void => {
    metrics.observeAdmission(endpoint, request.operation, outcome.result, seconds);
    metrics.countInjected(outcome.injected);
    if (outcome.warningReasons.length > 0) metrics.countWarnings(outcome.warningReasons);
    if (outcome.wouldDeny !== undefined) metrics.countWouldDeny(outcome.wouldDeny.namespace, outcome.wouldDeny.reasons);
    const fields = {
      endpoint,
      uid: request.uid,
      namespace: request.namespace,
      name: endpoint === 'mutate' ? podLogName(request) : request.name,
      ...(endpoint === 'mutate' ? ownerField(request) : {}),
      operation: request.operation,
      resource: request.subResource ? `${request.resource.resource}/${request.subResource}` : request.resource.resource,
      dryRun: request.dryRun,
      user: request.username,
      allowed: outcome.response.allowed,
      result: outcome.result,
      durationMs: Math.round(seconds * 1e6) / 1e3,
      ...outcome.log,
    };
    if (outcome.result === 'errored' || outcome.result === 'invalid') logger.warn('admission decision', fields);
    else if (outcome.quiet) logger.debug('admission decision', fields);
    else logger.info('admission decision', fields);
  };

  return {
    endpoint,
    read: (body) => readAdmissionReview(body),
    async decide(request, signal) {
      try {
        return await deps.decide(request, signal);
      } catch (error) {
        // The deciders turn every expected failure into an outcome; this is the last line, so an
        // unforeseen bug still yields an AdmissionReview with the reason rather than a bare 500.
        const reason = `internal error: ${errorText(error)}`;
        return { ...unableToJudge(request.uid, failurePolicy, 500, reason), result: 'errored', log: { reason }, injected: [] };
      }
    },
    answer: (outcome) => JSON.stringify(reviewResponse(outcome.response)),
    answerUnusable: (reading) => JSON.stringify(reviewResponse(unableToJudge(reading.uid, failurePolicy, 400, reading.reason).response, reading.apiVersion)),
    record(answered) {
      try {
        recordAnswer(answered);
      } catch (error) {
        // Bookkeeping must not take the other answers' lines with it.
        logger.error('could not record an admission decision', { endpoint, uid: answered.request.uid, reason: errorText(error) });
      }
    },
    recordUnread(reading, seconds) {
      metrics.observeAdmission(endpoint, '', 'invalid', seconds);
      if (reading.kind === 'rejected') logger.warn('admission request refused', { endpoint, reason: reading.reason });
      else logger.warn('admission request could not be judged', { endpoint, uid: reading.uid, reason: reading.reason });
    },
  };
}
