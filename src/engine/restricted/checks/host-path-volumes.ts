// HostPath volumes must be forbidden.
// Restricted field: spec.volumes[*].hostPath. Allowed: undefined.
import type { PodSecurityCheck } from '../check.js';
import { asArray, asString, joinQuote, pluralize } from '../pod-view.js';
import { asJsonObject } from '../../../foundation/json-object.js';

export const hostPathVolumesCheck: PodSecurityCheck = {
  id: 'hostPathVolumes',
  level: 'baseline',
  evaluate(pod) {
    const names: string[] = [];
    const paths: string[] = [];
    asArray(pod.spec['volumes']).forEach((entry, index) => {
      const volume = asJsonObject(entry);
      if (volume !== undefined && volume['hostPath'] !== undefined && volume['hostPath'] !== null) {
        names.push(asString(volume['name']) ?? `volumes[${index}]`);
        paths.push(`spec.volumes[${index}].hostPath`);
      }
    });
    if (names.length === 0) {
      return null;
    }
    return {
      reason: 'hostPath volumes',
      message: `${pluralize('volume', 'volumes', names.length)} ${joinQuote(names)} must not use hostPath`,
      paths,
    };
  },
};
