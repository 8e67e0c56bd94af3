// Wires the cluster-backed policy source and namespace directory to a KubeConfig: two
// reflectors, their readiness conditions, and one stop().
import type { KubeConfig, V1ConfigMap, V1Namespace } from '@kubernetes/client-node';
import type { PolicyParseResult } from '../engine/model.js';
import type { Clock } from '../server/clock.js';
import type { Logger } from '../server/logger.js';
import type { ConfigMapRef } from '../server/policy-config-map-review.js';
import type { ReadinessCheck } from '../server/webhook-app.js';
import type { WebhookMetrics } from '../server/webhook-metrics.js';
import type { BackoffSettings } from './backoff.js';
import { ConfigMapPolicySource } from './config-map-policy-source.js';
import { configMapListWatch, namespaceListWatch } from './kube-list-watch.js';
import { NamespaceCache, readNamespaceFromApi } from './namespace-cache.js';
import { coreEventRecorder, type PolicyEventRecorder } from './policy-event-recorder.js';
import { Reflector, type ListWatch } from './reflector.js';

export interface ClusterSourcesOptions {
  readonly configMap: ConfigMapRef;
  readonly parsePolicy: (yamlText: string) => PolicyParseResult;
  readonly logger: Logger;
  readonly metrics: WebhookMetrics;
  readonly clock: Clock;
  readonly random?: () => number;
  readonly backoff?: BackoffSettings;
  readonly minWatchTimeoutSeconds?: number;
}

export interface ClusterSources {
  readonly policySource: ConfigMapPolicySource;
  readonly namespaces: NamespaceCache;
  readonly readinessChecks: readonly ReadinessCheck[];
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
  const policySource = new ConfigMapPolicySource({
    configMap: options.configMap,
    parsePolicy: options.parsePolicy,
    logger,
    metrics: options.metrics,
    events: api.events,
  });
  const namespaces = new NamespaceCache(api.readNamespace);
  const common = { logger, clock, random: options.random, backoff: options.backoff, minWatchTimeoutSeconds: options.minWatchTimeoutSeconds };
  const policyReflector = new Reflector<V1ConfigMap>({
    ...common,
    name: `configmap ${options.configMap.namespace}/${options.configMap.name}`,
    listWatch: api.configMap,
    handlers: policySource,
  });
  const namespaceReflector = new Reflector<V1Namespace>({ ...common, name: 'namespaces', listWatch: api.namespaces, handlers: namespaces });
  return {
    policySource,
    namespaces,
    readinessChecks: [
      () => (namespaceReflector.hasSynced() ? null : 'namespace cache not synced'),
      () => (policyReflector.hasSynced() ? null : 'policy ConfigMap not read yet'),
    ],
    start() {
      policyReflector.start();
      namespaceReflector.start();
    },
    stop() {
      policyReflector.stop();
      namespaceReflector.stop();
    },
  };
}
