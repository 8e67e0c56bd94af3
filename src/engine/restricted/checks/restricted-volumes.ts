// Beyond forbidding hostPath, the restricted profile allows only the core volume types that do
// not reach node or network storage directly; other storage must come through a PersistentVolume.
// Restricted field: spec.volumes[*]. Allowed: configMap, csi, downwardAPI, emptyDir, ephemeral,
// image, persistentVolumeClaim, projected, secret.
import type { PodSecurityCheck } from '../check.js';
import { asArray, asString, joinQuote, pluralize, sortedUnique } from '../pod-view.js';
import { asJsonObject } from '../../../foundation/json-object.js';

export const ALLOWED_VOLUME_TYPES: ReadonlySet<string> = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'image',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

export const restrictedVolumesCheck: PodSecurityCheck = {
  id: 'restrictedVolumes',
  level: 'restricted',
  overrides: ['hostPathVolumes'],
  evaluate(pod) {
    const badVolumes: string[] = [];
    const badTypes: string[] = [];
    const paths: string[] = [];
    asArray(pod.spec['volumes']).forEach((entry, index) => {
      const volume = asJsonObject(entry) ?? {};
      const types = Object.keys(volume).filter((key) => key !== 'name' && volume[key] !== null && volume[key] !== undefined);
      if (types.some((type) => ALLOWED_VOLUME_TYPES.has(type))) {
        return;
      }
      const type = types[0] ?? 'unknown';
      badVolumes.push(asString(volume['name']) ?? `volumes[${index}]`);
      badTypes.push(type);
      paths.push(types[0] === undefined ? `spec.volumes[${index}]` : `spec.volumes[${index}].${type}`);
    });
    if (badVolumes.length === 0) {
      return null;
    }
    const types = sortedUnique(badTypes);
    return {
      reason: 'restricted volume types',
      message: `${pluralize('volume', 'volumes', badVolumes.length)} ${joinQuote(badVolumes)} ${pluralize('uses', 'use', badVolumes.length)} ${pluralize('restricted volume type', 'restricted volume types', types.length)} ${joinQuote(types)}`,
      paths,
    };
  },
};
