// Parses policy text in a worker thread: the YAML read and every check run there, and only the
// compile of the validated plain data (linear in rules and names, no YAML) runs on the event loop
// that answers admissions. One worker per text, at most `maxWorkers` at once (the rest queue), each
// under a heap limit and a deadline: a worker that crashes, hangs or runs out of memory becomes a
// refused policy with the reason, never a crashed webhook.
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { compileValidation, type PolicyValidation } from '../engine/compiled-policy.js';
import { DOCUMENT_PATH } from '../engine/policy-document.js';
import type { PolicyParseResult } from '../engine/model.js';

/** The worker shipped next to this module (dist/src/server/ in the package and the image). */
export const POLICY_WORKER_URL = new URL('./policy-parse-worker.js', import.meta.url);

/**
 * Generous for the largest policy (1 MiB parses in about half a second on an idle core, a few
 * seconds on a loaded one), short enough that a stuck parse does not leave an edit pending for long.
 */
export const DEFAULT_PARSE_TIMEOUT_MS = 30_000;

/**
 * The worker's heap: what the main heap of the image (--max-old-space-size=128) had room for when
 * policies were parsed there, so every policy that loaded before still loads (a 829 KiB list of
 * 120,000 names needs more than 96 MB). A text that needs more (733 KiB of 250,000 empty lists took
 * the whole process down with the heap) is now refused, and the heap is freed when the worker ends.
 */
export const DEFAULT_RESOURCE_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 8, stackSizeMb: 4 };

/** One parse at a time, so at most one such heap exists; the others wait their turn. */
export const DEFAULT_MAX_WORKERS = 1;

/**
 * /validate-policy reviews waiting beyond this are refused at once ("busy"), so a flood of edits
 * holds no memory. Reloads (one per source at most, a newer text replaces the older) never are, and
 * wait before every review, so no flood of reviews can hold back the policy in force.
 */
export const DEFAULT_MAX_QUEUED = 4;

export interface WorkerPolicyParserOptions {
  readonly workerUrl?: URL;
  readonly timeoutMs?: number;
  readonly resourceLimits?: ResourceLimits;
  readonly maxWorkers?: number;
  readonly maxQueued?: number;
}

export class PolicyParseCancelled extends Error {
  constructor() {
    super('policy parse cancelled: a newer policy text replaced it');
    this.name = 'PolicyParseCancelled';
  }
}

function refused(message: string): PolicyParseResult {
  return { ok: false, errors: [{ path: DOCUMENT_PATH, message }] };
}

export interface WorkerPolicyParser {
  /** For a policy source: waits for a worker, ahead of reviews. */
  readonly parse: (yamlText: string, signal?: AbortSignal) => Promise<PolicyParseResult>;
  /** For /validate-policy: refused at once when maxQueued parses already wait. */
  readonly parseUnlessBusy: (yamlText: string, signal?: AbortSignal) => Promise<PolicyParseResult>;
  /** Workers running and parses waiting for one (tests and shutdown). */
  busy(): { readonly running: number; readonly queued: number };
  /** Ends every worker; pending parses are refused. */
  close(): Promise<void>;
}

export function createWorkerPolicyParser(options: WorkerPolicyParserOptions = {}): WorkerPolicyParser {
  const workerUrl = options.workerUrl ?? POLICY_WORKER_URL;
  const timeoutMs = options.timeoutMs ?? DEFAULT_PARSE_TIMEOUT_MS;
  const resourceLimits = options.resourceLimits ?? DEFAULT_RESOURCE_LIMITS;
  const maxWorkers = Math.max(1, options.maxWorkers ?? DEFAULT_MAX_WORKERS);
  const maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
  const running = new Set<Worker>();
  /** Parses waiting for a worker: reloads first, then reviews. */
  const reloads: Array<() => void> = [];
  const reviews: Array<() => void> = [];
  /** Slots taken: a parse holds one from leaving the queue until its worker is gone. */
  let active = 0;
  let closed = false;

  const startNext = (): void => {
    while (active < maxWorkers && reloads.length + reviews.length > 0) {
      active++;
      (reloads.shift() ?? reviews.shift())!();
    }
  };

  const runWorker = (text: string, signal: AbortSignal | undefined): Promise<PolicyValidation> =>
    new Promise((resolve, reject) => {
      let settled = false;
      let worker: Worker;
      try {
        worker = new Worker(workerUrl, { workerData: text, resourceLimits });
      } catch (error) {
        active--;
        startNext();
        resolve({ ok: false, errors: [{ path: DOCUMENT_PATH, message: `the policy parser could not start (${(error as Error).message}); the policy was not loaded` }] });
        return;
      }
      running.add(worker);
      const finish = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        // terminate() of a worker that already exited resolves at once.
        void worker.terminate().finally(() => {
          running.delete(worker);
          active--;
          startNext();
        });
        outcome();
      };
      const onAbort = (): void => finish(() => reject(new PolicyParseCancelled()));
      const timer = setTimeout(() => {
        finish(() => resolve({ ok: false, errors: [{ path: DOCUMENT_PATH, message: `the policy parser did not finish within ${timeoutMs} ms and was stopped; a policy that takes this long to read is too large or too deeply nested: shorten it` }] }));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.once('message', (validation: PolicyValidation) => finish(() => resolve(validation)));
      worker.once('error', (error: Error & { code?: string }) => {
        const message =
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? `the policy parser ran out of memory (its heap is limited to ${resourceLimits.maxOldGenerationSizeMb ?? '?'} MB) and was stopped; a policy that needs this much is too large or repeats too much through anchors: shorten it`
            : `the policy parser failed (${error.message}); the policy was not loaded`;
        finish(() => resolve({ ok: false, errors: [{ path: DOCUMENT_PATH, message }] }));
      });
      worker.once('exit', (code) => {
        finish(() => resolve({ ok: false, errors: [{ path: DOCUMENT_PATH, message: `the policy parser exited (code ${code}) without an answer; the policy was not loaded` }] }));
      });
    });

  const parseWith = async (text: string, signal: AbortSignal | undefined, first: boolean): Promise<PolicyParseResult> => {
    if (closed) return refused('the policy parser is shut down; the policy was not loaded');
    if (signal?.aborted) throw new PolicyParseCancelled();
    const queue = first ? reloads : reviews;
    if (!first && active >= maxWorkers && reviews.length >= maxQueued) {
      return refused(`the policy parser is busy (${active} parse${active === 1 ? '' : 's'} running, ${reviews.length} waiting); the policy was not loaded: retry in a few seconds`);
    }
    await new Promise<void>((resolve, reject) => {
      const entry = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const index = queue.indexOf(entry);
        if (index >= 0) queue.splice(index, 1);
        reject(new PolicyParseCancelled());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(entry);
      startNext();
    });
    if (closed || signal?.aborted) {
      active--;
      startNext();
      if (signal?.aborted) throw new PolicyParseCancelled();
      return refused('the policy parser is shut down; the policy was not loaded');
    }
    const validation = await runWorker(text, signal);
    try {
      return compileValidation(validation);
    } catch (error) {
      return refused(`could not be compiled (${(error as Error).message}); please report this policy as a bug`);
    }
  };

  return {
    parse: (text, signal) => parseWith(text, signal, true),
    parseUnlessBusy: (text, signal) => parseWith(text, signal, false),
    busy: () => ({ running: running.size, queued: reloads.length + reviews.length }),
    async close() {
      closed = true;
      // Each resumes as if it had a worker slot, finds the parser closed and is refused.
      for (const entry of [...reloads.splice(0), ...reviews.splice(0)]) {
        active++;
        entry();
      }
      await Promise.all([...running].map((worker) => worker.terminate()));
    },
  };
}
