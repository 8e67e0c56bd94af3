// Real policy documents for tests that go through the engine's parser.
export function policyYaml(name: string, uidRange = '100000-165535'): string {
  return [
    'apiVersion: secure-defaults.io/v1alpha1',
    'kind: SecureDefaultsPolicy',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  mode: fill',
    '  defaults:',
    '    runAsNonRoot: true',
    '    seccompProfile: RuntimeDefault',
    '    dropCapabilities: [ALL]',
    '    allowPrivilegeEscalation: false',
    '  fallback:',
    `    uidRange: "${uidRange}"`,
    '',
  ].join('\n');
}

/** min greater than max: the parser refuses it with the path spec.fallback.uidRange. */
export const BROKEN_POLICY = policyYaml('broken', '20000-1999');
