// Calls back when files may have changed: a watch on their directories (editors and kubelet replace
// files by rename, and a ConfigMap volume swaps a "..data" symlink, which a watch on the file
// itself misses), debounced because writers touch a file several times per save, plus a periodic
// poll because fs.watch is best-effort (NFS, overlay filesystems, a directory that is replaced).
// The callback decides whether anything really changed.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Clock, TimerHandle } from '../foundation/clock.js';
import type { Logger } from '../foundation/logger.js';

export interface FileChangeTriggerOptions {
  /** The files to follow; their directories are watched. */
  readonly paths: readonly string[];
  /** Called after a change settles and on every poll; runs are never concurrent. */
  readonly check: () => Promise<void>;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly pollIntervalMs?: number;
  readonly debounceMs?: number;
}

/**
 * Whether a change the directory watch reports, to the entry `filename` of a directory holding the
 * files named `followed`, can concern one of them: the file itself (written in place or renamed
 * over), kubelet's AtomicWriter entries ("..data", "..data_tmp", "..<timestamp>") that Secret and
 * ConfigMap volumes swap, or an entry the platform did not name. Anything else in the directory
 * (a log file written beside the certificates, an editor's swap file) is not a reason to re-read.
 */
export function concernsFollowedFiles(filename: string | null, followed: ReadonlySet<string>): boolean {
  return filename === null || filename.startsWith('..') || followed.has(filename);
}

export class FileChangeTrigger {
  private readonly options: FileChangeTriggerOptions;
  private watchers: FSWatcher[] = [];
  private pollTimer: TimerHandle | null = null;
  private debounceTimer: TimerHandle | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(options: FileChangeTriggerOptions) {
    this.options = options;
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

  /** Runs the check now (or once more after the one running, so the last write always wins). */
  async checkNow(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.options.check().finally(() => {
      this.running = null;
    });
    await this.running;
    if (this.again && !this.stopped) {
      this.again = false;
      await this.checkNow();
    }
  }

  private watchDirectories(): void {
    const followedIn = new Map<string, Set<string>>();
    for (const path of this.options.paths) {
      const names = followedIn.get(dirname(path)) ?? new Set<string>();
      names.add(basename(path));
      followedIn.set(dirname(path), names);
    }
    for (const [directory, followed] of followedIn) {
      try {
        const watcher = watch(directory, { persistent: false }, (_event, filename) => {
          if (concernsFollowedFiles(filename, followed)) this.scheduleCheck();
        });
        watcher.on('error', (error) => {
          this.options.logger.warn('watching a directory failed; relying on the periodic check', { directory, error: error.message });
          watcher.close();
          this.watchers = this.watchers.filter((w) => w !== watcher);
        });
        this.watchers.push(watcher);
      } catch (error) {
        this.options.logger.warn('cannot watch a directory; relying on the periodic check', { directory, error: (error as Error).message });
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
