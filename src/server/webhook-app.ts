// The Express application: the admission endpoints, probes and metrics. For each review it reads
// the body, holds the in-flight byte budget and groups the reviews of one event-loop turn, and hands
// each review to the admission pipeline's stages (src/admission/admission-pipeline.ts: read,
// decide, answer, record). It knows nothing of TLS or sockets (webhook-server.ts) nor of where the
// policy comes from (the ports).
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { AdmissionDecision, AdmissionInput } from '../engine/model.js';
import { createAdmissionPipeline, type AdmissionPipeline, type AnsweredReview, type ReviewDecider, type ReviewEndpoint } from '../admission/admission-pipeline.js';
import type { AdmissionRequest } from '../admission/admission-review.js';
import type { Clock } from '../foundation/clock.js';
import type { FailurePolicy } from '../admission/failure-policy.js';
import type { Logger } from '../foundation/logger.js';
import { admitPod } from '../admission/pod-admission.js';
import { reviewPolicyConfigMap } from '../admission/policy-config-map-review.js';
import type { AllocatedBlocks, ConfigMapRef, NamespaceDirectory, PolicySource, PolicyTextParser, ReadinessCheck, WebhookMetrics } from '../ports/admission-ports.js';
import { readRequestBody, RequestBodyError } from './request-body.js';
import { createReviewBudget, defaultBudgetBytes, type ReviewBudget } from './review-budget.js';
import { createTurnBatch, type Scheduler } from './turn-batch.js';

/**
 * Largest request body read. A Pod stored in etcd is at most 1.5 MiB (etcd's default
 * --max-request-bytes) and the API server refuses request bodies over 3 MiB, so one object in
 * JSON is under 3 MiB; an UPDATE review (ephemeral containers) carries object and oldObject, plus
 * the envelope. 2 × 3 MiB + 2 MiB of headroom.
 */
export const DEFAULT_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

/**
 * Body bytes of the reviews judged together in one event-loop turn. A turn of ordinary Pods (a few
 * to tens of KiB each) never reaches it; a burst of big ones is judged 1 MiB (some ten MB live) at a
 * time instead of all at once.
 */
export const MAX_TURN_BYTES = 1024 * 1024;

/**
 * How long after the previous review's body a lone review counts as alone: at saturation reviews
 * arrive tens of microseconds apart, at one API server client 10 ms or more.
 */
export const QUIET_BEFORE_LONE_REVIEW_MS = 1;

export interface WebhookAppDeps {
  readonly policySource: PolicySource;
  readonly namespaces: NamespaceDirectory;
  readonly allocatedBlocks: AllocatedBlocks;
  readonly decideAdmission: (input: AdmissionInput) => AdmissionDecision;
  /** Judges /validate-policy edits; in `serve`, in a worker thread (worker-policy-parser.ts). */
  readonly parsePolicy: PolicyTextParser;
  /** The policy ConfigMap judged by /validate-policy; null in standalone mode. */
  readonly policyConfigMap: ConfigMapRef | null;
  readonly failurePolicy: FailurePolicy;
  readonly logger: Logger;
  readonly metrics: WebhookMetrics;
  readonly registry: Registry;
  readonly clock: Clock;
  readonly readinessChecks: readonly ReadinessCheck[];
  readonly bodyLimitBytes?: number;
  /** Large reviews judged at once (review-budget.ts); default: from the heap limit. */
  readonly reviewBudget?: ReviewBudget;
  /** Told how many reviews (and body bytes) each batch judged in one turn held (turn-batch.ts): lets a test see batches form. */
  readonly onReviewBatch?: (endpoint: string, size: number, bytes: number) => void;
  /** Body bytes judged in one turn before the rest waits for the next (default MAX_TURN_BYTES). */
  readonly maxTurnBytes?: number;
  /** When the reviews received during a turn are judged (default setImmediate): lets a test hold a turn open. */
  readonly turnScheduler?: Scheduler;
}

function oneLine(res: Response, status: number, message: string): void {
  res.status(status).type('text/plain').send(`${message}\n`);
}

/** An AdmissionReview answer, already serialized, written with its length (no res.json/res.send passes). */
function sendJson(res: ServerResponse, text: string): void {
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The content-type test of req.is('application/json') without parsing the header for the value
 * every API server sends; anything else still goes through Express's full parser.
 */
function isJsonRequest(req: Request): boolean {
  const type = req.headers['content-type'];
  if (type === 'application/json') return true;
  return Boolean(req.is('application/json'));
}

export function createWebhookApp(deps: WebhookAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // Express would parse the query string of every request for req.query, which nothing here reads.
  app.set('query parser', false);
  const limit = deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const budget = deps.reviewBudget ?? createReviewBudget(defaultBudgetBytes(limit));
  const maxTurnBytes = deps.maxTurnBytes ?? MAX_TURN_BYTES;

  // A review whose body has been read, waiting for the end of the turn (see turn-batch.ts).
  interface ReceivedReview {
    readonly res: Response;
    readonly body: Buffer;
    readonly started: number;
    /** Aborts when the caller hangs up before the answer is sent (endpoints whose decision is long work). */
    readonly hungUp: AbortSignal | undefined;
  }
  const secondsSince = (started: number): number => (deps.clock.monotonic() - started) / 1000;
  // Reviews received and not yet answered, on every endpoint, and when the last body completed.
  // A review that is the only one in flight and comes after a quiet spell (one API server client,
  // or a few dozen creates a second) is judged at once instead of after a setImmediate hop, which
  // there is pure latency. Under load the next review may still be unread in the same poll phase,
  // where the one in flight cannot see it: reviews that follow each other closely keep the batch.
  let reviewsInFlight = 0;
  let lastBodyAt = Number.NEGATIVE_INFINITY;

  // `cancellable`: the decision gets a signal that aborts when the caller hangs up first. Only for
  // /validate-policy, whose parse can take seconds; a Pod's decision is too short to be worth an
  // AbortController per review.
  const reviewEndpoint = (endpoint: ReviewEndpoint, decide: ReviewDecider, cancellable = false) => {
    const pipeline: AdmissionPipeline = createAdmissionPipeline(endpoint, { decide, failurePolicy: deps.failurePolicy, logger: deps.logger, metrics: deps.metrics });
    // Metrics and log lines of the answers sent in one go, after the last of them: process.nextTick
    // runs once the decisions resolved in this microtask drain are all answered, and before the
    // event loop moves on, so a client never sees an answer whose line is not logged yet.
    const answered = createTurnBatch<AnsweredReview>((answers) => {
      for (const answer of answers) pipeline.record(answer);
    }, process.nextTick);

    const decideAndAnswer = async (review: ReceivedReview, request: AdmissionRequest): Promise<void> => {
      const outcome = await pipeline.decide(request, review.hungUp);
      const seconds = secondsSince(review.started);
      sendJson(review.res, pipeline.answer(outcome));
      answered.add({ request, outcome, seconds });
    };

    /** The request in `review`, or null once it has been answered as unreadable. */
    const readReview = ({ res, body, started }: ReceivedReview): AdmissionRequest | null => {
      const reading = pipeline.read(body);
      if (reading.kind === 'request') return reading.request;
      pipeline.recordUnread(reading, secondsSince(started));
      if (reading.kind === 'rejected') oneLine(res, 400, reading.reason);
      else sendJson(res, pipeline.answerUnusable(reading));
      return null;
    };

    // Stage by stage: every review of the turn is parsed before any is decided, so the parser and
    // then the engine run warm (turn-batch.ts); each answer leaves as soon as it is decided.
    type ReadableReview = { review: ReceivedReview; request: AdmissionRequest };
    const readReviews = (reviews: readonly ReceivedReview[]): ReadableReview[] => {
      const readable: ReadableReview[] = [];
      for (const review of reviews) {
        let request: AdmissionRequest | null;
        try {
          request = readReview(review);
        } catch (error) {
          // readAdmissionReview never throws by design; if it ever does, this request gets a
          // one-line reason and the rest of the batch is still answered.
          const reason = `internal error while reading the AdmissionReview: ${error instanceof Error ? error.message : String(error)}`;
          deps.logger.error('admission request could not be read', { endpoint, reason });
          if (!review.res.headersSent) oneLine(review.res, 500, reason);
          continue;
        }
        if (request !== null) readable.push({ review, request });
      }
      return readable;
    };
    const startDecision = ({ review, request }: ReadableReview): void => {
      decideAndAnswer(review, request).catch((error: unknown) => {
        deps.logger.error('could not send an admission answer', { endpoint, uid: request.uid, reason: error instanceof Error ? error.message : String(error) });
      });
    };
    // A batch is parsed whole before any of it is decided, so what it holds at once is about ten
    // times its bytes: 64 reviews of a 50-container Pod (170 KiB each) would be 110 MB, most of the
    // 128 MB heap, and every collection after that a full one. Past MAX_TURN_BYTES the rest waits
    // for the next turn, after the answers of this one have gone and their objects are garbage.
    const judgeTurn = (reviews: readonly ReceivedReview[], from = 0): void => {
      let end = from;
      let bytes = 0;
      while (end < reviews.length && (end === from || bytes + reviews[end]!.body.length <= maxTurnBytes)) bytes += reviews[end++]!.body.length;
      const now = from === 0 && end === reviews.length ? reviews : reviews.slice(from, end);
      deps.onReviewBatch?.(endpoint, now.length, bytes);
      for (const readable of readReviews(now)) startDecision(readable);
      if (end < reviews.length) setImmediate(() => judgeTurn(reviews, end));
    };
    const received = createTurnBatch<ReceivedReview>((reviews) => judgeTurn(reviews), deps.turnScheduler);
    // Large reviews are never batched: each is parsed in one event-loop turn and decided in the
    // next, one review at a time, so probes and ordinary Pods are served in between.
    const largeReviews: ReceivedReview[] = [];
    let judgingLarge = false;
    const judgeNextLarge = (): void => {
      const next = largeReviews.shift();
      if (next === undefined) {
        judgingLarge = false;
        return;
      }
      const [readable] = readReviews([next]);
      if (readable === undefined) {
        setImmediate(judgeNextLarge);
        return;
      }
      setImmediate(() => {
        startDecision(readable);
        setImmediate(judgeNextLarge);
      });
    };

    const refuseBusy = (req: Request, res: Response, bytes: number, started: number): void => {
      const reason = `secure-defaults is busy: ${budget.inFlight()} bytes of large reviews are being judged (limit ${budget.limitBytes}); this review of ${bytes} bytes is refused rather than risk running out of memory; retry it`;
      deps.metrics.observeAdmission(endpoint, '', 'errored', secondsSince(started));
      deps.logger.warn('request refused', { path: req.path, status: 429, reason });
      res.setHeader('Connection', 'close');
      res.setHeader('Retry-After', '1');
      oneLine(res, 429, reason);
    };

    return async (req: Request, res: Response): Promise<void> => {
      const started = deps.clock.monotonic();
      // Held from before the body is read until the answer is gone: reading, parsing, deciding and
      // the answer are what a large review costs.
      const declared = Number(req.headers['content-length']);
      let held = Number.isSafeInteger(declared) && declared >= 0 && declared <= limit ? declared : 0;
      if (!budget.tryReserve(held)) {
        refuseBusy(req, res, held, started);
        return;
      }
      reviewsInFlight += 1;
      const hangUp = cancellable ? new AbortController() : undefined;
      res.once('close', () => {
        reviewsInFlight -= 1;
        budget.release(held);
        if (hangUp !== undefined && !res.writableFinished) hangUp.abort();
      });
      // Every review has the field, set or not, so the objects keep one shape on the /mutate path.
      const hungUp = hangUp?.signal;
      // The body is read whatever its declared type, so a too-large body is refused as such.
      let body: Buffer;
      try {
        body = await readRequestBody(req, limit);
      } catch (error) {
        const status = error instanceof RequestBodyError ? error.status : 400;
        const reason = error instanceof Error ? error.message : String(error);
        deps.metrics.observeAdmission(endpoint, '', 'invalid', secondsSince(started));
        deps.logger.warn('request refused', { path: req.path, status, reason });
        // The rest of the body is unread: the connection cannot carry another request.
        res.setHeader('Connection', 'close');
        oneLine(res, status, reason);
        return;
      }
      // A body without Content-Length (chunked, or compressed) is counted once it is read.
      if (body.length > held) {
        budget.release(held);
        held = 0;
        if (!budget.tryReserve(body.length)) {
          refuseBusy(req, res, body.length, started);
          return;
        }
        held = body.length;
      }
      if (!isJsonRequest(req)) {
        deps.metrics.observeAdmission(endpoint, '', 'invalid', secondsSince(started));
        deps.logger.warn('admission request refused', { endpoint, reason: `wrong content type ${req.get('content-type') ?? '(none)'}` });
        oneLine(res, 400, `Content-Type must be application/json, got ${JSON.stringify(req.get('content-type') ?? '')}`);
        return;
      }
      if (body.length < budget.largeBytes) {
        const now = deps.clock.monotonic();
        const quiet = now - lastBodyAt >= QUIET_BEFORE_LONE_REVIEW_MS;
        lastBodyAt = now;
        if (reviewsInFlight === 1 && quiet) judgeTurn([{ res, body, started, hungUp }]);
        else received.add({ res, body, started, hungUp });
      } else {
        largeReviews.push({ res, body, started, hungUp });
        if (!judgingLarge) {
          judgingLarge = true;
          setImmediate(judgeNextLarge);
        }
      }
    };
  };

  app.post(
    '/mutate',
    reviewEndpoint('mutate', (request) => admitPod(request, deps)),
  );
  app.post(
    '/validate-policy',
    reviewEndpoint(
      'validate-policy',
      (request, signal) => reviewPolicyConfigMap(request, { configMap: deps.policyConfigMap, parsePolicy: deps.parsePolicy, failurePolicy: deps.failurePolicy }, signal),
      true,
    ),
  );
  app.get('/healthz', (_req, res) => oneLine(res, 200, 'ok'));
  const notReadyReasons = (): string[] => deps.readinessChecks.map((check) => check()).filter((r): r is string => r !== null);
  app.get('/readyz', (_req, res) => {
    const reasons = notReadyReasons();
    if (reasons.length === 0) oneLine(res, 200, 'ok');
    else oneLine(res, 503, `not ready: ${reasons.join('; ')}`);
  });
  app.get('/metrics', async (_req, res) => {
    deps.metrics.setPolicyGeneration(deps.policySource.current()?.generation ?? 0);
    deps.metrics.setReady(notReadyReasons().length === 0);
    res.status(200).type(deps.registry.contentType).send(await deps.registry.metrics());
  });
  app.all(['/mutate', '/validate-policy'], (req, res) => oneLine(res, 405, `${req.method} is not allowed; send POST with an AdmissionReview`));
  app.use((req, res) => oneLine(res, 404, `no such endpoint: ${req.method} ${req.path}`));
  // Anything that escapes a handler ends here with a one-line reason.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const err = error as { status?: number; message?: string };
    const status = typeof err.status === 'number' && err.status >= 400 && err.status < 600 ? err.status : 500;
    const message = err.message ?? 'request failed';
    const endpoint = req.path === '/mutate' ? 'mutate' : req.path === '/validate-policy' ? 'validate-policy' : 'other';
    deps.metrics.observeAdmission(endpoint, '', 'invalid', 0);
    deps.logger.warn('request refused', { path: req.path, status, reason: message });
    if (res.headersSent) return;
    oneLine(res, status, message);
  });
  return app;
}
