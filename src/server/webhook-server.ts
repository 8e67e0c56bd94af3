// The HTTPS listener around the Express app: TLS settings, timeouts against slow or idle
// clients, live certificate replacement, and a graceful shutdown that loses no admission.
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { RequestListener, ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '../foundation/clock.js';
import type { RequestClasses } from './express-request-classes.js';
import type { Logger } from '../foundation/logger.js';
import type { TlsPair } from './tls-pair.js';

export interface ServerTimeouts {
  /** Time to receive a request's headers (slowloris). */
  readonly headersTimeoutMs: number;
  /** Time to receive a whole request. The API server waits at most 30 s for a webhook anyway. */
  readonly requestTimeoutMs: number;
  /**
   * How long an idle keep-alive connection stays open. Longer than Go's 90 s idle timeout, which
   * the API server's webhook client uses, so the server never closes a connection the API server
   * is about to reuse (that POST would fail rather than be retried).
   */
  readonly keepAliveTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  /** How often Node checks connections against the header/request timeouts (its default is 30 s). */
  readonly connectionsCheckingIntervalMs: number;
}

export const DEFAULT_TIMEOUTS: ServerTimeouts = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 95_000,
  handshakeTimeoutMs: 10_000,
  connectionsCheckingIntervalMs: 1_000,
};

export interface ShutdownOptions {
  /**
   * Keep serving (not ready, connections closed after each answer) this long before closing the
   * listener, so endpoints and kube-proxy stop routing here before connections are refused.
   */
  readonly delayMs: number;
  /** Longest wait for in-flight requests after the listener closes; then sockets are destroyed. */
  readonly drainTimeoutMs: number;
}

export interface WebhookServerOptions {
  readonly app: RequestListener;
  readonly tls: TlsPair;
  readonly host: string;
  readonly port: number;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly timeouts?: Partial<ServerTimeouts>;
  /** Classes for Node to build req/res with (requestClassesFor(app) for an Express app). */
  readonly requestClasses?: RequestClasses;
}

export interface RunningWebhookServer {
  readonly port: number;
  readonly host: string;
  /** False once shutdown has begun (feeds /readyz). */
  isShuttingDown(): boolean;
  /** Serve new connections with this pair; existing connections keep theirs. */
  replaceTls(pair: TlsPair): void;
  /** Readiness goes false, in-flight requests finish, the listener closes. Idempotent. */
  shutdown(options: ShutdownOptions): Promise<void>;
}

/**
 * TLS 1.3 (all its suites are AEAD) and, for TLS 1.2, only ECDHE key exchange with AEAD ciphers:
 * what Kubernetes components offer by default. Node's default list also has CBC, CCM8 and ARIA
 * suites for TLS 1.2.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

const TLS_SETTINGS = { minVersion: 'TLSv1.2', ciphers: TLS_CIPHERS, honorCipherOrder: true } as const;

const ANSWERS_IN_FLIGHT = Symbol('secure-defaults.answersInFlight');
type TrackedSocket = Socket & { [ANSWERS_IN_FLIGHT]?: ServerResponse[] };

export async function startWebhookServer(options: WebhookServerOptions): Promise<RunningWebhookServer> {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const { logger, clock } = options;
  let shuttingDown = false;
  let draining = false;
  // While draining, every answer closes its connection, so keep-alive clients reconnect to
  // another replica instead of sending the next request to one that is going away.
  const closeAfterAnswer = (res: ServerResponse): void => {
    if (res.headersSent) return;
    res.shouldKeepAlive = false;
    res.setHeader('Connection', 'close');
  };
  // Every open connection, and the answers in flight on each. Node counts a connection that has
  // not sent a request yet as active (its headers timeout runs), so closeIdleConnections() leaves
  // it, and server.close() stops the timer that would expire it: without closing such connections
  // ourselves, shutdown waits out the whole drain timeout. The API server's Go client leaves them
  // routinely (it dials a spare connection when all are busy and pools it unused).
  // The answers live in an array on the socket itself, not in a Set or Map keyed per request:
  // per-request Set/Map entries outlive a scavenge and fill the old generation (bench/README.md,
  // "The last mark-compacts").
  const openSockets = new Set<TrackedSocket>();
  const listener: RequestListener = (req, res) => {
    if (draining) closeAfterAnswer(res);
    const socket = req.socket as TrackedSocket;
    const answers = (socket[ANSWERS_IN_FLIGHT] ??= []);
    answers.push(res);
    res.once('close', () => {
      const index = answers.indexOf(res);
      if (index !== -1) answers.splice(index, 1);
    });
    options.app(req, res);
  };
  const server: Server = createServer(
    {
      ...TLS_SETTINGS,
      cert: options.tls.certPem,
      key: options.tls.keyPem,
      handshakeTimeout: timeouts.handshakeTimeoutMs,
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
      connectionsCheckingInterval: timeouts.connectionsCheckingIntervalMs,
      ...options.requestClasses,
    },
    listener,
  );
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  server.on('secureConnection', (socket: TrackedSocket) => {
    openSockets.add(socket);
    socket.once('close', () => openSockets.delete(socket));
  });
  server.on('tlsClientError', (error: Error, socket: Socket) => {
    logger.debug('TLS handshake failed', { remoteAddress: socket.remoteAddress, error: error.message });
  });
  server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
    logger.debug('malformed HTTP request', { remoteAddress: socket.remoteAddress, error: error.message, code: error.code });
    // A socket whose TLS handshake never finished (no ClientHello, or a partial one) cannot carry
    // an HTTP answer: a 408 written to it is never flushed and the socket would stay open for good.
    if (socket.writable && openSockets.has(socket as TrackedSocket)) {
      const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${error.message}\n`);
    } else {
      socket.destroy();
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => logger.error('HTTPS server error', { error: error.message }));
  const address = server.address() as AddressInfo;
  logger.info('webhook server listening', { host: address.address, port: address.port });

  let shutdownPromise: Promise<void> | null = null;
  const shutdown = async ({ delayMs, drainTimeoutMs }: ShutdownOptions): Promise<void> => {
    shuttingDown = true;
    draining = true;
    for (const socket of openSockets) for (const res of socket[ANSWERS_IN_FLIGHT] ?? []) closeAfterAnswer(res);
    logger.info('shutting down: readiness is false, finishing in-flight requests', { delayMs, drainTimeoutMs });
    if (delayMs > 0) await new Promise<void>((resolve) => clock.setTimeout(resolve, delayMs));
    await new Promise<void>((resolve) => {
      let finished = false;
      const deadline = clock.setTimeout(() => {
        if (finished) return;
        logger.warn('drain timeout reached; closing the remaining connections', { drainTimeoutMs });
        server.closeAllConnections();
      }, drainTimeoutMs);
      let sweep: TimerHandle | null = null;
      server.close(() => {
        finished = true;
        clock.clearTimeout(deadline);
        if (sweep) clock.clearTimeout(sweep);
        resolve();
      });
      // Connections with nothing in flight (idle, or never used) will not carry another request;
      // in-flight ones close after their answer (Connection: close above). One still in its TLS
      // handshake is only known once that completes, so look again until the server has closed.
      const closeUnused = (): void => {
        server.closeIdleConnections();
        for (const socket of openSockets) if ((socket[ANSWERS_IN_FLIGHT]?.length ?? 0) === 0) socket.destroy();
      };
      const sweepAgain = (): void => {
        sweep = clock.setTimeout(() => {
          if (finished) return;
          closeUnused();
          sweepAgain();
        }, 250);
      };
      closeUnused();
      sweepAgain();
    });
    logger.info('webhook server stopped');
  };

  return {
    port: address.port,
    host: address.address,
    isShuttingDown: () => shuttingDown,
    replaceTls(pair) {
      server.setSecureContext({ ...TLS_SETTINGS, cert: pair.certPem, key: pair.keyPem });
    },
    shutdown(opts) {
      shutdownPromise ??= shutdown(opts);
      return shutdownPromise;
    },
  };
}
