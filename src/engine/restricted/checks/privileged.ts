// Privileged Pods disable most security mechanisms and must be disallowed.
// Restricted fields: {containers,initContainers,ephemeralContainers}[*].securityContext.privileged.
// Allowed: false, undefined.
import type { PodSecurityCheck } from '../check.js';
import { describeContainers } from '../pod-view.js';

export const privilegedCheck: PodSecurityCheck = {
  id: 'privileged',
  level: 'baseline',
  evaluate(pod) {
    const bad = pod.containers.filter((c) => c.securityContext?.['privileged'] === true);
    if (bad.length === 0) {
      return null;
    }
    return {
      reason: 'privileged',
      message: `${describeContainers(bad.map((c) => c.name))} must not set securityContext.privileged=true`,
      paths: bad.map((c) => `${c.path}.securityContext.privileged`),
    };
  },
};
