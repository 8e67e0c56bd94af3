// A steady stream of concurrent Pod creations through the API, recording when each started and
// ended and what the API server answered, so fault suites can say which creations were in flight
// when something was done to the webhook.
import { INJECTED_ANNOTATION, container, type FlowEnvironment } from './flow-environment.js';

export interface CreationRecord {
  readonly name: string;
  /** Date.now() when the request left, and when its answer arrived. */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly ok: boolean;
  /** The Pod the API server stored carries the webhook's annotation. */
  readonly hardened: boolean;
  readonly runAsUser: number | undefined;
  /** The API server's message when it refused the Pod. */
  readonly message: string;
}

export interface CreationStream {
  readonly records: readonly CreationRecord[];
  /** Resolves once `count` creations have finished. */
  whenFinished(count: number): Promise<void>;
  /** No new creations; resolves with every record once the in-flight ones have answered. */
  stop(): Promise<readonly CreationRecord[]>;
}

export function startCreationStream(env: FlowEnvironment, namespace: string, prefix: string, concurrency: number): CreationStream {
  const records: CreationRecord[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  let next = 0;
  let stopped = false;

  const worker = async (): Promise<void> => {
    while (!stopped) {
      const name = `${prefix}-${String(next++).padStart(4, '0')}`;
      const startedAt = Date.now();
      const created = await env.createPod(namespace, name, { containers: [container('app')] });
      records.push({
        name,
        startedAt,
        endedAt: Date.now(),
        ok: created.ok,
        hardened: created.ok && created.pod.metadata?.annotations?.[INJECTED_ANNOTATION] !== undefined,
        runAsUser: created.ok ? created.pod.spec?.securityContext?.runAsUser : undefined,
        message: created.ok ? '' : created.message,
      });
      for (const waiter of waiters.filter((w) => records.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  const workers = Array.from({ length: concurrency }, () => worker());

  return {
    records,
    whenFinished: (count) =>
      records.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve })),
    async stop() {
      stopped = true;
      await Promise.all(workers);
      return records;
    },
  };
}

/** A short, readable account of records that broke an expectation, for failure messages. */
export function describeRecords(records: readonly CreationRecord[], origin: number): string {
  return records
    .slice(0, 10)
    .map((r) => `${r.name} +${r.startedAt - origin}..+${r.endedAt - origin} ms ok=${r.ok} hardened=${r.hardened} ${r.message}`)
    .join('\n');
}
