// What an enforce-mode policy denies: explicit values that break it. Only values the Pod set are
// judged; whatever the hardener would add is compliant by construction.
import { formatIdRange, idRangeContains } from './id-range.js';
import type { IdDefaults, IdRange, NamespaceInfo, Violation } from './model.js';
import type { ContainerRef } from './pod-containers.js';
import { isPlainMap, type PlainMap } from './policy-reader.js';

export interface EnforceContext {
  readonly ids: IdDefaults | null;
  readonly namespace: NamespaceInfo;
  readonly policyName: string;
  readonly specPath: string;
}

function allowedRange(context: EnforceContext, range: IdRange): string {
  const ids = context.ids!;
  return `the range ${formatIdRange(range)} allowed in namespace "${context.namespace.name}" (${ids.source})`;
}

/** runAsUser/runAsGroup/fsGroup/supplementalGroups against the namespace's ranges, and root. */
function judgeIds(sc: PlainMap, who: string, path: string, context: EnforceContext, container: string | undefined, out: Violation[]): void {
  const checks: [string, IdRange | undefined][] = [
    ['runAsUser', context.ids?.uidRange],
    ['runAsGroup', context.ids?.gidRange],
  ];
  if (container === undefined) checks.push(['fsGroup', context.ids?.gidRange]);
  for (const [field, range] of checks) {
    const value = sc[field];
    if (typeof value !== 'number') continue;
    const fieldPath = `${path}.securityContext.${field}`;
    const base = { path: fieldPath, ...(container !== undefined ? { container } : {}) };
    if (range !== undefined && !idRangeContains(range, value)) {
      out.push({ ...base, message: `${who}: securityContext.${field} ${value} is outside ${allowedRange(context, range)}` });
    } else if (range === undefined && field === 'runAsUser' && value === 0) {
      out.push({ ...base, message: `${who}: securityContext.runAsUser 0 runs as root, which policy "${context.policyName}" does not allow; use a non-zero UID` });
    }
  }
  const groups = container === undefined ? sc['supplementalGroups'] : undefined;
  const gidRange = context.ids?.gidRange;
  if (Array.isArray(groups) && gidRange !== undefined) {
    groups.forEach((group: unknown, index) => {
      if (typeof group === 'number' && !idRangeContains(gidRange, group)) {
        out.push({
          path: `${path}.securityContext.supplementalGroups[${index}]`,
          message: `${who}: securityContext.supplementalGroups ${group} is outside ${allowedRange(context, gidRange)}`,
        });
      }
    });
  }
}

function judgeFlags(sc: PlainMap, who: string, path: string, context: EnforceContext, container: string | undefined, out: Violation[]): void {
  const base = (field: string) => ({ path: `${path}.securityContext.${field}`, ...(container !== undefined ? { container } : {}) });
  const deny = `policy "${context.policyName}" does not allow it`;
  if (sc['runAsNonRoot'] === false) out.push({ ...base('runAsNonRoot'), message: `${who}: securityContext.runAsNonRoot false: ${deny}; remove it or set true` });
  if (container === undefined) return;
  if (sc['allowPrivilegeEscalation'] === true) {
    out.push({ ...base('allowPrivilegeEscalation'), message: `${who}: securityContext.allowPrivilegeEscalation true: ${deny}; remove it or set false` });
  }
  if (sc['privileged'] === true) out.push({ ...base('privileged'), message: `${who}: securityContext.privileged true: ${deny}; remove it or set false` });
}

/** Every violation in the pod-level securityContext (when judged) and the given containers. */
export function findViolations(podSecurityContext: unknown, containers: readonly ContainerRef[], context: EnforceContext): Violation[] {
  const violations: Violation[] = [];
  if (isPlainMap(podSecurityContext)) {
    judgeIds(podSecurityContext, 'Pod', context.specPath, context, undefined, violations);
    judgeFlags(podSecurityContext, 'Pod', context.specPath, context, undefined, violations);
  }
  for (const { label, name, container } of containers) {
    const sc = container['securityContext'];
    if (!isPlainMap(sc)) continue;
    const who = `container "${name}"`;
    const path = `${context.specPath}.${label}`;
    judgeIds(sc, who, path, context, name, violations);
    judgeFlags(sc, who, path, context, name, violations);
  }
  return violations;
}
