// Puts the pieces together: TLS material (files that are watched, or a generated self-signed
// pair), the Express app, the HTTPS server, metrics and readiness. serve.ts, the tests and the
// load benchmark all start the webhook through here.
import { X509Certificate } from 'node:crypto';
import { requestClassesFor } from './express-request-classes.js';
import type { Logger } from '../foundation/logger.js';
import { generateSelfSignedCertificate } from './self-signed-certificate.js';
import { TlsFileWatcher } from './tls-file-watcher.js';
import { checkTlsPair, readTlsPair, type TlsPair } from './tls-pair.js';
import type { ReadinessCheck } from '../ports/admission-ports.js';
import { createWebhookApp, type WebhookAppDeps } from './webhook-app.js';
import { startWebhookServer, type ServerTimeouts, type ShutdownOptions } from './webhook-server.js';

export type TlsSource =
  | { readonly kind: 'files'; readonly certPath: string; readonly keyPath: string; readonly pollIntervalMs?: number; readonly debounceMs?: number }
  | { readonly kind: 'pair'; readonly pair: TlsPair }
  | { readonly kind: 'self-signed' };

/** What the Express app needs, plus where and how to listen. */
export interface WebhookConfig extends Omit<WebhookAppDeps, 'readinessChecks'> {
  readonly host: string;
  readonly port: number;
  readonly tls: TlsSource;
  /** Conditions besides "a policy is loaded" and "not shutting down", e.g. caches synced. */
  readonly readinessChecks?: readonly ReadinessCheck[];
  readonly timeouts?: Partial<ServerTimeouts>;
}

export interface RunningWebhook {
  readonly port: number;
  readonly host: string;
  /** The certificate the server started with (the CA to trust when it is self-signed). */
  readonly initialCertificatePem: string;
  isShuttingDown(): boolean;
  shutdown(options: ShutdownOptions): Promise<void>;
}

/** notAfter of a PEM certificate as Unix seconds, or null when it cannot be read. */
export function certificateExpirySeconds(certPem: string): number | null {
  try {
    const notAfter = Date.parse(new X509Certificate(certPem).validTo);
    return Number.isFinite(notAfter) ? Math.floor(notAfter / 1000) : null;
  } catch {
    return null;
  }
}

async function initialPair(tls: TlsSource, logger: Logger): Promise<TlsPair> {
  if (tls.kind === 'pair') return tls.pair;
  if (tls.kind === 'self-signed') {
    logger.warn('no --tls-cert/--tls-key given: serving a self-signed certificate for localhost/127.0.0.1 generated in memory; the API server will not trust it');
    return generateSelfSignedCertificate();
  }
  const pair = await readTlsPair(tls.certPath, tls.keyPath);
  const check = checkTlsPair(pair);
  if (!check.ok) throw new Error(`TLS pair ${tls.certPath} / ${tls.keyPath} is unusable: ${check.error}`);
  logger.info('TLS certificate loaded', { certPath: tls.certPath, ...check.summary });
  return pair;
}

export async function startWebhook(config: WebhookConfig): Promise<RunningWebhook> {
  const { logger, clock, metrics } = config;
  const pair = await initialPair(config.tls, logger);
  const recordExpiry = (certPem: string): void => {
    const expiry = certificateExpirySeconds(certPem);
    if (expiry !== null) metrics.setCertificateExpiry(expiry);
  };
  recordExpiry(pair.certPem);
  let isShuttingDown = (): boolean => false;
  const readinessChecks: ReadinessCheck[] = [
    () => (isShuttingDown() ? 'shutting down' : null),
    () => (config.policySource.current() === null ? 'no valid policy loaded yet' : null),
    ...(config.readinessChecks ?? []),
  ];
  const app = createWebhookApp({ ...config, readinessChecks });
  const server = await startWebhookServer({
    app,
    requestClasses: requestClassesFor(app),
    tls: pair,
    host: config.host,
    port: config.port,
    logger,
    clock,
    timeouts: config.timeouts,
  });
  isShuttingDown = server.isShuttingDown;

  let watcher: TlsFileWatcher | null = null;
  if (config.tls.kind === 'files') {
    watcher = new TlsFileWatcher({
      certPath: config.tls.certPath,
      keyPath: config.tls.keyPath,
      initial: pair,
      onNewPair: (next) => {
        server.replaceTls(next);
        recordExpiry(next.certPem);
      },
      onReloadError: () => metrics.countTlsReloadError(),
      logger,
      clock,
      pollIntervalMs: config.tls.pollIntervalMs,
      debounceMs: config.tls.debounceMs,
    });
    watcher.start();
  }
  return {
    port: server.port,
    host: server.host,
    initialCertificatePem: pair.certPem,
    isShuttingDown: server.isShuttingDown,
    async shutdown(options) {
      watcher?.stop();
      await server.shutdown(options);
    },
  };
}
