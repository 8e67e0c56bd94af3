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
  const client = createClient(load.credentials, load.concurrency, load.requestTimeoutMs);
  const tally = newTally();
  let issued = 0;
  const started = performance.now();
  const deadline = started + load.maxDurationMs;

  const worker = async (): Promise<void> => {
    while (issued < load.maxRequests && performance.now() < deadline) {
      issued += 1;
      await timedCreate(client, load.url, load.body, tally);
    }
  };
  try {
    await Promise.all(Array.from({ length: load.concurrency }, worker));
  } finally {
    client.agent.destroy();
  }
  return resultOf(tally, performance.now() - started, client.connectionsOpened());
}

export interface InterleavedCreateLoad {
  /** One namespace's pods URL per setup; each round of the loop creates one Pod in each. */
  readonly urls: readonly URL[];
  readonly body: Buffer;
  readonly credentials: ClientCredentials;
  /** Stop after this many creates per URL... */
  readonly maxRequestsPerUrl: number;
  /** ...or after this long in all, whichever comes first. */
  readonly maxDurationMs: number;
  readonly requestTimeoutMs: number;
}

/**
 * One client, one request at a time, the URLs taken in turn (the order reversed every other
 * pass, so no URL always follows the same one): load on the machine that comes and goes over
 * seconds then hits every setup alike, which runs of several seconds each cannot promise. Each
 * URL's elapsedMs is the sum of its own requests' durations, so its creates/s is the rate one
 * closed-loop client would reach against that setup alone.
 */
export async function runInterleavedCreates(load: InterleavedCreateLoad): Promise<CreateLoadResult[]> {
  for (const url of load.urls) checkLoopbackTarget(url);
  if (load.urls.length === 0) return [];
  const client = createClient(load.credentials, 1, load.requestTimeoutMs);
  const tallies = load.urls.map(() => newTally());
  const busyMs = load.urls.map(() => 0);
  const deadline = performance.now() + load.maxDurationMs;
  try {
    for (let pass = 0; pass < load.maxRequestsPerUrl && performance.now() < deadline; pass += 1) {
      const order = load.urls.map((_, index) => index);
      if (pass % 2 === 1) order.reverse();
      for (const index of order) busyMs[index]! += await timedCreate(client, load.urls[index]!, load.body, tallies[index]!);
    }
  } finally {
    client.agent.destroy();
  }
  return tallies.map((tally, index) => resultOf(tally, busyMs[index]!, client.connectionsOpened()));
}

interface Client {
  readonly agent: Agent;
  readonly requestTimeoutMs: number;
  connectionsOpened(): number;
  noteSocket(socket: Socket): void;
}

function createClient(credentials: ClientCredentials, maxSockets: number, requestTimeoutMs: number): Client {
  const agent = new Agent({ keepAlive: true, maxSockets, ca: credentials.caPem, cert: credentials.certPem, key: credentials.keyPem });
  const sockets = new WeakSet<Socket>();
  let opened = 0;
  return {
    agent,
    requestTimeoutMs,
    connectionsOpened: () => opened,
    noteSocket(socket) {
      if (sockets.has(socket)) return;
      sockets.add(socket);
      opened += 1;
    },
  };
}

interface Tally {
  readonly latenciesUs: number[];
  failed: number;
  firstFailure: string | undefined;
}

function newTally(): Tally {
  return { latenciesUs: [], failed: 0, firstFailure: undefined };
}

function resultOf(tally: Tally, elapsedMs: number, connectionsOpened: number): CreateLoadResult {
  return { latenciesUs: tally.latenciesUs, created: tally.latenciesUs.length, failed: tally.failed, firstFailure: tally.firstFailure, elapsedMs, connectionsOpened };
}

/** One create, counted in `tally`; returns how long it took, ms. */
async function timedCreate(client: Client, url: URL, body: Buffer, tally: Tally): Promise<number> {
  const sent = performance.now();
  const outcome = await createOnce(client, url, body);
  const tookMs = performance.now() - sent;
  if (outcome.ok) {
    tally.latenciesUs.push(tookMs * 1000);
  } else {
    tally.failed += 1;
    tally.firstFailure ??= outcome.detail;
  }
  return tookMs;
}

function createOnce(client: Client, url: URL, body: Buffer): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: client.agent,
        headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': body.length },
        timeout: client.requestTimeoutMs,
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
    req.on('socket', (socket: Socket) => client.noteSocket(socket));
    req.on('timeout', () => req.destroy(new Error(`no answer within ${client.requestTimeoutMs} ms`)));
    req.on('error', (error) => resolve({ ok: false, detail: `request error: ${error.message}` }));
    req.end(body);
  });
}
