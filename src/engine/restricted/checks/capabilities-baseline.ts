// Adding NET_RAW or capabilities beyond the container runtime's default set must be disallowed.
// Restricted fields: containers[*].securityContext.capabilities.add (all container kinds).
// Allowed: undefined, empty, or members of BASELINE_ALLOWED_CAPABILITIES.
import type { PodSecurityCheck } from '../check.js';
import { asArray, describeContainers, displayValue, joinQuote, sortedUnique } from '../pod-view.js';
import { asJsonObject } from '../../../foundation/json-object.js';

export const BASELINE_ALLOWED_CAPABILITIES: ReadonlySet<string> = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

export const capabilitiesBaselineCheck: PodSecurityCheck = {
  id: 'capabilities',
  level: 'baseline',
  evaluate(pod) {
    const badContainers: string[] = [];
    const badCapabilities: string[] = [];
    const paths: string[] = [];
    for (const container of pod.containers) {
      const added = asArray(asJsonObject(container.securityContext?.['capabilities'])?.['add']);
      let containerIsBad = false;
      added.forEach((entry, index) => {
        const capability = displayValue(entry);
        if (!BASELINE_ALLOWED_CAPABILITIES.has(capability)) {
          containerIsBad = true;
          badCapabilities.push(capability);
          paths.push(`${container.path}.securityContext.capabilities.add[${index}]`);
        }
      });
      if (containerIsBad) {
        badContainers.push(container.name);
      }
    }
    if (badContainers.length === 0) {
      return null;
    }
    return {
      reason: 'non-default capabilities',
      message: `${describeContainers(badContainers)} must not include ${joinQuote(sortedUnique(badCapabilities))} in securityContext.capabilities.add`,
      paths,
    };
  },
};
