// On reinvocation (reinvocationPolicy: IfNeeded) the API server calls the webhook again with the
// Pod as an earlier call left it plus what later webhooks added, e.g. a mesh sidecar. Which
// Pod-level IDs that earlier call put there is read from the injected annotation, the only record
// a pure engine has. The Pod's author can write that annotation too (on create, before any call of
// ours), so it is believed only as far as believing a forgery cannot weaken anything: a field
// counts as ours only where the annotation names it AND it holds exactly the value this policy
// injects in this namespace. What the hardener then does with such a field (pod-hardener.ts) never
// changes what reaches a container it hardens; it only stops the value reaching a container that
// keeps its image's user, which the author could have had by leaving the field out.
import { parseInjectedAnnotation } from './injected-annotation.js';
import { INJECTED_ANNOTATION, type IdDefaults, type PodDefaults } from './model.js';
import type { JsonObject } from '../foundation/json-object.js';

export type PodIdentityField = 'runAsUser' | 'runAsGroup' | 'runAsNonRoot';

const IDENTITY_FIELDS: readonly PodIdentityField[] = ['runAsUser', 'runAsGroup', 'runAsNonRoot'];
const NONE: ReadonlySet<PodIdentityField> = new Set();

/** The value this policy injects at Pod level for `field`, or undefined when it injects none. */
function injectedValue(field: PodIdentityField, ids: IdDefaults | null, defaults: PodDefaults): unknown {
  if (field === 'runAsNonRoot') return defaults.runAsNonRoot ? true : undefined;
  if (ids === null) return undefined;
  return field === 'runAsUser' ? ids.uidRange.min : ids.gidRange.min;
}

/**
 * The Pod-level identity fields of `podSecurityContext` that an earlier call of this webhook
 * injected, as far as the annotation shows and the values match (see above); empty on a first call.
 */
export function earlierPodIdentity(
  podSecurityContext: JsonObject,
  annotations: Readonly<Record<string, unknown>>,
  ids: IdDefaults | null,
  defaults: PodDefaults,
): ReadonlySet<PodIdentityField> {
  // Most Pods on a first call hold none of these values: nothing is built or parsed for them.
  let candidates: PodIdentityField[] | null = null;
  for (const field of IDENTITY_FIELDS) {
    const value = injectedValue(field, ids, defaults);
    if (value !== undefined && podSecurityContext[field] === value) (candidates ??= []).push(field);
  }
  if (candidates === null) return NONE;
  const annotation = annotations[INJECTED_ANNOTATION];
  if (typeof annotation !== 'string') return NONE;
  const recorded = parseInjectedAnnotation(annotation);
  if (recorded === null) return NONE;
  const ours = candidates.filter((field) => recorded.podFields.has(field));
  return ours.length === 0 ? NONE : new Set(ours);
}
