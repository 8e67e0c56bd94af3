// Containers must drop ALL capabilities, and may only add back NET_BIND_SERVICE.
// Restricted fields: containers[*].securityContext.capabilities.drop (must include "ALL") and
// .add (undefined, empty or "NET_BIND_SERVICE"), for all container kinds.
// Linux-only since policy v1.25: Pods with spec.os.name=windows are exempt.
import type { PodSecurityCheck } from '../check.js';
import { asArray, describeContainers, displayValue, joinQuote, sortedUnique } from '../pod-view.js';
import { asJsonObject } from '../../../foundation/json-object.js';

export const capabilitiesRestrictedCheck: PodSecurityCheck = {
  id: 'capabilities',
  level: 'restricted',
  overrides: ['capabilities'],
  evaluate(pod) {
    if (pod.isWindows) {
      return null;
    }
    const missingDropAll: string[] = [];
    const addingForbidden: string[] = [];
    const forbiddenCapabilities: string[] = [];
    const paths: string[] = [];
    for (const container of pod.containers) {
      const capabilities = asJsonObject(container.securityContext?.['capabilities']);
      const dropped = asArray(capabilities?.['drop']);
      if (!dropped.includes('ALL')) {
        missingDropAll.push(container.name);
        paths.push(`${container.path}.securityContext.capabilities.drop`);
      }
      let addsForbidden = false;
      asArray(capabilities?.['add']).forEach((entry, index) => {
        const capability = displayValue(entry);
        if (capability !== 'NET_BIND_SERVICE') {
          addsForbidden = true;
          forbiddenCapabilities.push(capability);
          paths.push(`${container.path}.securityContext.capabilities.add[${index}]`);
        }
      });
      if (addsForbidden) {
        addingForbidden.push(container.name);
      }
    }
    const details: string[] = [];
    if (missingDropAll.length > 0) {
      details.push(`${describeContainers(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`);
    }
    if (addingForbidden.length > 0) {
      details.push(
        `${describeContainers(addingForbidden)} must not include ${joinQuote(sortedUnique(forbiddenCapabilities))} in securityContext.capabilities.add`,
      );
    }
    if (details.length === 0) {
      return null;
    }
    return { reason: 'unrestricted capabilities', message: details.join('; '), paths };
  },
};
