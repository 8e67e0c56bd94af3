// The NamespaceDirectory a cluster deployment uses: a watch-backed map of every namespace's
// labels and annotations, with a direct GET for a namespace the watch has not delivered yet (a
// Pod can arrive milliseconds after its namespace was created). Subscribers hear of every add and
// update, so a Pod waiting for its namespace's UID block, and the allocator, share this one watch.
import { CoreV1Api, type KubeConfig, type V1Namespace } from '@kubernetes/client-node';
import type { NamespaceSource } from '../allocation/namespace-block-waiter.js';
import type { NamespaceInfo } from '../engine/model.js';
import { isOptedIn } from '../engine/namespace-opt-in.js';
import type { NamespaceDirectory } from '../ports/admission-ports.js';
import type { ReflectorHandlers, WatchEventType } from './reflector.js';

/** Large, and read by nothing here: not worth keeping for every namespace. */
const DROPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

export function toNamespaceInfo(namespace: V1Namespace): NamespaceInfo | null {
  const name = namespace.metadata?.name;
  if (!name) return null;
  const annotations = Object.fromEntries(Object.entries(namespace.metadata?.annotations ?? {}).filter(([key]) => !DROPPED_ANNOTATIONS.has(key)));
  return Object.freeze({ name, labels: Object.freeze({ ...(namespace.metadata?.labels ?? {}) }), annotations: Object.freeze(annotations) });
}

/** A direct read: the namespace, null when the API server says 404, a rejection otherwise. */
export type ReadNamespace = (name: string) => Promise<NamespaceInfo | null>;

export function readNamespaceFromApi(kubeConfig: KubeConfig): ReadNamespace {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  return async (name) => {
    try {
      return toNamespaceInfo(await api.readNamespace({ name }));
    } catch (error) {
      if ((error as { code?: unknown }).code === 404) return null;
      throw error;
    }
  };
}

export type NamespaceListener = (namespace: NamespaceInfo) => void;

/** At most one direct re-read per namespace in this long (see lookup): the race it covers lasts milliseconds. */
export const NOT_OPTED_IN_RECHECK_MS = 2000;

export class NamespaceCache implements NamespaceDirectory, NamespaceSource, ReflectorHandlers<V1Namespace> {
  private byName = new Map<string, NamespaceInfo>();
  private readonly readNamespace: ReadNamespace;
  private readonly listeners = new Set<NamespaceListener>();
  private readonly lastRecheck = new Map<string, number>();
  private readonly now: () => number;

  constructor(readNamespace: ReadNamespace, now: () => number = Date.now) {
    this.readNamespace = readNamespace;
    this.now = now;
  }

  size(): number {
    return this.byName.size;
  }

  replace(items: readonly V1Namespace[]): void {
    const next = new Map<string, NamespaceInfo>();
    for (const item of items) {
      const info = toNamespaceInfo(item);
      if (info) next.set(info.name, info);
    }
    this.byName = next;
    // A relist may carry updates whose watch events were lost: tell subscribers of every one.
    for (const info of next.values()) this.notify(info);
  }

  apply(type: WatchEventType, object: V1Namespace): void {
    const info = toNamespaceInfo(object);
    if (!info) return;
    if (type === 'DELETED') {
      this.byName.delete(info.name);
      this.lastRecheck.delete(info.name);
      return;
    }
    this.byName.set(info.name, info);
    this.notify(info);
  }

  async lookup(name: string): Promise<NamespaceInfo | null> {
    const cached = this.byName.get(name);
    if (cached === undefined) return this.readNamespace(name);
    if (isOptedIn(cached) || !this.mayRecheck(name)) return cached;
    // The API server calls the webhook only for namespaces its namespaceSelector matches, that is
    // opted in: a cached "not opted in" here most likely means the label was just added and its
    // watch event is still on the way. Ask the API server rather than let that Pod through
    // unhardened. If it cannot answer, the cached view is still the best one.
    try {
      return await this.readNamespace(name);
    } catch {
      return cached;
    }
  }

  private mayRecheck(name: string): boolean {
    const now = this.now();
    const last = this.lastRecheck.get(name);
    if (last !== undefined && now - last < NOT_OPTED_IN_RECHECK_MS) return false;
    this.lastRecheck.set(name, now);
    return true;
  }

  /** What the watch has delivered so far; unlike lookup, never asks the API server. */
  get(name: string): NamespaceInfo | undefined {
    return this.byName.get(name);
  }

  /** Calls `listener` after each add or update (and for every namespace of a relist); returns the unsubscribe function. */
  subscribe(listener: NamespaceListener): () => void {
    // A wrapper per subscription, so the same function subscribed twice is unsubscribed once each.
    const entry: NamespaceListener = (namespace) => listener(namespace);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  private notify(info: NamespaceInfo): void {
    for (const listener of this.listeners) {
      // This runs inside the watch callback: a throwing subscriber must not cut the others off
      // from the update, nor break the reflector's loop.
      try {
        listener(info);
      } catch {
        continue;
      }
    }
  }
}
