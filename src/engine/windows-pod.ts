// Windows Pods are left alone: the API server refuses Linux-only securityContext fields
// (runAsUser, seccompProfile, capabilities, …) on them, and UID ranges mean nothing there.
import { CONTAINER_LISTS, containersOf } from './pod-containers.js';
import { isJsonObject } from '../foundation/json-object.js';


const OS_LABELS = ['kubernetes.io/os', 'beta.kubernetes.io/os'];

/** True when a required node-selector term can only be satisfied by a Windows node. */
function termPinsWindows(term: unknown): boolean {
  if (!isJsonObject(term) || !Array.isArray(term['matchExpressions'])) return false;
  return term['matchExpressions'].some(
    (expression: unknown) =>
      isJsonObject(expression) &&
      OS_LABELS.includes(String(expression['key'])) &&
      expression['operator'] === 'In' &&
      Array.isArray(expression['values']) &&
      expression['values'].length > 0 &&
      expression['values'].every((value: unknown) => value === 'windows'),
  );
}

function requiredAffinityPinsWindows(spec: Record<string, unknown>): boolean {
  const affinity = spec['affinity'];
  const nodeAffinity = isJsonObject(affinity) ? affinity['nodeAffinity'] : undefined;
  const required = isJsonObject(nodeAffinity) ? nodeAffinity['requiredDuringSchedulingIgnoredDuringExecution'] : undefined;
  const terms = isJsonObject(required) ? required['nodeSelectorTerms'] : undefined;
  // Terms are ORed: the Pod is pinned only if every one of them demands Windows.
  return Array.isArray(terms) && terms.length > 0 && terms.every(termPinsWindows);
}

/** HostProcess containers run directly on a Windows host; no Linux node runs them as such. */
function isHostProcess(securityContext: unknown): boolean {
  if (!isJsonObject(securityContext)) return false;
  const options = securityContext['windowsOptions'];
  return isJsonObject(options) && options['hostProcess'] === true;
}

/**
 * Why this Pod spec is a Windows Pod, or null for a Linux (or unspecified) Pod. Only what puts the
 * Pod on a Windows node counts: spec.os.name (the kubelet refuses a Pod of another OS), the node
 * selector or required node affinity on the OS label (the scheduler and the kubelet enforce both),
 * or a HostProcess container. windowsOptions alone does not: a Linux node ignores it, so honouring
 * it would let any Pod switch the hardening off with `windowsOptions: {}`.
 */
export function windowsPodReason(spec: Record<string, unknown>): string | null {
  const os = spec['os'];
  if (isJsonObject(os) && os['name'] === 'windows') return 'Windows Pod (spec.os.name: windows)';
  const nodeSelector = spec['nodeSelector'];
  if (isJsonObject(nodeSelector)) {
    for (const label of OS_LABELS) {
      if (nodeSelector[label] === 'windows') return `Windows Pod (nodeSelector ${label}: windows)`;
    }
  }
  if (requiredAffinityPinsWindows(spec)) return 'Windows Pod (required node affinity pins kubernetes.io/os to windows)';
  if (isHostProcess(spec['securityContext'])) return 'Windows Pod (spec.securityContext.windowsOptions.hostProcess: true)';
  const hostProcess = containersOf(spec, CONTAINER_LISTS).find((ref) => isHostProcess(ref.container['securityContext']));
  if (hostProcess !== undefined) return `Windows Pod (${hostProcess.list} "${hostProcess.name}" is a HostProcess container)`;
  return null;
}
