// The `secure-defaults.io/injected` annotation: an audit record of what was added, e.g.
//   pod: runAsUser, runAsGroup, fsGroup, seccompProfile; containers: allowPrivilegeEscalation (3), capabilities.drop (3)
// Container fields carry counts rather than names, so the value stays short for 50 containers.
import type { Injection } from './pod-hardener.js';

interface InjectedSummary {
  /** A Set, not a list searched per field: the annotation comes from the Pod's author and can hold 60,000 names. */
  readonly podFields: Set<string>;
  readonly containerCounts: Map<string, number>;
}

const POD_SECTION = 'pod: ';
const CONTAINER_SECTION = 'containers: ';
const COUNTED_FIELD = /^([A-Za-z][A-Za-z.]*) \((\d{1,9})\)$/;
const FIELD = /^[A-Za-z][A-Za-z.]*$/;

/** The summary in an existing annotation value, or null when it is not in our format. */
export function parseInjectedAnnotation(value: string): InjectedSummary | null {
  const summary: InjectedSummary = { podFields: new Set(), containerCounts: new Map() };
  if (value.trim() === '') return summary;
  for (const rawSection of value.split(';')) {
    const section = rawSection.trim();
    if (section.startsWith(POD_SECTION.trim())) {
      for (const field of section.slice(POD_SECTION.trim().length).split(',').map((f) => f.trim())) {
        if (!FIELD.test(field)) return null;
        summary.podFields.add(field);
      }
    } else if (section.startsWith(CONTAINER_SECTION.trim())) {
      for (const item of section.slice(CONTAINER_SECTION.trim().length).split(',').map((f) => f.trim())) {
        const match = COUNTED_FIELD.exec(item);
        if (match === null) return null;
        const field = match[1]!;
        summary.containerCounts.set(field, (summary.containerCounts.get(field) ?? 0) + Number(match[2]));
      }
    } else {
      return null;
    }
  }
  return summary;
}

function formatSummary(summary: InjectedSummary): string {
  const sections: string[] = [];
  if (summary.podFields.size > 0) sections.push(`${POD_SECTION}${[...summary.podFields].join(', ')}`);
  if (summary.containerCounts.size > 0) {
    const items = [...summary.containerCounts].map(([field, count]) => `${field} (${count})`);
    sections.push(`${CONTAINER_SECTION}${items.join(', ')}`);
  }
  return sections.join('; ');
}

/**
 * The new annotation value: what an earlier invocation recorded (when readable) plus this one's
 * injections, less the pod-level fields this one moved to the containers (`movedFromPod`). Each
 * container field is added at most once per container, so counts can be summed.
 */
export function mergeInjectedAnnotation(
  existing: string | undefined,
  injections: readonly Injection[],
  movedFromPod: readonly string[] = [],
): { value: string; replacedUnreadable: boolean } {
  const parsed = existing === undefined ? null : parseInjectedAnnotation(existing);
  const summary = parsed ?? { podFields: new Set<string>(), containerCounts: new Map<string, number>() };
  for (const field of movedFromPod) summary.podFields.delete(field);
  for (const injection of injections) {
    if (injection.scope === 'pod') {
      summary.podFields.add(injection.field);
    } else {
      summary.containerCounts.set(injection.field, (summary.containerCounts.get(injection.field) ?? 0) + 1);
    }
  }
  return { value: formatSummary(summary), replacedUnreadable: existing !== undefined && parsed === null };
}
