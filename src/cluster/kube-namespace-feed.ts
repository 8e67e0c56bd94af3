// Namespace change notifications from a client-node watch, restarted whenever it ends. The
// allocator re-reads everything on each pass, so a notification needs no content, and a watch
// (re)started without resourceVersion replays every namespace as ADDED: one catch-up pass.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../foundation/logger.js';
import type { NamespaceChangeFeed } from '../allocation/allocator-service.js';
import type { Sleep } from '../foundation/clock.js';

export interface KubeNamespaceFeedOptions {
  readonly logger: Logger;
  readonly sleep: Sleep;
  /** Pause before re-opening a watch that ended, so a failing API server is not hammered. */
  readonly restartDelayMs?: number;
}

export function kubeNamespaceChanges(kubeConfig: KubeConfig, options: KubeNamespaceFeedOptions): NamespaceChangeFeed {
  return (onChange) => {
    const stopped = new AbortController();
    let current: AbortController | null = null;
    const watchOnce = (): Promise<void> =>
      new Promise((resolve) => {
        new Watch(kubeConfig)
          .watch(
            '/api/v1/namespaces',
            {},
            (phase) => {
              if (phase === 'ADDED' || phase === 'MODIFIED') onChange();
            },
            (error: unknown) => {
              if (error && !stopped.signal.aborted) options.logger.warn('namespace watch ended', { component: 'allocator', error: String(error) });
              resolve();
            },
          )
          .then(
            (controller) => {
              current = controller;
              if (stopped.signal.aborted) controller.abort();
            },
            (error: unknown) => {
              options.logger.warn('could not watch namespaces', { component: 'allocator', error: String(error) });
              resolve();
            },
          );
      });
    void (async () => {
      while (!stopped.signal.aborted) {
        await watchOnce();
        await options.sleep(options.restartDelayMs ?? 1_000, stopped.signal);
      }
    })();
    return {
      stop: () => {
        stopped.abort();
        current?.abort();
      },
    };
  };
}
