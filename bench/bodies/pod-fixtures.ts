// Pods as kube-apiserver hands them to a mutating webhook on CREATE when a Deployment's ReplicaSet
// makes them: generateName and no name/uid yet (both are set after admission), defaults already
// applied by decoding, the built-in mutating plugins already run (ServiceAccount's projected token
// volume, DefaultTolerationSeconds, Priority), and managedFields recorded for
// kube-controller-manager over what the controller itself sent.
import { managedFieldsForCreate } from './managed-fields.js';

type Json = Record<string, unknown>;

const NAMESPACE = 'shop';
const APP = 'checkout-api';
const TEMPLATE_HASH = '7d9f8b6c5d';
const REPLICA_SET_UID = '5b0e4f1c-3d2a-4c8e-9f7b-2a6d1e8c4b90';
const CREATED_AT = '2025-03-14T09:26:53Z';
const TOKEN_VOLUME = 'kube-api-access-8xk2p';

/**
 * The IDs the already-hardened Pod sets for itself: the first of policies/default.yaml's fallback
 * range (100000-165535), which is what a standalone-mode namespace gets.
 */
export const HARDENED_IDS = { runAsUser: 100000, runAsGroup: 100000, fsGroup: 100000 } as const;

function terminationDefaults(): Json {
  return { terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent' };
}

function httpProbe(path: string, port: string, initialDelaySeconds: number): Json {
  return {
    httpGet: { path, port, scheme: 'HTTP' },
    initialDelaySeconds,
    timeoutSeconds: 2,
    periodSeconds: 10,
    successThreshold: 1,
    failureThreshold: 3,
  };
}

function appContainer(name: string, index: number): Json {
  return {
    name,
    image: `registry.example.com/shop/${name}:2.14.${index}`,
    ports: [
      { name: 'http', containerPort: 8080 + index, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9102 + index * 2, protocol: 'TCP' },
    ],
    env: [
      { name: 'SERVICE_NAME', value: name },
      { name: 'LOG_FORMAT', value: 'json' },
      { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: `${APP}-db`, key: 'url' } } },
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
      { name: 'GOMAXPROCS', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1' } } },
      { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://otel-collector.observability.svc:4317' },
    ],
    resources: { limits: { cpu: '1', memory: '512Mi' }, requests: { cpu: '250m', memory: '256Mi' } },
    livenessProbe: httpProbe('/healthz', 'http', 10),
    readinessProbe: httpProbe('/readyz', 'http', 5),
    volumeMounts: [
      { name: 'config', mountPath: `/etc/${name}`, readOnly: true },
      { name: 'tmp', mountPath: `/tmp/${name}` },
    ],
    ...terminationDefaults(),
  };
}

function proxyContainer(): Json {
  return {
    name: 'envoy',
    image: 'docker.io/envoyproxy/envoy:v1.30.1',
    args: ['--config-path', '/etc/envoy/envoy.yaml', '--log-level', 'warn', '--drain-time-s', '20'],
    ports: [
      { name: 'https', containerPort: 8443, protocol: 'TCP' },
      { name: 'admin', containerPort: 9901, protocol: 'TCP' },
    ],
    resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
    readinessProbe: httpProbe('/ready', 'admin', 2),
    volumeMounts: [
      { name: 'envoy-config', mountPath: '/etc/envoy', readOnly: true },
      { name: 'tls', mountPath: '/etc/tls', readOnly: true },
    ],
    ...terminationDefaults(),
  };
}

function logShipperContainer(): Json {
  return {
    name: 'fluent-bit',
    image: 'cr.fluentbit.io/fluent/fluent-bit:3.0.4',
    env: [
      { name: 'FLUENT_ELASTICSEARCH_HOST', value: 'logs.observability.svc' },
      { name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
    ],
    resources: { limits: { memory: '128Mi' }, requests: { cpu: '20m', memory: '64Mi' } },
    volumeMounts: [{ name: 'tmp', mountPath: '/var/log/app', readOnly: true }],
    ...terminationDefaults(),
  };
}

function podMetadata(): Json {
  return {
    generateName: `${APP}-${TEMPLATE_HASH}-`,
    namespace: NAMESPACE,
    labels: {
      'app.kubernetes.io/name': APP,
      'app.kubernetes.io/instance': `${APP}-prod`,
      'app.kubernetes.io/version': '2.14.3',
      'app.kubernetes.io/component': 'api',
      'app.kubernetes.io/part-of': 'shop',
      'app.kubernetes.io/managed-by': 'Helm',
      'helm.sh/chart': 'checkout-api-4.2.0',
      'pod-template-hash': TEMPLATE_HASH,
      team: 'payments',
    },
    annotations: {
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9102',
      'kubectl.kubernetes.io/restartedAt': '2025-03-14T09:20:11Z',
      'checksum/config': 'sha256:9c1185a5c5e9fc54612808977ee8f548b2258d31e1bb0d29c2e1aa1c3f0b6d4a',
    },
    ownerReferences: [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${APP}-${TEMPLATE_HASH}`, uid: REPLICA_SET_UID, controller: true, blockOwnerDeletion: true },
    ],
  };
}

function podSpec(containers: Json[], podSecurityContext: Json): Json {
  return {
    volumes: [
      { name: 'config', configMap: { name: `${APP}-config`, defaultMode: 420 } },
      { name: 'envoy-config', configMap: { name: `${APP}-envoy`, defaultMode: 420 } },
      { name: 'tls', secret: { secretName: `${APP}-tls`, defaultMode: 420 } },
      { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
    ],
    containers,
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    serviceAccountName: APP,
    serviceAccount: APP,
    securityContext: podSecurityContext,
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              labelSelector: { matchLabels: { 'app.kubernetes.io/name': APP } },
              topologyKey: 'kubernetes.io/hostname',
            },
          },
        ],
      },
    },
    schedulerName: 'default-scheduler',
    enableServiceLinks: true,
  };
}

/** What the built-in mutating admission plugins add before any webhook sees the Pod. */
function withBuiltInAdmission(spec: Json): Json {
  const tokenMount = { name: TOKEN_VOLUME, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' };
  const containers = (spec['containers'] as Json[]).map((c) => ({
    ...c,
    volumeMounts: [...((c['volumeMounts'] as Json[] | undefined) ?? []), tokenMount],
  }));
  return {
    ...spec,
    volumes: [
      ...(spec['volumes'] as Json[]),
      {
        name: TOKEN_VOLUME,
        projected: {
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
          ],
          defaultMode: 420,
        },
      },
    ],
    containers,
    tolerations: [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ],
    priority: 0,
    preemptionPolicy: 'PreemptLowerPriority',
  };
}

function admittedPod(containers: Json[], podSecurityContext: Json): Json {
  const metadata = podMetadata();
  const spec = podSpec(containers, podSecurityContext);
  const managedFields = [managedFieldsForCreate('kube-controller-manager', CREATED_AT, metadata, spec)];
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { ...metadata, managedFields },
    spec: withBuiltInAdmission(spec),
    status: {},
  };
}

/** The ServiceAccount the typical Pod runs as; it must exist where the Pod is created. */
export const TYPICAL_POD_SERVICE_ACCOUNT = APP;

/**
 * The typical Pod as the ReplicaSet controller POSTs it to kube-apiserver: before decoding
 * defaults, built-in admission and managedFields, and with no namespace (the URL names it).
 */
export function typicalPodAsSent(): Json {
  const { namespace: _namespace, ...metadata } = podMetadata();
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: podSpec([appContainer(APP, 3), proxyContainer(), logShipperContainer()], {}) };
}

/** A typical three-container Deployment Pod with no security settings of its own. */
export function typicalPod(): Json {
  return admittedPod([appContainer(APP, 3), proxyContainer(), logShipperContainer()], {});
}

/** A Pod with `count` application containers (batch runners, big sidecar meshes). */
export function manyContainerPod(count: number): Json {
  const containers = Array.from({ length: count }, (_, i) => appContainer(`worker-${String(i).padStart(2, '0')}`, i));
  return admittedPod(containers, {});
}

const HARDENED_CONTAINER_CONTEXT: Json = {
  capabilities: { drop: ['ALL'] },
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  seccompProfile: { type: 'RuntimeDefault' },
};

/** The typical Pod with every restricted-profile setting already in place: nothing to add. */
export function hardenedPod(): Json {
  const containers = [appContainer(APP, 3), proxyContainer(), logShipperContainer()].map((c) => ({
    ...c,
    securityContext: HARDENED_CONTAINER_CONTEXT,
  }));
  return admittedPod(containers, {
    ...HARDENED_IDS,
    runAsNonRoot: true,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  });
}
