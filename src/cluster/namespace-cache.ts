// The NamespaceDirectory a cluster deployment uses: a watch-backed map of every namespace's
// labels and annotations, with a direct GET for a namespace the watch has not delivered yet (a
// Pod can arrive milliseconds after its namespace was created).
import { CoreV1Api, type KubeConfig, type V1Namespace } from '@kubernetes/client-node';
import type { NamespaceInfo } from '../engine/model.js';
import type { NamespaceDirectory } from '../server/policy-ports.js';
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

export class NamespaceCache implements NamespaceDirectory, ReflectorHandlers<V1Namespace> {
  private byName = new Map<string, NamespaceInfo>();
  private readonly readNamespace: ReadNamespace;

  constructor(readNamespace: ReadNamespace) {
    this.readNamespace = readNamespace;
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
  }

  apply(type: WatchEventType, object: V1Namespace): void {
    const info = toNamespaceInfo(object);
    if (!info) return;
    if (type === 'DELETED') this.byName.delete(info.name);
    else this.byName.set(info.name, info);
  }

  async lookup(name: string): Promise<NamespaceInfo | null> {
    return this.byName.get(name) ?? this.readNamespace(name);
  }
}
