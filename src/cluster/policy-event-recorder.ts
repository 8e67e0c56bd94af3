// Kubernetes Events on the policy ConfigMap, so `kubectl describe configmap` says why an edit was
// refused (or that it was taken) without anyone reading the webhook's logs.
import { CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../foundation/clock.js';

export interface ConfigMapIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
}

export interface PolicyEvent {
  readonly type: 'Normal' | 'Warning';
  /** UpperCamelCase, e.g. PolicyRejected. */
  readonly reason: string;
  readonly message: string;
}

export interface PolicyEventRecorder {
  record(configMap: ConfigMapIdentity, event: PolicyEvent): Promise<void>;
}

export const EVENT_COMPONENT = 'secure-defaults';
/** The events.k8s.io API refuses longer notes; keep core/v1 messages to the same size. */
const MAX_MESSAGE_LENGTH = 1024;

export function policyEventBody(configMap: ConfigMapIdentity, event: PolicyEvent, now: Date, instance: string): CoreV1Event {
  const message = event.message.length > MAX_MESSAGE_LENGTH ? `${event.message.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : event.message;
  return {
    metadata: {
      // As client-go names them: object name + "." + a timestamp in hex, unique enough per object.
      name: `${configMap.name}.${(BigInt(now.getTime()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000))).toString(16)}`,
      namespace: configMap.namespace,
    },
    involvedObject: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: configMap.namespace,
      name: configMap.name,
      ...(configMap.uid ? { uid: configMap.uid } : {}),
      ...(configMap.resourceVersion ? { resourceVersion: configMap.resourceVersion } : {}),
    },
    type: event.type,
    reason: event.reason,
    message,
    source: { component: EVENT_COMPONENT, host: instance },
    reportingComponent: EVENT_COMPONENT,
    reportingInstance: instance,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}

export function coreEventRecorder(kubeConfig: KubeConfig, clock: Clock, instance: string): PolicyEventRecorder {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  return {
    async record(configMap, event) {
      await api.createNamespacedEvent({ namespace: configMap.namespace, body: policyEventBody(configMap, event, new Date(clock.now()), instance) });
    },
  };
}
