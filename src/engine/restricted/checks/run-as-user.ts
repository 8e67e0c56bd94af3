// Containers must not run as UID 0.
// Restricted fields: runAsUser at pod and container level. Allowed: non-zero, undefined.
// Skipped for Pods in their own user namespace (spec.hostUsers=false, policy v1.35+).
import type { PodSecurityCheck } from '../check.js';
import { describeContainers } from '../pod-view.js';
import { USER_NAMESPACE_RELAXATION_MINOR } from './run-as-non-root.js';

export const runAsUserCheck: PodSecurityCheck = {
  id: 'runAsUser',
  level: 'restricted',
  evaluate(pod, minor) {
    if (pod.inUserNamespace && minor >= USER_NAMESPACE_RELAXATION_MINOR) {
      return null;
    }
    const setters: string[] = [];
    const paths: string[] = [];
    if (pod.securityContext?.['runAsUser'] === 0) {
      setters.push('pod');
      paths.push('spec.securityContext.runAsUser');
    }
    const bad = pod.containers.filter((c) => c.securityContext?.['runAsUser'] === 0);
    if (bad.length > 0) {
      setters.push(describeContainers(bad.map((c) => c.name)));
      paths.push(...bad.map((c) => `${c.path}.securityContext.runAsUser`));
    }
    if (setters.length === 0) {
      return null;
    }
    return {
      reason: 'runAsUser=0',
      message: `${setters.join(' and ')} must not set runAsUser=0`,
      paths,
    };
  },
};
