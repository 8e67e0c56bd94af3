// One rung of the ablation ladder (`bench/ablation-ladder.ts`): the Express ceiling plus our
// webhook's pieces up to `--step N`, so the CPU each piece adds per request can be measured
// between rungs loaded seconds apart. Rungs 0-7 build the answer here from our real modules;
// from rung 8 on the real server, app and serve command take over, one layer per rung.
//
// Bench-only: nothing in the product reads this file.
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import express from 'express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { decideAdmission, parsePolicy } from '../../src/engine/index.js';
import { reviewResponse } from '../../src/admission/admission-responses.js';
import { readAdmissionReview } from '../../src/admission/admission-review.js';
import { systemClock } from '../../src/foundation/clock.js';
import { findHostileJsonShape } from '../../src/admission/json-shape.js';
import { admitPod } from '../../src/admission/pod-admission.js';
import { podLogName } from '../../src/admission/pod-log-names.js';
import { everyNamespaceOptedIn, noAllocatedBlocks, staticPolicySource } from '../../src/ports/standalone-ports.js';
import { createJsonLineLogger } from '../../src/foundation/json-line-logger.js';
import { readRequestBody } from '../../src/server/request-body.js';
import { createWebhookMetrics } from '../../src/metrics/webhook-metrics.js';
import { startWebhookServer } from '../../src/server/webhook-server.js';
import { startWebhook } from '../../src/server/webhook.js';
import { createJsonLogger, startServe } from '../../src/cli/commands/serve.js';
import { LADDER_STEPS } from '../ablation-steps.js';
import { fixedAdmissionReply, readBody } from './fixed-admission-reply.js';


const BODY_LIMIT = 8 * 1024 * 1024;

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { step: { type: 'string' }, port: { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, policy: { type: 'string' } },
});
const step = Number(values.step);
const port = Number(values.port);
if (!Number.isInteger(step) || step < 0 || step >= LADDER_STEPS.length) throw new Error(`--step: "${values.step ?? ''}" must be 0 to ${LADDER_STEPS.length - 1}`);
if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port: "${values.port ?? ''}" is not a TCP port`);
const certPath = values['tls-cert'];
const keyPath = values['tls-key'];
const policyPath = values.policy;
if (certPath === undefined || keyPath === undefined || policyPath === undefined) throw new Error('--tls-cert, --tls-key and --policy are required');

const parsed = parsePolicy(readFileSync(policyPath, 'utf8'));
if (!parsed.ok) throw new Error(`--policy ${policyPath}: ${parsed.errors.map((e) => e.message).join('; ')}`);
const deps = {
  policySource: staticPolicySource(parsed.policy),
  namespaces: everyNamespaceOptedIn(),
  allocatedBlocks: noAllocatedBlocks,
  decideAdmission,
  failurePolicy: 'open' as const,
};
const clock = systemClock;
const registry = new Registry();
const metrics = createWebhookMetrics(registry);
// LADDER_LOG_SINK=discard formats every line but writes nothing: splits the log's cost into
// formatting and the write(2) of stdout.
const logger =
  process.env.LADDER_LOG_SINK === 'discard' ? createJsonLineLogger({ level: 'info', write: () => undefined, now: Date.now }) : createJsonLogger('info');

function fail(res: ServerResponse, message: string): void {
  res.writeHead(400, { 'content-type': 'text/plain' }).end(`${message}\n`);
}

function send(res: ServerResponse, reply: string): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) }).end(reply);
}

const fixedReplyFor = (uid: string): string =>
  `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":${JSON.stringify(uid)},"allowed":true}}`;

async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = clock.monotonic();
  let body: Buffer;
  try {
    body = step >= 1 ? await readRequestBody(req, BODY_LIMIT) : await readBody(req);
  } catch (error) {
    fail(res, (error as Error).message);
    return;
  }
  if (step < 2) {
    let reply: string;
    try {
      reply = fixedAdmissionReply(body);
    } catch (error) {
      fail(res, (error as Error).message);
      return;
    }
    send(res, reply);
    return;
  }
  if (step === 2) {
    let review: { request?: { uid?: unknown } };
    try {
      review = JSON.parse(body.toString('utf8')) as typeof review;
    } catch (error) {
      fail(res, (error as Error).message);
      return;
    }
    const hostile = findHostileJsonShape(review.request);
    if (hostile !== null) return fail(res, hostile);
    send(res, fixedReplyFor(typeof review.request?.uid === 'string' ? review.request.uid : ''));
    return;
  }
  const reading = readAdmissionReview(body);
  if (reading.kind !== 'request') return fail(res, reading.reason);
  const request = reading.request;
  if (step === 3) return send(res, fixedReplyFor(request.uid));
  const outcome = await admitPod(request, deps);
  if (step === 4) return send(res, fixedReplyFor(request.uid));
  if (step >= 6) {
    metrics.observeAdmission('mutate', request.operation, outcome.result, (clock.monotonic() - started) / 1000);
    metrics.countInjected(outcome.injected);
  }
  if (step >= 7) {
    logger.info('admission decision', {
      endpoint: 'mutate',
      uid: request.uid,
      namespace: request.namespace,
      name: podLogName(request),
      operation: request.operation,
      resource: request.resource.resource,
      dryRun: request.dryRun,
      user: request.username,
      allowed: outcome.response.allowed,
      result: outcome.result,
      durationMs: Math.round((clock.monotonic() - started) * 1e3) / 1e3,
      ...outcome.log,
    });
  }
  send(res, JSON.stringify(reviewResponse(outcome.response)));
}

const shutdowns: Array<() => Promise<void>> = [];
if (step <= 8) {
  const app = express();
  app.disable('x-powered-by');
  if (step >= 1) {
    app.disable('etag');
    app.set('query parser', false);
  }
  app.post('/mutate', async (req, res) => {
    await answer(req, res);
  });
  const cert = readFileSync(certPath);
  const key = readFileSync(keyPath);
  if (step < 8) {
    const server = createServer({ cert, key }, app as RequestListener);
    server.listen(port, '127.0.0.1');
    shutdowns.push(
      () =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
  } else {
    const running = await startWebhookServer({ app: app as RequestListener, tls: { certPem: cert.toString('utf8'), keyPem: key.toString('utf8') }, host: '127.0.0.1', port, logger, clock });
    shutdowns.push(() => running.shutdown({ delayMs: 0, drainTimeoutMs: 1000 }));
  }
} else if (step === 9) {
  const running = await startWebhook({
    host: '127.0.0.1',
    port,
    tls: { kind: 'pair', pair: { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') } },
    policySource: deps.policySource,
    namespaces: deps.namespaces,
    allocatedBlocks: deps.allocatedBlocks,
    decideAdmission,
    parsePolicy,
    policyConfigMap: null,
    failurePolicy: 'open',
    logger,
    metrics,
    registry,
    clock,
  });
  shutdowns.push(() => running.shutdown({ delayMs: 0, drainTimeoutMs: 1000 }));
} else {
  if (step >= 11) await import('@kubernetes/client-node');
  const running = await startServe(
    { port, host: '127.0.0.1', tlsCert: certPath, tlsKey: keyPath, policy: policyPath, failClosed: false, shutdownDelay: 0, drainTimeout: 1 },
    logger,
  );
  shutdowns.push(() => running.stop());
}
process.on('SIGTERM', () => {
  void Promise.all(shutdowns.map((s) => s())).then(() => process.exit(0));
});
