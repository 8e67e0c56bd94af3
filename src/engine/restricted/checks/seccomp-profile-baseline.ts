// If a seccomp profile is set, it must be the runtime default or a localhost profile.
// Restricted fields: seccompProfile.type at pod and container level.
// Allowed: undefined, "RuntimeDefault", "Localhost".
import type { CheckOutcome, PodSecurityCheck } from '../check.js';
import { asString, describeContainers, joinQuote, sortedUnique } from '../pod-view.js';
import type { PodView } from '../pod-view.js';
import { asJsonObject, type JsonObject } from '../../../foundation/json-object.js';

/** The seccomp type a security context sets ("" when the profile has no type), or undefined. */
export function seccompType(securityContext: JsonObject | undefined): string | undefined {
  const profile = asJsonObject(securityContext?.['seccompProfile']);
  return profile === undefined ? undefined : (asString(profile['type']) ?? '');
}

export function validSeccompType(type: string): boolean {
  return type === 'RuntimeDefault' || type === 'Localhost';
}

/** The pod and the containers that explicitly set a seccomp type other than the allowed ones. */
export function findExplicitlyBadSeccomp(pod: PodView): CheckOutcome | null {
  const setters: string[] = [];
  const badValues: string[] = [];
  const paths: string[] = [];
  const podType = seccompType(pod.securityContext);
  if (podType !== undefined && !validSeccompType(podType)) {
    setters.push('pod');
    badValues.push(podType);
    paths.push('spec.securityContext.seccompProfile.type');
  }
  const badContainers: string[] = [];
  for (const container of pod.containers) {
    const type = seccompType(container.securityContext);
    if (type !== undefined && !validSeccompType(type)) {
      badContainers.push(container.name);
      badValues.push(type);
      paths.push(`${container.path}.securityContext.seccompProfile.type`);
    }
  }
  if (badContainers.length > 0) {
    setters.push(describeContainers(badContainers));
  }
  if (setters.length === 0) {
    return null;
  }
  return {
    reason: 'seccompProfile',
    message: `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedUnique(badValues))}`,
    paths,
  };
}

export const seccompProfileBaselineCheck: PodSecurityCheck = {
  id: 'seccompProfile',
  level: 'baseline',
  evaluate: findExplicitlyBadSeccomp,
};
