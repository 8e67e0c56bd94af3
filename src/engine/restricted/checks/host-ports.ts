// HostPorts must be forbidden.
// Restricted field: containers[*].ports[*].hostPort (all container kinds). Allowed: undefined, 0.
import type { PodSecurityCheck } from '../check.js';
import { asArray, describeContainers, displayValue, pluralize } from '../pod-view.js';
import { asJsonObject } from '../../../foundation/json-object.js';

export const hostPortsCheck: PodSecurityCheck = {
  id: 'hostPorts',
  level: 'baseline',
  evaluate(pod) {
    const badContainers: string[] = [];
    const ports = new Set<string>();
    const paths: string[] = [];
    for (const container of pod.containers) {
      let containerIsBad = false;
      asArray(container.raw['ports']).forEach((entry, index) => {
        const hostPort = asJsonObject(entry)?.['hostPort'];
        if (hostPort !== undefined && hostPort !== null && hostPort !== 0) {
          containerIsBad = true;
          ports.add(displayValue(hostPort));
          paths.push(`${container.path}.ports[${index}].hostPort`);
        }
      });
      if (containerIsBad) {
        badContainers.push(container.name);
      }
    }
    if (badContainers.length === 0) {
      return null;
    }
    // PSA sorts the ports as strings, so "8080" sorts before "9".
    const portList = [...ports].sort();
    return {
      reason: 'hostPort',
      message: `${describeContainers(badContainers)} ${pluralize('uses', 'use', badContainers.length)} ${pluralize('hostPort', 'hostPorts', portList.length)} ${portList.join(', ')}`,
      paths,
    };
  },
};
