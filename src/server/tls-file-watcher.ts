// Follows a certificate/key pair on disk and hands every new, valid pair to the server.
// cert-manager and kubelet replace Secret volume files by swapping a "..data" symlink in the
// directory, which a watch on the files themselves misses; so the directories are watched and,
// because fs.watch is best-effort (NFS, overlay quirks, a directory that is replaced), a periodic
// poll compares contents too (file-change-trigger.ts, shared with `serve --policy FILE`). A pair
// that does not check out is never applied: the previous one stays, the failure is logged loudly
// and counted, and the next change or poll tries again.
import { createHash } from 'node:crypto';
import type { Clock } from '../foundation/clock.js';
import { FileChangeTrigger } from './file-change-trigger.js';
import type { Logger } from '../foundation/logger.js';
import { checkTlsPair, readTlsPair, type TlsPair, type TlsPairSummary } from './tls-pair.js';

export interface TlsFileWatcherOptions {
  readonly certPath: string;
  readonly keyPath: string;
  /** The pair the server was started with, so an unchanged file does not count as a change. */
  readonly initial: TlsPair;
  readonly onNewPair: (pair: TlsPair, summary: TlsPairSummary) => void;
  readonly onReloadError: (error: string) => void;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly pollIntervalMs?: number;
  /** Writers touch the files several times per rotation; wait for them to settle. */
  readonly debounceMs?: number;
}

function fingerprint(pair: TlsPair): string {
  return createHash('sha256').update(pair.certPem).update('\0').update(pair.keyPem).digest('hex');
}

export class TlsFileWatcher {
  private readonly options: TlsFileWatcherOptions;
  private readonly trigger: FileChangeTrigger;
  private currentFingerprint: string;
  private lastFailedFingerprint: string | null = null;

  constructor(options: TlsFileWatcherOptions) {
    this.options = options;
    this.currentFingerprint = fingerprint(options.initial);
    this.trigger = new FileChangeTrigger({
      paths: [options.certPath, options.keyPath],
      check: () => this.readAndApply(),
      logger: options.logger,
      clock: options.clock,
      pollIntervalMs: options.pollIntervalMs,
      debounceMs: options.debounceMs,
    });
  }

  start(): void {
    this.trigger.start();
  }

  stop(): void {
    this.trigger.stop();
  }

  /** Reads the files now and applies them if they changed and check out; resolves when done. */
  checkNow(): Promise<void> {
    return this.trigger.checkNow();
  }

  private async readAndApply(): Promise<void> {
    const { certPath, keyPath, logger } = this.options;
    let pair: TlsPair;
    try {
      pair = await readTlsPair(certPath, keyPath);
    } catch (error) {
      this.fail(`cannot read ${certPath} / ${keyPath}: ${(error as Error).message}`, `read:${(error as Error).message}`);
      return;
    }
    const print = fingerprint(pair);
    if (print === this.currentFingerprint) {
      this.lastFailedFingerprint = null;
      return;
    }
    const check = checkTlsPair(pair);
    if (!check.ok) {
      this.fail(`new TLS pair in ${certPath} / ${keyPath} refused: ${check.error}`, print);
      return;
    }
    this.currentFingerprint = print;
    this.lastFailedFingerprint = null;
    logger.info('TLS certificate reloaded', { certPath, ...check.summary });
    this.options.onNewPair(pair, check.summary);
  }

  private fail(message: string, failureKey: string): void {
    // A pair half-way through rotation fails on every poll until finished; say it once per content.
    if (this.lastFailedFingerprint === failureKey) return;
    this.lastFailedFingerprint = failureKey;
    this.options.logger.error(`${message}; still serving the previous certificate`, {
      certPath: this.options.certPath,
      keyPath: this.options.keyPath,
    });
    this.options.onReloadError(message);
  }
}
