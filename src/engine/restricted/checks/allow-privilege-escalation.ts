// Privilege escalation (such as through set-user-ID or set-group-ID binaries) must be disallowed.
// Restricted field: containers[*].securityContext.allowPrivilegeEscalation (all container kinds).
// Allowed: false (unset counts as true). Linux-only since policy v1.25: Windows Pods are exempt.
import type { PodSecurityCheck } from '../check.js';
import { describeContainers } from '../pod-view.js';

export const allowPrivilegeEscalationCheck: PodSecurityCheck = {
  id: 'allowPrivilegeEscalation',
  level: 'restricted',
  evaluate(pod) {
    if (pod.isWindows) {
      return null;
    }
    const bad = pod.containers.filter((c) => c.securityContext?.['allowPrivilegeEscalation'] !== false);
    if (bad.length === 0) {
      return null;
    }
    return {
      reason: 'allowPrivilegeEscalation != false',
      message: `${describeContainers(bad.map((c) => c.name))} must set securityContext.allowPrivilegeEscalation=false`,
      paths: bad.map((c) => `${c.path}.securityContext.allowPrivilegeEscalation`),
    };
  },
};
