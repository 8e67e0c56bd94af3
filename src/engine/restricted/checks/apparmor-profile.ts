// Overriding or disabling the default AppArmor profile must be disallowed.
// Restricted fields: spec.securityContext.appArmorProfile.type and
// containers[*].securityContext.appArmorProfile.type (allowed: RuntimeDefault, Localhost, undefined);
// metadata.annotations["container.apparmor.security.beta.kubernetes.io/*"] (deprecated, still
// checked by PSA; allowed: "runtime/default", "localhost/*", empty, undefined).
import type { PodSecurityCheck } from '../check.js';
import { asString, describeContainers, joinQuote, pluralize, sortedUnique } from '../pod-view.js';
import { asJsonObject, type JsonObject } from '../../../foundation/json-object.js';

const ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

/** The profile type a security context sets, or undefined when it sets none. */
function profileType(securityContext: JsonObject | undefined): string | undefined {
  const profile = asJsonObject(securityContext?.['appArmorProfile']);
  if (profile === undefined) {
    return undefined;
  }
  return asString(profile['type']) ?? '';
}

function allowedType(type: string): boolean {
  return type === 'RuntimeDefault' || type === 'Localhost';
}

function allowedAnnotationValue(value: string): boolean {
  return value === '' || value === 'runtime/default' || value.startsWith('localhost/');
}

export const appArmorProfileCheck: PodSecurityCheck = {
  id: 'appArmorProfile',
  level: 'baseline',
  evaluate(pod) {
    const setters: string[] = [];
    const badValues: string[] = [];
    const paths: string[] = [];
    const podType = profileType(pod.securityContext);
    if (podType !== undefined && !allowedType(podType)) {
      setters.push('pod');
      badValues.push(podType);
      paths.push('spec.securityContext.appArmorProfile.type');
    }
    const badContainers: string[] = [];
    for (const container of pod.containers) {
      const type = profileType(container.securityContext);
      if (type !== undefined && !allowedType(type)) {
        badContainers.push(container.name);
        badValues.push(type);
        paths.push(`${container.path}.securityContext.appArmorProfile.type`);
      }
    }
    if (badContainers.length > 0) {
      setters.push(describeContainers(badContainers));
    }
    const badAnnotations = Object.entries(pod.annotations)
      .filter(([key, value]) => key.startsWith(ANNOTATION_PREFIX) && !allowedAnnotationValue(value))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [key] of badAnnotations) {
      paths.push(`metadata.annotations[${key}]`);
    }
    const forbiddenAnnotations = badAnnotations.map(([key, value]) => `${key}=${JSON.stringify(value)}`);
    if (forbiddenAnnotations.length > 0) {
      setters.push(pluralize('annotation', 'annotations', forbiddenAnnotations.length));
    }
    if (setters.length === 0) {
      return null;
    }
    const values = [...sortedUnique(badValues), ...forbiddenAnnotations];
    return {
      reason: pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', values.length),
      message: `${setters.join(' and ')} must not set AppArmor profile type to ${joinQuote(values)}`,
      paths,
    };
  },
};
