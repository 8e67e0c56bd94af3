// What the webhook's own patch must be, checked on its own terms rather than against a diff a
// library computes: it applies to the object as received, it touches only the paths the decision
// reports (its `injected` list, its `removed` list on a reinvocation, and the audit annotation that
// summarizes them), and every path it reports really is added (or removed).
import { INJECTED_ANNOTATION, type Operation } from '../../src/engine/index.js';
import { applyPatch } from './engine-fixtures.js';
import { leaves, valueAt } from './json-leaves.js';

export const INJECTED_POINTER = `/metadata/annotations/${INJECTED_ANNOTATION.replace('/', '~1')}`;

/** "spec.containers[1].securityContext.runAsUser" → "/spec/containers/1/securityContext/runAsUser". */
export function pointerOf(path: string): string {
  return `/${path.replace(/\[(\d+)\]/g, '.$1').split('.').join('/')}`;
}

function isAtOrUnder(pointer: string, root: string): boolean {
  return pointer === root || pointer.startsWith(`${root}/`);
}

/** The annotation's summary as injected fields are counted: pod-level names, and per-field container counts. */
function summaryOf(injected: readonly string[]): string[] {
  const pod = new Set<string>();
  const containers = new Map<string, number>();
  for (const path of injected) {
    const container = /^(?:.*\.)?(?:initContainers|containers|ephemeralContainers)\[\d+\]\.securityContext\.(.+)$/.exec(path);
    if (container !== null) containers.set(container[1]!, (containers.get(container[1]!) ?? 0) + 1);
    else pod.add(/securityContext\.(.+)$/.exec(path)?.[1] ?? path);
  }
  return [...[...pod].map((f) => `pod ${f}`), ...[...containers].map(([f, n]) => `containers ${f} (${n})`)].sort();
}

function parsedAnnotation(value: unknown): string[] | null {
  if (typeof value !== 'string') return null;
  const items: string[] = [];
  for (const section of value.split(';').map((s) => s.trim())) {
    const [name, fields] = section.split(': ');
    if ((name !== 'pod' && name !== 'containers') || fields === undefined) return null;
    for (const field of fields.split(', ')) items.push(`${name} ${field}`);
  }
  return items.sort();
}

export interface OwnPatchVerdict {
  /** The object with the patch applied; null when it did not apply. */
  readonly out: Record<string, unknown> | null;
  /** Every way the patch broke its contract; empty when it kept it. */
  readonly problems: readonly string[];
}

/**
 * Applies `decision.patch` to `object` (the raw object as received, RFC 6902 validation on) and
 * checks that the leaves it adds or changes lie at or under a reported path or the annotation,
 * that each reported path holds a value it did not hold before, and that the annotation (when
 * the object had none before) summarizes exactly the reported paths. `annotates` is false for
 * `kubectl debug` reviews (target ephemeralContainers), which cannot change the Pod's metadata.
 */
export function checkOwnPatch(
  object: Record<string, unknown>,
  decision: { readonly patch: readonly Operation[]; readonly injected: readonly string[]; readonly removed?: readonly string[]; readonly warnings: readonly string[] },
  annotates = true,
): OwnPatchVerdict {
  let out: Record<string, unknown>;
  try {
    out = applyPatch(object, decision.patch);
  } catch (error) {
    return { out: null, problems: [`the patch does not apply to the object as received: ${(error as Error).message}`] };
  }
  const problems: string[] = [];
  const reported = decision.injected.map(pointerOf);
  const removed = (decision.removed ?? []).map(pointerOf);
  for (const [pointer, value] of leaves(out)) {
    if (JSON.stringify(valueAt(object, pointer)) === JSON.stringify(value)) continue;
    if ((annotates && pointer === INJECTED_POINTER) || reported.some((root) => isAtOrUnder(pointer, root))) continue;
    // What a reported removal leaves behind: the map it emptied.
    if (JSON.stringify(value) === '{}' && removed.some((root) => isAtOrUnder(root, pointer))) continue;
    problems.push(`${pointer} changed but is not among the reported paths`);
  }
  for (const [path, pointer] of decision.injected.map((p) => [p, pointerOf(p)] as const)) {
    const before = valueAt(object, pointer);
    if (valueAt(out, pointer) === undefined) problems.push(`${path} is reported but not in the patched object`);
    // A list (capabilities.drop) may grow; anything else reported must have been unset.
    else if (before !== undefined && before !== null && !Array.isArray(before)) problems.push(`${path} is reported as added but was already set`);
  }
  for (const [pointer] of leaves(object)) {
    if (valueAt(out, pointer) !== undefined || (annotates && pointer === INJECTED_POINTER)) continue;
    if (!removed.some((root) => isAtOrUnder(pointer, root))) problems.push(`${pointer} was removed but is not among the reported removed paths`);
  }
  for (const pointer of removed) {
    if (valueAt(object, pointer) === undefined) problems.push(`${pointer} is reported as removed but was not set`);
    if (valueAt(out, pointer) !== undefined) problems.push(`${pointer} is reported as removed but is still set`);
  }
  const annotationBefore = valueAt(object, INJECTED_POINTER);
  const annotation = valueAt(out, INJECTED_POINTER);
  if (decision.injected.length === 0 && removed.length === 0) {
    if (decision.patch.length > 0) problems.push('a patch with nothing reported as injected');
  } else if (!annotates) {
    if (JSON.stringify(annotation) !== JSON.stringify(annotationBefore)) problems.push('the annotation changed in a review that cannot change metadata');
  } else if (annotation === undefined) {
    if (!decision.warnings.some((w) => w.includes(INJECTED_ANNOTATION))) problems.push('fields were injected, but there is no annotation and no warning saying why');
  } else if (annotationBefore === undefined) {
    const summary = parsedAnnotation(annotation);
    if (JSON.stringify(summary) !== JSON.stringify(summaryOf(decision.injected))) {
      problems.push(`the annotation ${JSON.stringify(annotation)} does not summarize the reported paths ${JSON.stringify(decision.injected)}`);
    }
  }
  return { out, problems };
}
