// Containers must run as non-root users.
// Restricted fields: runAsNonRoot at pod and container level. Allowed: true; a container may
// leave it undefined when the pod level sets true. Skipped for Pods in their own user namespace
// (spec.hostUsers=false, policy v1.35+), where root in the container is not root on the node.
import type { PodSecurityCheck } from '../check.js';
import { describeContainers } from '../pod-view.js';

/**
 * The first policy version exempting Pods in their own user namespace (spec.hostUsers: false) from
 * runAsNonRoot, runAsUser and the baseline procMount check. Before 1.35 the exemption sat behind a
 * perma-alpha feature gate, which PSA dropped and replaced by this version (KEP-127).
 */
export const USER_NAMESPACE_RELAXATION_MINOR = 35;

export const runAsNonRootCheck: PodSecurityCheck = {
  id: 'runAsNonRoot',
  level: 'restricted',
  evaluate(pod, minor) {
    if (pod.inUserNamespace && minor >= USER_NAMESPACE_RELAXATION_MINOR) {
      return null;
    }
    const setters: string[] = [];
    const explicitPaths: string[] = [];
    const podValue = pod.securityContext?.['runAsNonRoot'];
    if (podValue === false) {
      setters.push('pod');
      explicitPaths.push('spec.securityContext.runAsNonRoot');
    }
    const podRunsAsNonRoot = podValue === true;
    const explicitlyBad = pod.containers.filter((c) => c.securityContext?.['runAsNonRoot'] === false);
    const implicitlyBad = pod.containers.filter(
      (c) => typeof c.securityContext?.['runAsNonRoot'] !== 'boolean' && !podRunsAsNonRoot,
    );
    if (explicitlyBad.length > 0) {
      setters.push(describeContainers(explicitlyBad.map((c) => c.name)));
      explicitPaths.push(...explicitlyBad.map((c) => `${c.path}.securityContext.runAsNonRoot`));
    }
    if (setters.length > 0) {
      return {
        reason: 'runAsNonRoot != true',
        message: `${setters.join(' and ')} must not set securityContext.runAsNonRoot=false`,
        paths: explicitPaths,
      };
    }
    if (implicitlyBad.length > 0) {
      return {
        reason: 'runAsNonRoot != true',
        message: `pod or ${describeContainers(implicitlyBad.map((c) => c.name))} must set securityContext.runAsNonRoot=true`,
        paths: implicitlyBad.map((c) => `${c.path}.securityContext.runAsNonRoot`),
      };
    }
    return null;
  },
};
