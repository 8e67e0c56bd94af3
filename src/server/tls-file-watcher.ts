// Follows a certificate/key pair on disk and hands every new, valid pair to the server.
// cert-manager and kubelet replace Secret volume files by swapping a "..data" symlink in the
// directory, which a watch on the files themselves misses; so the directories are watched and,
// because fs.watch is best-effort (NFS, overlay quirks, a directory that is replaced), a periodic
// poll compares contents too. A pair that does not check out is never applied: the previous one
// stays, the failure is logged loudly and counted, and the next change or poll tries again.
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock, TimerHandle } from './clock.js';
import type { Logger } from './logger.js';
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
  private currentFingerprint: string;
  private lastFailedFingerprint: string | null = null;
  private watchers: FSWatcher[] = [];
  private pollTimer: TimerHandle | null = null;
  private debounceTimer: TimerHandle | null = null;
  private checking: Promise<void> | null = null;
  private recheck = false;
  private stopped = false;

  constructor(options: TlsFileWatcherOptions) {
    this.options = options;
    this.currentFingerprint = fingerprint(options.initial);
  }

  start(): void {
    this.watchDirectories();
    this.schedulePoll();
  }

  stop(): void {
    this.stopped = true;
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
    if (this.pollTimer) this.options.clock.clearTimeout(this.pollTimer);
    if (this.debounceTimer) this.options.clock.clearTimeout(this.debounceTimer);
  }

  /** Reads the files now and applies them if they changed and check out; resolves when done. */
  async checkNow(): Promise<void> {
    if (this.checking) {
      // A change arrived while reading: look again afterwards, so the last write always wins.
      this.recheck = true;
      return this.checking;
    }
    this.checking = this.readAndApply().finally(() => {
      this.checking = null;
    });
    await this.checking;
    if (this.recheck && !this.stopped) {
      this.recheck = false;
      await this.checkNow();
    }
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

  private watchDirectories(): void {
    const directories = [...new Set([dirname(this.options.certPath), dirname(this.options.keyPath)])];
    for (const directory of directories) {
      try {
        const watcher = watch(directory, { persistent: false }, () => this.scheduleCheck());
        watcher.on('error', (error) => {
          this.options.logger.warn('watching the TLS directory failed; relying on the periodic check', { directory, error: error.message });
          watcher.close();
          this.watchers = this.watchers.filter((w) => w !== watcher);
        });
        this.watchers.push(watcher);
      } catch (error) {
        this.options.logger.warn('cannot watch the TLS directory; relying on the periodic check', { directory, error: (error as Error).message });
      }
    }
  }

  private scheduleCheck(): void {
    if (this.stopped) return;
    if (this.debounceTimer) this.options.clock.clearTimeout(this.debounceTimer);
    this.debounceTimer = this.options.clock.setTimeout(() => {
      this.debounceTimer = null;
      void this.checkNow();
    }, this.options.debounceMs ?? 250);
    this.debounceTimer.unref?.();
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    this.pollTimer = this.options.clock.setTimeout(() => {
      if (this.watchers.length === 0) this.watchDirectories();
      void this.checkNow().finally(() => this.schedulePoll());
    }, this.options.pollIntervalMs ?? 10_000);
    this.pollTimer.unref?.();
  }
}
