// What an enforce-mode policy refuses: explicit values that break it. Only values the Pod set are
// judged; whatever the hardener would add is compliant by construction. The Pod is read through
// the same view, and the offenders found by the same Pod Security Standards checks, that `check`
// runs (src/engine/restricted/), so a container has one name and one path in every message; the
// namespace's UID/GID ranges are judged beside them.
import { formatIdRange, idRangeContains } from './id-range.js';
import type { IdDefaults, IdRange, NamespaceInfo, Violation, ViolationReason } from './model.js';
import type { PodSecurityCheck } from './restricted/check.js';
import { allowPrivilegeEscalationCheck } from './restricted/checks/allow-privilege-escalation.js';
import { privilegedCheck } from './restricted/checks/privileged.js';
import { runAsNonRootCheck } from './restricted/checks/run-as-non-root.js';
import { runAsUserCheck } from './restricted/checks/run-as-user.js';
import { readPodView, type ContainerView, type JsonObject, type PodView } from './restricted/pod-view.js';

export interface EnforceContext {
  readonly ids: IdDefaults | null;
  readonly namespace: NamespaceInfo;
  readonly policyName: string;
  /** Where the Pod-like object sits: "" for a Pod, "spec.template" for a Deployment. */
  readonly basePath: string;
  /** Judge spec.securityContext too (not for `kubectl debug`, which cannot change it). */
  readonly judgePod: boolean;
  /** Which containers to judge (for `kubectl debug`: only the ones it adds). */
  readonly judgeContainer: (container: ContainerView) => boolean;
}

/** A PSS check's offending fields whose value the Pod set to `refused` (not merely left unset). */
function explicitOffenders(check: PodSecurityCheck, pod: PodView, field: string, refused: unknown): Set<string> {
  const offenders = new Set<string>();
  const outcome = check.evaluate(pod);
  if (outcome === null) return offenders;
  const byPath = new Map<string, JsonObject | undefined>([[`spec.securityContext.${field}`, pod.securityContext]]);
  for (const container of pod.containers) byPath.set(`${container.path}.securityContext.${field}`, container.securityContext);
  for (const path of outcome.paths) if (byPath.get(path)?.[field] === refused) offenders.add(path);
  return offenders;
}

function allowedRange(context: EnforceContext, range: IdRange): string {
  return `the range ${formatIdRange(range)} allowed in namespace "${context.namespace.name}" (${context.ids?.source ?? ''})`;
}

export function findViolations(podLike: unknown, context: EnforceContext): Violation[] {
  const fullView = readPodView(podLike);
  if (fullView === undefined) return [];
  const view: PodView = {
    ...fullView,
    securityContext: context.judgePod ? fullView.securityContext : undefined,
    containers: fullView.containers.filter(context.judgeContainer),
  };
  const root = explicitOffenders(runAsUserCheck, view, 'runAsUser', 0);
  const nonRootFalse = explicitOffenders(runAsNonRootCheck, view, 'runAsNonRoot', false);
  const escalation = explicitOffenders(allowPrivilegeEscalationCheck, view, 'allowPrivilegeEscalation', true);
  const privileged = explicitOffenders(privilegedCheck, view, 'privileged', true);
  const prefix = context.basePath === '' ? '' : `${context.basePath}.`;
  const deny = `policy "${context.policyName}" does not allow it`;
  const violations: Violation[] = [];

  const judge = (sc: JsonObject | undefined, who: string, path: string, container: ContainerView | undefined): void => {
    if (sc === undefined) return;
    const push = (field: string, reason: ViolationReason, message: string, fieldPath = `${path}.securityContext.${field}`): void => {
      violations.push({ path: prefix + fieldPath, reason, ...(container !== undefined ? { container: container.name } : {}), message: `${who}: ${message}` });
    };
    const ranges: [string, IdRange | undefined, ViolationReason][] = [
      ['runAsUser', context.ids?.uidRange, 'uidRange'],
      ['runAsGroup', context.ids?.gidRange, 'gidRange'],
    ];
    if (container === undefined) ranges.push(['fsGroup', context.ids?.gidRange, 'gidRange']);
    for (const [field, range, reason] of ranges) {
      const value = sc[field];
      if (typeof value !== 'number') continue;
      if (range !== undefined && !idRangeContains(range, value)) {
        push(field, reason, `securityContext.${field} ${value} is outside ${allowedRange(context, range)}`);
      } else if (range === undefined && field === 'runAsUser' && root.has(`${path}.securityContext.runAsUser`)) {
        push(field, 'runAsUser', `securityContext.runAsUser 0 runs as root, which policy "${context.policyName}" does not allow; use a non-zero UID`);
      }
    }
    const groups = container === undefined ? sc['supplementalGroups'] : undefined;
    const gidRange = context.ids?.gidRange;
    if (Array.isArray(groups) && gidRange !== undefined) {
      groups.forEach((group: unknown, index) => {
        if (typeof group === 'number' && !idRangeContains(gidRange, group)) {
          push('supplementalGroups', 'gidRange', `securityContext.supplementalGroups ${group} is outside ${allowedRange(context, gidRange)}`, `${path}.securityContext.supplementalGroups[${index}]`);
        }
      });
    }
    if (nonRootFalse.has(`${path}.securityContext.runAsNonRoot`)) push('runAsNonRoot', 'runAsNonRoot', `securityContext.runAsNonRoot false: ${deny}; remove it or set true`);
    if (escalation.has(`${path}.securityContext.allowPrivilegeEscalation`)) {
      push('allowPrivilegeEscalation', 'allowPrivilegeEscalation', `securityContext.allowPrivilegeEscalation true: ${deny}; remove it or set false`);
    }
    if (privileged.has(`${path}.securityContext.privileged`)) push('privileged', 'privileged', `securityContext.privileged true: ${deny}; remove it or set false`);
  };

  judge(view.securityContext, 'Pod', 'spec', undefined);
  for (const container of view.containers) judge(container.securityContext, `container "${container.name}"`, container.path, container);
  return violations;
}
