// Closed-loop load of Pod CREATEs against kube-apiserver: `concurrency` workers, each sending the
// next POST when its previous answer has been read in full, over keep-alive HTTPS connections
// (one per worker, like a controller's client). Every request's latency is kept in microseconds
// (autocannon's histogram has whole milliseconds, too coarse for a 2 ms create).
// Bounded in both count and time, and only ever aimed at 127.0.0.1.
import { Agent, request } from 'node:https';
import type { Socket } from 'node:net';

export interface ClientCredentials {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CreateLoad {
  /** e.g. https://127.0.0.1:6443/api/v1/namespaces/bench-none/pods */
  readonly url: URL;
  /** The Pod, serialized once: generateName makes every create a new object. */
  readonly body: Buffer;
  readonly credentials: ClientCredentials;
  readonly concurrency: number;
  /** Stop issuing after this many requests in total... */
  readonly maxRequests: number;
  /** ...or after this long, whichever comes first; in-flight requests still finish. */
  readonly maxDurationMs: number;
  /** One request may take at most this long before it counts as failed. */
  readonly requestTimeoutMs: number;
}

export interface CreateLoadResult {
  /** Latency of each 201 Created answer, µs, in completion order. */
  readonly latenciesUs: readonly number[];
  readonly created: number;
  readonly failed: number;
  /** The first failure's status and body (or error), to tell a refusal from a timeout. */
  readonly firstFailure: string | undefined;
  /** From the first request sent to the last answer read. */
  readonly elapsedMs: number;
  /** TLS connections the client opened: equal to `concurrency` when keep-alive held. */
  readonly connectionsOpened: number;
}

/** Refuses anything but 127.0.0.1: a benchmark must never load someone's real cluster. */
export function checkLoopbackTarget(url: URL): void {
  if (url.protocol !== 'https:' || url.hostname !== '127.0.0.1') {
    throw new Error(`load target ${url.href}: only https://127.0.0.1 is allowed (the benchmark's own API server)`);
  }
}

export async function runCreateLoad(load: CreateLoad): Promise<CreateLoadResult> {
  checkLoopbackTarget(load.url);
  if (!Number.isInteger(load.concurrency) || load.concurrency < 1) throw new Error(`concurrency ${load.concurrency}: must be a whole number ≥ 1`);
  const agent = new Agent({
    keepAlive: true,
    maxSockets: load.concurrency,
    ca: load.credentials.caPem,
    cert: load.credentials.certPem,
    key: load.credentials.keyPem,
  });
  const sockets = new WeakSet<Socket>();
  let connectionsOpened = 0;
  const latenciesUs: number[] = [];
  let failed = 0;
  let firstFailure: string | undefined;
  let issued = 0;
  const started = performance.now();
  const deadline = started + load.maxDurationMs;

  const createOnce = (): Promise<{ ok: boolean; detail: string }> =>
    new Promise((resolve) => {
      const req = request(
        load.url,
        {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': load.body.length },
          timeout: load.requestTimeoutMs,
        },
        (res) => {
          const ok = res.statusCode === 201;
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => {
            if (!ok && chunks.length < 4) chunks.push(chunk);
          });
          res.on('end', () => resolve({ ok, detail: ok ? '' : `HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 600)}` }));
          res.on('error', (error) => resolve({ ok: false, detail: `response error: ${error.message}` }));
        },
      );
      req.on('socket', (socket: Socket) => {
        if (!sockets.has(socket)) {
          sockets.add(socket);
          connectionsOpened += 1;
        }
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${load.requestTimeoutMs} ms`)));
      req.on('error', (error) => resolve({ ok: false, detail: `request error: ${error.message}` }));
      req.end(load.body);
    });

  const worker = async (): Promise<void> => {
    while (issued < load.maxRequests && performance.now() < deadline) {
      issued += 1;
      const sent = performance.now();
      const outcome = await createOnce();
      if (outcome.ok) {
        latenciesUs.push((performance.now() - sent) * 1000);
      } else {
        failed += 1;
        firstFailure ??= outcome.detail;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: load.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return { latenciesUs, created: latenciesUs.length, failed, firstFailure, elapsedMs: performance.now() - started, connectionsOpened };
}
