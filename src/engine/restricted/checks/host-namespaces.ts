// Sharing the host namespaces must be disallowed.
// Restricted fields: spec.hostNetwork, spec.hostPID, spec.hostIPC. Allowed: false, undefined.
import type { PodSecurityCheck } from '../check.js';

// PSA's order, not alphabetical.
const HOST_NAMESPACE_FIELDS = ['hostNetwork', 'hostPID', 'hostIPC'] as const;

export const hostNamespacesCheck: PodSecurityCheck = {
  id: 'hostNamespaces',
  level: 'baseline',
  evaluate(pod) {
    const shared = HOST_NAMESPACE_FIELDS.filter((field) => pod.spec[field] === true);
    if (shared.length === 0) {
      return null;
    }
    return {
      reason: 'host namespaces',
      message: `pod must not set ${shared.map((field) => `${field}=true`).join(', ')}`,
      paths: shared.map((field) => `spec.${field}`),
    };
  },
};
