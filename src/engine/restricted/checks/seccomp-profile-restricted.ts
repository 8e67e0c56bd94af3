// A seccomp profile must be set, and only the runtime default or a localhost profile is allowed.
// Restricted fields: seccompProfile.type at pod and container level. Allowed: "RuntimeDefault",
// "Localhost"; a container may leave it undefined when the pod level sets an allowed one.
// Linux-only since policy v1.25: Pods with spec.os.name=windows are exempt.
import type { PodSecurityCheck } from '../check.js';
import { describeContainers } from '../pod-view.js';
import { findExplicitlyBadSeccomp, seccompType, validSeccompType } from './seccomp-profile-baseline.js';

export const seccompProfileRestrictedCheck: PodSecurityCheck = {
  id: 'seccompProfile',
  level: 'restricted',
  overrides: ['seccompProfile'],
  evaluate(pod) {
    if (pod.isWindows) {
      return null;
    }
    const explicit = findExplicitlyBadSeccomp(pod);
    if (explicit !== null) {
      return explicit;
    }
    const podType = seccompType(pod.securityContext);
    if (podType !== undefined && validSeccompType(podType)) {
      return null;
    }
    const unset = pod.containers.filter((c) => seccompType(c.securityContext) === undefined);
    if (unset.length === 0) {
      return null;
    }
    return {
      reason: 'seccompProfile',
      message: `pod or ${describeContainers(unset.map((c) => c.name))} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
      paths: unset.map((c) => `${c.path}.securityContext.seccompProfile.type`),
    };
  },
};
