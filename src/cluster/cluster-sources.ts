// Wires the cluster-backed policy source and namespace directory to a KubeConfig: two
// reflectors, their readiness conditions, policy-change notifications, and one stop().
import type { KubeConfig, V1ConfigMap, V1Namespace } from '@kubernetes/client-node';
import type { Clock } from '../foundation/clock.js';
import type { Logger } from '../foundation/logger.js';
import type { ConfigMapRef, PolicyLoadMetrics, PolicySnapshot, PolicyTextParser, ReadinessCheck } from '../ports/admission-ports.js';
import type { BackoffSettings } from '../foundation/backoff.js';
import { ConfigMapPolicySource } from './config-map-policy-source.js';
import { configMapListWatch, namespaceListWatch } from './kube-list-watch.js';
import { NamespaceCache, readNamespaceFromApi } from './namespace-cache.js';
import { coreEventRecorder, type PolicyEventRecorder } from './policy-event-recorder.js';
import { Reflector, type ListWatch, type ReflectorHandlers } from './reflector.js';

export interface ClusterSourcesOptions {
  readonly configMap: ConfigMapRef;
  readonly parsePolicy: PolicyTextParser;
  readonly logger: Logger;
  readonly metrics: PolicyLoadMetrics;
  readonly clock: Clock;
  readonly random?: () => number;
  readonly backoff?: BackoffSettings;
  readonly minWatchTimeoutSeconds?: number;
}

export interface ClusterSources {
  readonly policySource: ConfigMapPolicySource;
  readonly namespaces: NamespaceCache;
  readonly readinessChecks: readonly ReadinessCheck[];
  /** Calls `listener` each time a new policy is accepted (not for refused edits); returns the unsubscribe function. */
  onPolicyChange(listener: (snapshot: PolicySnapshot) => void): () => void;
  start(): void;
  stop(): void;
}

/** The API calls behind the sources, separable so tests can drive the wiring with fakes. */
export interface ClusterApi {
  readonly namespaces: ListWatch<V1Namespace>;
  readonly configMap: ListWatch<V1ConfigMap>;
  readonly readNamespace: (name: string) => ReturnType<ReturnType<typeof readNamespaceFromApi>>;
  readonly events: PolicyEventRecorder;
}

export function clusterApiFrom(kubeConfig: KubeConfig, configMap: ConfigMapRef, clock: Clock, instance: string): ClusterApi {
  return {
    namespaces: namespaceListWatch(kubeConfig),
    configMap: configMapListWatch(kubeConfig, configMap.namespace, configMap.name),
    readNamespace: readNamespaceFromApi(kubeConfig),
    events: coreEventRecorder(kubeConfig, clock, instance),
  };
}

export function createClusterSources(api: ClusterApi, options: ClusterSourcesOptions): ClusterSources {
  const { logger, clock } = options;
  const policyListeners = new Set<(snapshot: PolicySnapshot) => void>();
  const policySource = new ConfigMapPolicySource({
    configMap: options.configMap,
    parsePolicy: options.parsePolicy,
    logger,
    metrics: options.metrics,
    events: api.events,
    // A parse in a worker thread answers after replace/apply have returned.
    onJudged: () => announcePolicy(),
  });
  let announcedGeneration = 0;
  const announcePolicy = (): void => {
    const snapshot = policySource.current();
    if (snapshot === null || snapshot.generation === announcedGeneration) return;
    announcedGeneration = snapshot.generation;
    for (const listener of policyListeners) listener(snapshot);
  };
  const policyHandlers: ReflectorHandlers<V1ConfigMap> = {
    replace(items) {
      policySource.replace(items);
      announcePolicy();
    },
    apply(type, object) {
      policySource.apply(type, object);
      announcePolicy();
    },
  };
  const namespaces = new NamespaceCache(api.readNamespace);
  const common = { logger, clock, random: options.random, backoff: options.backoff, minWatchTimeoutSeconds: options.minWatchTimeoutSeconds };
  const policyReflector = new Reflector<V1ConfigMap>({
    ...common,
    name: `configmap ${options.configMap.namespace}/${options.configMap.name}`,
    listWatch: api.configMap,
    handlers: policyHandlers,
  });
  const namespaceReflector = new Reflector<V1Namespace>({ ...common, name: 'namespaces', listWatch: api.namespaces, handlers: namespaces });
  return {
    policySource,
    namespaces,
    readinessChecks: [
      () => (namespaceReflector.hasSynced() ? null : 'namespace cache not synced'),
      () => (policyReflector.hasSynced() ? null : 'policy ConfigMap not read yet'),
    ],
    onPolicyChange(listener) {
      const entry = (snapshot: PolicySnapshot): void => listener(snapshot);
      policyListeners.add(entry);
      return () => {
        policyListeners.delete(entry);
      };
    },
    start() {
      policyReflector.start();
      namespaceReflector.start();
    },
    stop() {
      policyReflector.stop();
      namespaceReflector.stop();
      policySource.stop();
    },
  };
}
