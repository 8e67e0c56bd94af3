// The admission setups the API-server benchmark compares, one namespace each, and what a Pod
// created in each must look like afterwards (so the harness cannot silently measure the wrong
// thing: a webhook that is never called, or a policy that does not apply).
//
// Each namespace carries SETUP_LABEL=<setup>; each webhook configuration and the policy binding
// select their one namespace by that label, so a create in one namespace runs exactly one mutating
// admission step of ours (plus the API server's built-in plugins, the same everywhere).

export type SetupName = 'none' | 'trivial' | 'secure-defaults' | 'policy' | 'replay';
/** What the benchmark compares by default. */
export const SETUP_NAMES: readonly SetupName[] = ['none', 'trivial', 'secure-defaults', 'policy'];
/**
 * Plus `replay`, a diagnostic: the trivial server answering secure-defaults' own recorded answer
 * for this Pod, so the API server applies exactly our patch without our process computing it.
 */
export const ALL_SETUP_NAMES: readonly SetupName[] = [...SETUP_NAMES, 'replay'];
export type WebhookSetup = 'trivial' | 'secure-defaults' | 'replay';

export const SETUP_LABEL = 'bench.secure-defaults.io/admission';
/** Our webhook's own opt-in label (cluster mode reads it from the namespace, as in production). */
const OPT_IN_LABEL = { 'secure-defaults.io/inject': 'enabled' };

export const SETUP_DESCRIPTIONS: Readonly<Record<SetupName, string>> = {
  none: 'no mutating webhook: the API server alone',
  trivial: 'node:https webhook answering one fixed patch (runAsNonRoot)',
  'secure-defaults': 'the compiled `secure-defaults serve`, cluster mode (policy ConfigMap), policies/default.yaml',
  policy: 'MutatingAdmissionPolicy (CEL, in the API server) with similar defaults',
  replay: "node:https webhook replaying secure-defaults' recorded answer for this Pod (same patch and audit annotations)",
};

/** The UID the policy sets: the first of policies/default.yaml's fallback range. */
export const POLICY_RUN_AS = 100000;

type Json = Record<string, unknown>;

/** The webhook's name in its configuration (the label of the API server's webhook metrics). */
export function webhookNameOf(setup: SetupName): string | undefined {
  return setup === 'trivial' || setup === 'secure-defaults' || setup === 'replay' ? `pods.${setup}.bench.secure-defaults.io` : undefined;
}

export function namespaceOf(setup: SetupName): string {
  return `bench-${setup}`;
}

export function namespaceLabels(setup: SetupName): Record<string, string> {
  return { [SETUP_LABEL]: setup, ...(setup === 'secure-defaults' ? OPT_IN_LABEL : {}) };
}

/**
 * The chart's webhook settings (charts/secure-defaults/templates/webhooks.yaml: Fail, 5 s,
 * IfNeeded, Equivalent), for the trivial webhook and ours alike, so only the server differs.
 */
export function webhookConfiguration(setup: WebhookSetup, url: string, caPem: string): Json {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: `bench-${setup}` },
    webhooks: [
      {
        name: webhookNameOf(setup),
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        reinvocationPolicy: 'IfNeeded',
        failurePolicy: 'Fail',
        timeoutSeconds: 5,
        matchPolicy: 'Equivalent',
        clientConfig: { url, caBundle: Buffer.from(caPem).toString('base64') },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }],
        namespaceSelector: { matchLabels: { [SETUP_LABEL]: setup } },
      },
    ],
  };
}

/**
 * What secure-defaults' default policy does to a bare Pod, as far as CEL can say it: fill-only
 * (a value the Pod set is kept), runAsNonRoot, RuntimeDefault seccomp, fixed runAsUser/runAsGroup/
 * fsGroup, allowPrivilegeEscalation false in an ApplyConfiguration; capabilities.drop is an
 * atomic list that server-side-apply merging would replace wholesale, so it is a JSONPatch that
 * adds it only where a container has none. No per-namespace UID ranges, no warnings, no
 * annotation: a policy cannot allocate ranges or explain itself.
 */
export function mutatingAdmissionPolicy(apiVersion: string): Json[] {
  const pod = 'object.spec.securityContext';
  const keep = (field: string, fallback: string): string => `has(${pod}.${field}) ? ${pod}.${field} : ${fallback}`;
  const podLevel = [
    `runAsNonRoot: ${keep('runAsNonRoot', 'true')}`,
    `runAsUser: ${keep('runAsUser', String(POLICY_RUN_AS))}`,
    `runAsGroup: ${keep('runAsGroup', String(POLICY_RUN_AS))}`,
    `fsGroup: ${keep('fsGroup', String(POLICY_RUN_AS))}`,
    `seccompProfile: Object.spec.securityContext.seccompProfile{type: has(${pod}.seccompProfile) ? ${pod}.seccompProfile.type : "RuntimeDefault"}`,
  ].join(', ');
  const containerLevel =
    'object.spec.containers.map(c, Object.spec.containers{name: c.name, securityContext: Object.spec.containers.securityContext{' +
    'allowPrivilegeEscalation: has(c.securityContext) && has(c.securityContext.allowPrivilegeEscalation) ? c.securityContext.allowPrivilegeEscalation : false}})';
  const applyConfiguration = `Object{spec: Object.spec{securityContext: Object.spec.securityContext{${podLevel}}, containers: ${containerLevel}}}`;
  // The ApplyConfiguration above runs first and gives every container a securityContext.
  const dropAll =
    'lists.range(size(object.spec.containers))' +
    '.filter(i, !has(object.spec.containers[i].securityContext.capabilities) || !has(object.spec.containers[i].securityContext.capabilities.drop))' +
    '.map(i, has(object.spec.containers[i].securityContext.capabilities)' +
    ' ? JSONPatch{op: "add", path: "/spec/containers/" + string(i) + "/securityContext/capabilities/drop", value: ["ALL"]}' +
    ' : JSONPatch{op: "add", path: "/spec/containers/" + string(i) + "/securityContext/capabilities", value: Object.spec.containers.securityContext.capabilities{drop: ["ALL"]}})';
  return [
    {
      apiVersion,
      kind: 'MutatingAdmissionPolicy',
      metadata: { name: 'bench-restricted-defaults' },
      spec: {
        matchConstraints: {
          resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
        },
        failurePolicy: 'Fail',
        reinvocationPolicy: 'IfNeeded',
        mutations: [
          { patchType: 'ApplyConfiguration', applyConfiguration: { expression: applyConfiguration } },
          { patchType: 'JSONPatch', jsonPatch: { expression: dropAll } },
        ],
      },
    },
    {
      apiVersion,
      kind: 'MutatingAdmissionPolicyBinding',
      metadata: { name: 'bench-restricted-defaults' },
      spec: {
        policyName: 'bench-restricted-defaults',
        matchResources: { namespaceSelector: { matchLabels: { [SETUP_LABEL]: 'policy' } } },
      },
    },
  ];
}

const INJECTED_ANNOTATION = 'secure-defaults.io/injected';

function containersOf(pod: Json): Json[] {
  const spec = (pod['spec'] ?? {}) as Json;
  return (spec['containers'] ?? []) as Json[];
}

function podContext(pod: Json): Json {
  return (((pod['spec'] ?? {}) as Json)['securityContext'] ?? {}) as Json;
}

function hardeningProblems(pod: Json, what: string): string[] {
  const problems: string[] = [];
  const context = podContext(pod);
  if (context['runAsNonRoot'] !== true) problems.push(`${what}: spec.securityContext.runAsNonRoot is ${JSON.stringify(context['runAsNonRoot'])}, expected true`);
  if ((context['seccompProfile'] as Json | undefined)?.['type'] !== 'RuntimeDefault') problems.push(`${what}: spec.securityContext.seccompProfile is not RuntimeDefault`);
  if (typeof context['runAsUser'] !== 'number') problems.push(`${what}: spec.securityContext.runAsUser is not set`);
  containersOf(pod).forEach((container, index) => {
    const sc = (container['securityContext'] ?? {}) as Json;
    if (sc['allowPrivilegeEscalation'] !== false) problems.push(`${what}: spec.containers[${index}].securityContext.allowPrivilegeEscalation is not false`);
    const drop = (sc['capabilities'] as Json | undefined)?.['drop'];
    if (JSON.stringify(drop) !== '["ALL"]') problems.push(`${what}: spec.containers[${index}].securityContext.capabilities.drop is ${JSON.stringify(drop)}, expected ["ALL"]`);
  });
  return problems;
}

function untouchedContainers(pod: Json, what: string): string[] {
  return containersOf(pod)
    .map((container, index) => (container['securityContext'] === undefined ? '' : `${what}: spec.containers[${index}].securityContext was set (${JSON.stringify(container['securityContext'])}), expected nothing`))
    .filter((problem) => problem !== '');
}

/**
 * Why the Pod the API server stored for `setup` is not what that setup makes of the typical Pod
 * (bench/bodies/pod-fixtures.ts typicalPodAsSent, no security settings); [] when it is.
 */
export function createdPodProblems(setup: SetupName, pod: Json): string[] {
  const what = `${setup} (namespace ${namespaceOf(setup)})`;
  const context = podContext(pod);
  const annotations = (((pod['metadata'] ?? {}) as Json)['annotations'] ?? {}) as Json;
  const injected = annotations[INJECTED_ANNOTATION] !== undefined;
  switch (setup) {
    case 'none':
      return [
        ...(Object.keys(context).length === 0 ? [] : [`${what}: spec.securityContext is ${JSON.stringify(context)}, expected {} (no webhook ran)`]),
        ...untouchedContainers(pod, what),
        ...(injected ? [`${what}: carries ${INJECTED_ANNOTATION}`] : []),
      ];
    case 'trivial':
      return [
        ...(JSON.stringify(context) === '{"runAsNonRoot":true}' ? [] : [`${what}: spec.securityContext is ${JSON.stringify(context)}, expected exactly the fixed patch's {"runAsNonRoot":true}`]),
        ...untouchedContainers(pod, what),
        ...(injected ? [`${what}: carries ${INJECTED_ANNOTATION}`] : []),
      ];
    case 'secure-defaults':
    case 'replay':
      return [...hardeningProblems(pod, what), ...(injected ? [] : [`${what}: no ${INJECTED_ANNOTATION} annotation: our webhook did not answer with its patch`])];
    case 'policy':
      return [
        ...hardeningProblems(pod, what),
        ...(context['runAsUser'] === POLICY_RUN_AS ? [] : [`${what}: spec.securityContext.runAsUser is ${JSON.stringify(context['runAsUser'])}, expected the policy's ${POLICY_RUN_AS}`]),
        ...(injected ? [`${what}: carries ${INJECTED_ANNOTATION}: our webhook ran where only the policy should`] : []),
      ];
  }
}
