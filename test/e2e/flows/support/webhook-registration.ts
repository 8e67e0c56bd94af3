// The two webhook configurations, as the Helm chart (charts/secure-defaults/templates/webhooks.yaml)
// registers them, except that clientConfig points at the process on 127.0.0.1 instead of a Service.

export const MUTATING_WEBHOOK = 'pods.secure-defaults.io';
export const VALIDATING_WEBHOOK = 'policy.secure-defaults.io';
export const CONFIGURATION_NAME = 'secure-defaults';

export interface RegistrationOptions {
  readonly port: number;
  readonly caPem: string;
  /** Where the webhook and its policy ConfigMap live; never sent to the mutating webhook. */
  readonly systemNamespace: string;
  readonly policyConfigMapName: string;
  readonly failurePolicy: 'Fail' | 'Ignore';
}

// The chart's 5 s is for a production cluster; this machine's two cores are shared by parallel
// builds, and a slow answer here would be a flaky test rather than a finding.
const TIMEOUT_SECONDS = 15;

export function mutatingWebhookConfiguration(options: RegistrationOptions): Record<string, unknown> {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: CONFIGURATION_NAME },
    webhooks: [
      {
        name: MUTATING_WEBHOOK,
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        reinvocationPolicy: 'IfNeeded',
        failurePolicy: options.failurePolicy,
        timeoutSeconds: TIMEOUT_SECONDS,
        matchPolicy: 'Equivalent',
        clientConfig: { url: `https://127.0.0.1:${options.port}/mutate`, caBundle: Buffer.from(options.caPem).toString('base64') },
        rules: [
          { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' },
          { apiGroups: [''], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['pods/ephemeralcontainers'], scope: 'Namespaced' },
        ],
        namespaceSelector: {
          matchLabels: { 'secure-defaults.io/inject': 'enabled' },
          matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', options.systemNamespace] }],
        },
      },
    ],
  };
}

export function policyValidatingWebhookConfiguration(options: RegistrationOptions): Record<string, unknown> {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: CONFIGURATION_NAME },
    webhooks: [
      {
        name: VALIDATING_WEBHOOK,
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        // As the chart: a broken webhook must never lock its own policy.
        failurePolicy: 'Ignore',
        timeoutSeconds: TIMEOUT_SECONDS,
        matchPolicy: 'Equivalent',
        clientConfig: { url: `https://127.0.0.1:${options.port}/validate-policy`, caBundle: Buffer.from(options.caPem).toString('base64') },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['configmaps'], scope: 'Namespaced' }],
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': options.systemNamespace } },
        matchConditions: [{ name: 'policy-configmap-only', expression: `request.name == "${options.policyConfigMapName}"` }],
      },
    ],
  };
}
