// fast-check generators for Pods that exercise every rule of the hardener: optional and partial
// securityContexts, root UIDs, privileged containers, capability lists, Windows markers, legacy
// annotations, and the three container lists.
import fc from 'fast-check';

type Json = Record<string, unknown>;

const capabilityNames = fc.subarray(['SYS_ADMIN', 'CAP_SYS_ADMIN', 'NET_ADMIN', 'NET_BIND_SERVICE', 'ALL', 'NET_RAW']);

const capabilities = fc.record(
  { add: capabilityNames, drop: capabilityNames, extraField: fc.constant('kept') },
  { requiredKeys: [] },
);

const containerSecurityContext = fc.record(
  {
    runAsUser: fc.constantFrom(0, 1000, 15000, 200000),
    runAsGroup: fc.constantFrom(0, 15000),
    runAsNonRoot: fc.boolean(),
    privileged: fc.boolean(),
    allowPrivilegeEscalation: fc.boolean(),
    readOnlyRootFilesystem: fc.boolean(),
    capabilities: fc.oneof(capabilities, fc.constant(null)),
    seccompProfile: fc.constantFrom({ type: 'RuntimeDefault' }, { type: 'Unconfined' }),
  },
  { requiredKeys: [] },
);

const securityContextOrNull = fc.oneof({ weight: 4, arbitrary: containerSecurityContext }, { weight: 1, arbitrary: fc.constant(null) });
const container: fc.Arbitrary<Json> = fc.record({ image: fc.constant('registry.example/app:1'), securityContext: securityContextOrNull }, { requiredKeys: ['image'] });
/** With mounts of a hostPath volume ("host") or an emptyDir ("scratch"). */
const nodeContainer: fc.Arbitrary<Json> = fc.record(
  {
    image: fc.constant('registry.example/agent:1'),
    securityContext: securityContextOrNull,
    volumeMounts: fc.constantFrom([{ name: 'host', mountPath: '/host' }], [{ name: 'scratch', mountPath: '/scratch' }], []),
  },
  { requiredKeys: ['image'] },
);
const hostNamespaces = fc.record({ hostNetwork: fc.boolean(), hostPID: fc.boolean(), hostIPC: fc.boolean() }, { requiredKeys: [] });
const NODE_VOLUMES = [
  { name: 'host', hostPath: { path: '/var/log' } },
  { name: 'scratch', emptyDir: {} },
];

function named(prefix: string) {
  return (containers: Json[]): Json[] => containers.map((c, i) => ({ name: `${prefix}-${i}`, ...c }));
}

const podSecurityContext = fc.record(
  {
    runAsUser: fc.constantFrom(0, 5, 15000),
    runAsGroup: fc.constantFrom(0, 15000),
    runAsNonRoot: fc.boolean(),
    fsGroup: fc.constantFrom(1, 15000),
    supplementalGroups: fc.constant([15001]),
    seccompProfile: fc.constantFrom({ type: 'RuntimeDefault' }, { type: 'Unconfined' }),
  },
  { requiredKeys: [] },
);

const annotations = fc.record(
  {
    'secure-defaults.io/skip': fc.constantFrom('true', 'false'),
    'seccomp.security.alpha.kubernetes.io/pod': fc.constantFrom('runtime/default', 'unconfined'),
    team: fc.constant('a/b~c'),
  },
  { requiredKeys: [] },
);

export interface PodOptions {
  /** Include markers that make a Pod a Windows Pod (os, nodeSelector), and windowsOptions, which does not. */
  readonly windows?: boolean;
  /** Include host namespaces and containers that mount a hostPath volume. */
  readonly node?: boolean;
}

export function podArbitrary(options: PodOptions = {}): fc.Arbitrary<Json> {
  const windowsMarkers = options.windows
    ? fc.record(
        { os: fc.constantFrom({ name: 'windows' }, { name: 'linux' }), nodeSelector: fc.constantFrom({ 'kubernetes.io/os': 'windows' }, { 'kubernetes.io/os': 'linux' }) },
        { requiredKeys: [] },
      )
    : fc.constant({});
  return fc
    .record({
      metadata: fc.record({ name: fc.constant('generated'), annotations }, { requiredKeys: ['name'] }),
      securityContext: fc.option(podSecurityContext, { nil: undefined }),
      containers: fc.array(options.node ? nodeContainer : container, { minLength: 1, maxLength: 4 }).map(named('c')),
      initContainers: fc.option(fc.array(options.node ? nodeContainer : container, { maxLength: 2 }).map(named('init')), { nil: undefined }),
      ephemeralContainers: fc.option(fc.array(container, { maxLength: 2 }).map(named('debug')), { nil: undefined }),
      host: options.node ? hostNamespaces : fc.constant({}),
      windows: windowsMarkers,
      windowsOptionsOn: options.windows ? fc.constantFrom(-1, -1, -1, 0) : fc.constant(-1),
    })
    .map(({ metadata, securityContext, containers, initContainers, ephemeralContainers, windows, windowsOptionsOn, host }) => {
      const spec: Json = { containers, unknownFutureField: { kept: true }, ...windows, ...host };
      if (options.node) spec['volumes'] = NODE_VOLUMES;
      if (securityContext !== undefined) spec['securityContext'] = securityContext;
      if (initContainers !== undefined) spec['initContainers'] = initContainers;
      if (ephemeralContainers !== undefined) spec['ephemeralContainers'] = ephemeralContainers;
      if (windowsOptionsOn >= 0) {
        const first = containers[windowsOptionsOn]!;
        // windowsOptions without hostProcess is not a Windows marker (a Linux node ignores it).
        first['securityContext'] = { ...((first['securityContext'] as Json | null) ?? {}), windowsOptions: { runAsUserName: 'ContainerUser' } };
      }
      return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
    });
}
