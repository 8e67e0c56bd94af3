// What an enforce-mode policy refuses: explicit values that break it. Only values the Pod set are
// judged; whatever the hardener would add is compliant by construction. The Pod is read through
// the same view, and the offenders found by the same Pod Security Standards checks, that `check`
// runs (src/engine/restricted/), so a container has one name and one path in every message; the
// namespace's UID/GID ranges are judged beside them.
import { formatIdRange, idRangeContains } from './id-range.js';
import type { IdDefaults, IdRange, NamespaceInfo, Violation, ViolationReason } from './model.js';
import type { PodSecurityCheck } from './restricted/check.js';
import { LATEST_POLICY_MINOR } from './restricted/policy-version.js';
import { allowPrivilegeEscalationCheck } from './restricted/checks/allow-privilege-escalation.js';
import { privilegedCheck } from './restricted/checks/privileged.js';
import { runAsNonRootCheck } from './restricted/checks/run-as-non-root.js';
import { runAsUserCheck } from './restricted/checks/run-as-user.js';
import { readPodView, type ContainerView, type PodView } from './restricted/pod-view.js';
import { type JsonObject } from '../foundation/json-object.js';

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

/**
 * A PSS check's offending fields whose value the Pod set to `refused` (not merely left unset).
 * The check runs only when some field holds that value: most Pods set none, and pay nothing.
 */
function explicitOffenders(check: PodSecurityCheck, pod: PodView, field: string, refused: unknown): Set<string> {
  const candidates = new Set<string>();
  if (pod.securityContext?.[field] === refused) candidates.add(`spec.securityContext.${field}`);
  for (const container of pod.containers) if (container.securityContext?.[field] === refused) candidates.add(`${container.path}.securityContext.${field}`);
  if (candidates.size === 0) return candidates;
  const offenders = new Set<string>();
  // Enforce judges by the newest rules (user-namespace exemptions included), as a namespace on
  // enforce-version latest does.
  for (const path of check.evaluate(pod, LATEST_POLICY_MINOR)?.paths ?? []) if (candidates.has(path)) offenders.add(path);
  return offenders;
}

function allowedRange(context: EnforceContext, range: IdRange): string {
  return `the range ${formatIdRange(range)} allowed in namespace "${context.namespace.name}" (${context.ids?.source ?? ''})`;
}

export function findViolations(podLike: unknown, context: EnforceContext): Violation[] {
  const fullView = readPodView(podLike);
  if (fullView === undefined) return [];
  const containers = fullView.containers.filter(context.judgeContainer);
  const view: PodView =
    context.judgePod && containers.length === fullView.containers.length
      ? fullView
      : { ...fullView, securityContext: context.judgePod ? fullView.securityContext : undefined, containers };
  const root = explicitOffenders(runAsUserCheck, view, 'runAsUser', 0);
  const nonRootFalse = explicitOffenders(runAsNonRootCheck, view, 'runAsNonRoot', false);
  const escalation = explicitOffenders(allowPrivilegeEscalationCheck, view, 'allowPrivilegeEscalation', true);
  const privileged = explicitOffenders(privilegedCheck, view, 'privileged', true);
  const prefix = context.basePath === '' ? '' : `${context.basePath}.`;
  const deny = `policy "${context.policyName}" does not allow it`;
  const flagged = root.size + nonRootFalse.size + escalation.size + privileged.size > 0;
  const uidRange = context.ids?.uidRange;
  const gidRange = context.ids?.gidRange;
  const violations: Violation[] = [];

  // Called for every container of every Pod: nothing is built unless a value is wrong.
  const judge = (sc: JsonObject | undefined, who: string, path: string, container: ContainerView | undefined): void => {
    if (sc === undefined) return;
    const push = (field: string, reason: ViolationReason, message: string, fieldPath = `${path}.securityContext.${field}`): void => {
      violations.push({ path: prefix + fieldPath, reason, ...(container !== undefined ? { container: container.name } : {}), message: `${who}: ${message}` });
    };
    const judgeId = (field: string, range: IdRange | undefined, reason: ViolationReason): void => {
      const value = sc[field];
      if (typeof value !== 'number') return;
      if (range !== undefined && !idRangeContains(range, value)) {
        push(field, reason, `securityContext.${field} ${value} is outside ${allowedRange(context, range)}`);
      } else if (range === undefined && field === 'runAsUser' && value === 0 && root.has(`${path}.securityContext.runAsUser`)) {
        push(field, 'runAsUser', `securityContext.runAsUser 0 runs as root, which policy "${context.policyName}" does not allow; use a non-zero UID`);
      }
    };
    judgeId('runAsUser', uidRange, 'uidRange');
    judgeId('runAsGroup', gidRange, 'gidRange');
    if (container === undefined) {
      judgeId('fsGroup', gidRange, 'gidRange');
      const groups = sc['supplementalGroups'];
      if (Array.isArray(groups) && gidRange !== undefined) {
        groups.forEach((group: unknown, index) => {
          if (typeof group === 'number' && !idRangeContains(gidRange, group)) {
            push('supplementalGroups', 'gidRange', `securityContext.supplementalGroups ${group} is outside ${allowedRange(context, gidRange)}`, `${path}.securityContext.supplementalGroups[${index}]`);
          }
        });
      }
    }
    if (!flagged) return;
    const at = `${path}.securityContext.`;
    if (nonRootFalse.has(`${at}runAsNonRoot`)) push('runAsNonRoot', 'runAsNonRoot', `securityContext.runAsNonRoot false: ${deny}; remove it or set true`);
    if (escalation.has(`${at}allowPrivilegeEscalation`)) {
      push('allowPrivilegeEscalation', 'allowPrivilegeEscalation', `securityContext.allowPrivilegeEscalation true: ${deny}; remove it or set false`);
    }
    if (privileged.has(`${at}privileged`)) push('privileged', 'privileged', `securityContext.privileged true: ${deny}; remove it or set false`);
  };

  judge(view.securityContext, 'Pod', 'spec', undefined);
  for (const container of view.containers) judge(container.securityContext, `container "${container.name}"`, container.path, container);
  return violations;
}
