// ListWatch implementations over @kubernetes/client-node: namespaces, and the one policy ConfigMap
// (selected by name with a field selector, so the watch carries no other ConfigMap's data).
import { CoreV1Api, Watch, type KubeConfig, type V1ConfigMap, type V1Namespace } from '@kubernetes/client-node';
import type { ListWatch, WatchCallbacks } from './reflector.js';

function watchOver(kubeConfig: KubeConfig, path: string, extraQuery: Record<string, string>) {
  return async (resourceVersion: string, timeoutSeconds: number, callbacks: WatchCallbacks): Promise<{ stop(): void }> => {
    const controller = await new Watch(kubeConfig).watch(
      path,
      { ...extraQuery, resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
      (type, object) => callbacks.onEvent(type, object),
      (error) => callbacks.onClose(error ?? null),
    );
    return { stop: () => controller.abort() };
  };
}

export function namespaceListWatch(kubeConfig: KubeConfig): ListWatch<V1Namespace> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  return {
    async list() {
      const list = await api.listNamespace();
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
    },
    watch: watchOver(kubeConfig, '/api/v1/namespaces', {}),
  };
}

export function configMapListWatch(kubeConfig: KubeConfig, namespace: string, name: string): ListWatch<V1ConfigMap> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const fieldSelector = `metadata.name=${name}`;
  return {
    async list() {
      const list = await api.listNamespacedConfigMap({ namespace, fieldSelector });
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
    },
    watch: watchOver(kubeConfig, `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`, { fieldSelector }),
  };
}
