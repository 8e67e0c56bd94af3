// The default /proc masks must be kept, even for Pods in their own user namespace.
// Restricted field: containers[*].securityContext.procMount. Allowed: undefined, "Default".
// Policy v1.35+, where the baseline check it overrides started to allow anything for Pods in their
// own user namespace; before, the baseline check alone refused the same values for every Pod.
import type { CheckOutcome, PodSecurityCheck } from '../check.js';
import { describeContainers, displayValue, joinQuote, sortedUnique } from '../pod-view.js';
import type { PodView } from '../pod-view.js';

export function findUnmaskedProcMounts(pod: PodView): CheckOutcome | null {
  const badContainers: string[] = [];
  const badTypes: string[] = [];
  const paths: string[] = [];
  for (const container of pod.containers) {
    const procMount = container.securityContext?.['procMount'];
    if (procMount === undefined || procMount === null || procMount === 'Default') {
      continue;
    }
    badContainers.push(container.name);
    badTypes.push(displayValue(procMount));
    paths.push(`${container.path}.securityContext.procMount`);
  }
  if (badContainers.length === 0) {
    return null;
  }
  return {
    reason: 'procMount',
    message: `${describeContainers(badContainers)} must not set securityContext.procMount to ${joinQuote(sortedUnique(badTypes))}`,
    paths,
  };
}

export const procMountRestrictedCheck: PodSecurityCheck = {
  id: 'procMount',
  level: 'restricted',
  overrides: ['procMount'],
  sinceMinor: 35,
  evaluate: findUnmaskedProcMounts,
};
