// Windows HostProcess containers run with host access and must be disallowed.
// Restricted fields: securityContext.windowsOptions.hostProcess at pod and container level.
// Allowed: undefined, false.
import type { PodSecurityCheck } from '../check.js';
import { describeContainers } from '../pod-view.js';
import { asJsonObject, type JsonObject } from '../../../foundation/json-object.js';

function setsHostProcess(securityContext: JsonObject | undefined): boolean {
  return asJsonObject(securityContext?.['windowsOptions'])?.['hostProcess'] === true;
}

export const windowsHostProcessCheck: PodSecurityCheck = {
  id: 'windowsHostProcess',
  level: 'baseline',
  evaluate(pod) {
    const setters: string[] = [];
    const paths: string[] = [];
    if (setsHostProcess(pod.securityContext)) {
      setters.push('pod');
      paths.push('spec.securityContext.windowsOptions.hostProcess');
    }
    const bad = pod.containers.filter((c) => setsHostProcess(c.securityContext));
    if (bad.length > 0) {
      setters.push(describeContainers(bad.map((c) => c.name)));
      paths.push(...bad.map((c) => `${c.path}.securityContext.windowsOptions.hostProcess`));
    }
    if (setters.length === 0) {
      return null;
    }
    return {
      reason: 'hostProcess',
      message: `${setters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true`,
      paths,
    };
  },
};
