// The PolicySource of `serve --policy FILE`: the file as read at start, then every change to it,
// as the ConfigMap source does in a cluster. A change that does not read, parse or validate is
// refused as a whole: the last good policy stays in force, every error is logged with its path
// and counted. A deleted file also keeps the last good policy. The parse may answer later (a worker
// thread): admissions keep the last good policy meanwhile, and a newer text read during the parse
// replaces it, so an older parse is never applied after a newer one.
import { open } from 'node:fs/promises';
import type { PolicyError, PolicyParseResult } from '../engine/model.js';
import type { Clock } from '../foundation/clock.js';
import { FileChangeTrigger } from './file-change-trigger.js';
import type { Logger } from '../foundation/logger.js';
import { LatestOnly } from '../foundation/latest-only.js';
import type { PolicySnapshot, PolicySource, PolicyTextParser } from '../ports/admission-ports.js';
import { describePolicyError } from '../engine/policy-config-map.js';
import type { PolicyLoadMetrics } from '../ports/admission-ports.js';

/** A ConfigMap holds at most 1 MiB; a policy file bigger than that is a mistake, not a policy. */
export const MAX_POLICY_FILE_BYTES = 1024 * 1024;

export type PolicyFileRead = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly reason: string };

/** Reads at most MAX_POLICY_FILE_BYTES + 1 bytes, so a huge or endless file (/dev/zero) costs no more. */
export async function readPolicyFileText(path: string): Promise<PolicyFileRead> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    return { ok: false, reason: `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  try {
    const buffer = Buffer.alloc(MAX_POLICY_FILE_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > MAX_POLICY_FILE_BYTES) return { ok: false, reason: `it is larger than ${MAX_POLICY_FILE_BYTES} bytes (the most a ConfigMap can hold)` };
    return { ok: true, text: buffer.toString('utf8', 0, length) };
  } catch (error) {
    return { ok: false, reason: `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  } finally {
    await handle.close();
  }
}

export interface PolicyFileSourceOptions {
  readonly path: string;
  /** The text the server started with, already parsed and accepted (generation 1). */
  readonly initialText: string;
  readonly initial: PolicyParseResult & { readonly ok: true };
  readonly parsePolicy: PolicyTextParser;
  readonly logger: Logger;
  readonly metrics: PolicyLoadMetrics;
  readonly clock: Clock;
  /** Told of every accepted policy after the first (serve warns about spec.allocation again). */
  readonly onAccepted?: (accepted: PolicyParseResult & { readonly ok: true }) => void;
  readonly pollIntervalMs?: number;
  readonly debounceMs?: number;
}

export class PolicyFileSource implements PolicySource {
  private readonly options: PolicyFileSourceOptions;
  private readonly trigger: FileChangeTrigger;
  private snapshot: PolicySnapshot;
  private acceptedText: string;
  /** What was last refused (text or read failure), so a poll does not log the same refusal again. */
  private lastRefused: string | null = null;
  /** The text being parsed, so a poll that reads it again does not start over. */
  private parsingText: string | null = null;
  private readonly parsing = new LatestOnly();

  constructor(options: PolicyFileSourceOptions) {
    this.options = options;
    this.snapshot = { policy: options.initial.policy, generation: 1 };
    this.acceptedText = options.initialText;
    options.metrics.setPolicyGeneration(1);
    this.trigger = new FileChangeTrigger({
      paths: [options.path],
      check: () => this.reload(),
      logger: options.logger,
      clock: options.clock,
      pollIntervalMs: options.pollIntervalMs,
      debounceMs: options.debounceMs,
    });
  }

  current(): PolicySnapshot {
    return this.snapshot;
  }

  start(): void {
    this.trigger.start();
  }

  stop(): void {
    this.trigger.stop();
    this.parsing.cancel();
  }

  /** Reads the file now and applies it if it changed and is valid; resolves when done (parsed too). */
  async checkNow(): Promise<void> {
    await this.trigger.checkNow();
    await this.parsing.settled();
  }

  private keeping(): string {
    return `keeping policy "${this.snapshot.policy.name}" (generation ${this.snapshot.generation})`;
  }

  private async reload(): Promise<void> {
    const { path, logger } = this.options;
    const read = await readPolicyFileText(path);
    if (!read.ok) {
      const key = `read:${read.reason}`;
      if (this.lastRefused === key) return;
      this.lastRefused = key;
      // Not counted as a refused edit: a file being replaced is briefly missing.
      logger.warn(`policy file ${path}: ${read.reason}; ${this.keeping()}`, { policyFile: path });
      return;
    }
    if (read.text === this.parsingText && this.parsing.isRunning()) return;
    // Whatever was being parsed is older than what the file holds now: it must not be applied.
    this.parsing.cancel();
    this.parsingText = null;
    if (read.text === this.acceptedText) {
      this.lastRefused = null;
      return;
    }
    if (read.text === this.lastRefused) return;
    const text = read.text;
    this.parsingText = text;
    // Not awaited: the trigger stays free to read a newer text, which then replaces this parse.
    this.parsing.run(
      (signal) => this.options.parsePolicy(text, signal),
      (parsed) => this.settle(text, parsed),
      (error) => this.settle(text, { ok: false, errors: [{ path: '(document)', message: `the policy parser failed: ${(error as Error).message}` }] }),
    );
  }

  private settle(text: string, parsed: PolicyParseResult): void {
    const { path, logger } = this.options;
    this.parsingText = null;
    if (!parsed.ok) {
      this.lastRefused = text;
      this.refuse(parsed.errors);
      return;
    }
    const generation = this.snapshot.generation + 1;
    this.snapshot = { policy: parsed.policy, generation };
    this.acceptedText = text;
    this.lastRefused = null;
    this.options.metrics.setPolicyGeneration(generation);
    logger.info('policy loaded', { policyFile: path, policy: parsed.policy.name, mode: parsed.policy.mode, generation, warnings: parsed.warnings });
    this.options.onAccepted?.(parsed);
  }

  private refuse(errors: readonly PolicyError[]): void {
    const { path, logger } = this.options;
    this.options.metrics.countPolicyReloadError();
    for (const error of errors) logger.error(`policy error: ${describePolicyError(error)}`, { policyFile: path, path: error.path });
    logger.error(`policy change refused (${errors.length} error${errors.length === 1 ? '' : 's'}); ${this.keeping()}`, { policyFile: path });
  }
}
