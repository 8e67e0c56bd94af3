// What the mutating endpoint does with one readable AdmissionRequest: decide whether it concerns
// us (Pod CREATE, ephemeral-container UPDATE), find the namespace and policy, ask the engine, and
// turn its decision into an answer. Every exit returns an answer plus the fields of the one log
// line written for it.
import { formatIdRange } from '../engine/id-range.js';
import type { AdmissionDecision, AdmissionInput, AdmissionTarget, IdDefaults, InjectedValue, LeftOutDefault } from '../engine/model.js';
import type { AdmissionOutcome } from './admission-pipeline.js';
import { allowed, cutText, denied, MAX_MESSAGE_CHARS, MAX_WARNING_CHARS, patched, shortenTo, type AdmissionAnswer } from './admission-responses.js';
import type { ReasonedWarnings } from '../engine/warning-reasons.js';
import type { AdmissionRequest } from './admission-review.js';
import { unableToJudge, type FailurePolicy } from './failure-policy.js';
import type { LogFields } from '../foundation/logger.js';
import { isOptedIn } from '../engine/namespace-opt-in.js';
import type { AdmissionResult, AllocatedBlocks, NamespaceDirectory, PolicySource } from '../ports/admission-ports.js';
import { isJsonObject } from '../foundation/json-object.js';


export interface PodAdmissionDeps {
  readonly policySource: PolicySource;
  readonly namespaces: NamespaceDirectory;
  readonly allocatedBlocks: AllocatedBlocks;
  readonly decideAdmission: (input: AdmissionInput) => AdmissionDecision;
  readonly failurePolicy: FailurePolicy;
}

/** Which part of a Pod this request may change, or null when the webhook has nothing to do with it. */
export function admissionTargetOf(request: AdmissionRequest): AdmissionTarget | null {
  if (request.resource.group !== '' || request.resource.resource !== 'pods') return null;
  if (request.operation === 'CREATE' && request.subResource === '') return 'pod';
  if (request.operation === 'UPDATE' && request.subResource === 'ephemeralcontainers') return 'ephemeralContainers';
  return null;
}


/** Why `object` cannot be treated as a Pod, or null when it can. */
export function notAPodReason(object: unknown): string | null {
  if (!isJsonObject(object)) return 'request.object is missing or not a JSON object; expected a Pod';
  if (object.kind !== undefined && object.kind !== 'Pod') return `request.object.kind is ${JSON.stringify(object.kind)}; expected "Pod"`;
  if (object.apiVersion !== undefined && object.apiVersion !== 'v1') return `request.object.apiVersion is ${JSON.stringify(object.apiVersion)}; expected "v1"`;
  if (object.metadata !== undefined && !isJsonObject(object.metadata)) return 'request.object.metadata is not an object';
  if (!isJsonObject(object.spec)) return 'request.object.spec is missing or not an object; expected a Pod spec';
  return null;
}

/**
 * More containers than the API server can store in one Pod. etcd takes at most 1.5 MiB per write
 * (--max-request-bytes); in the protobuf the API server stores, a container costs at least 54 bytes
 * (its name and image, the defaulted terminationMessagePath, terminationMessagePolicy and
 * imagePullPolicy, the always-written flags and resources), so no stored Pod has more than about
 * 29,000. A review with more is refused before any work is done on it.
 */
export const MAX_POD_CONTAINERS = 30_000;
const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/** Why a Pod spec is larger than any Pod the API server stores, or null. */
export function oversizedPodReason(spec: Record<string, unknown>): string | null {
  let total = 0;
  const counts: string[] = [];
  for (const list of CONTAINER_LISTS) {
    const value = spec[list];
    if (!Array.isArray(value)) continue;
    total += value.length;
    counts.push(`${value.length} ${list}`);
  }
  if (total <= MAX_POD_CONTAINERS) return null;
  return `request.object.spec has ${total} containers (${counts.join(', ')}), more than the ${MAX_POD_CONTAINERS} the API server can store in one Pod (etcd's 1.5 MiB limit); split the workload into several Pods`;
}

/** "path=value" per injected field, the value as JSON: one string type for log indexers, values included. */
export function injectedLogEntries(injected: readonly string[], values: readonly InjectedValue[] | undefined): string[] {
  if (values === undefined) return [...injected];
  return values.map(({ path, value }) => `${path}=${JSON.stringify(value)}`);
}

/** Which part of the policy chose the Pod's IDs, and the range, for the decision's log line. */
function ruleFields(ids: IdDefaults | null | undefined): LogFields {
  if (ids === undefined) return {};
  if (ids === null) return { rule: 'none' };
  return { rule: ids.source, uidRange: formatIdRange(ids.uidRange) };
}

function podNamespace(request: AdmissionRequest): string {
  if (request.namespace !== '') return request.namespace;
  const metadata = isJsonObject(request.object) && isJsonObject(request.object.metadata) ? request.object.metadata : {};
  return typeof metadata.namespace === 'string' ? metadata.namespace : '';
}

/** Paths and warnings listed in one log line; a Pod with 30,000 containers would make a line of megabytes. */
export const MAX_LOGGED_ITEMS = 50;

/** `{name: items}`, cut to MAX_LOGGED_ITEMS (each at most MAX_WARNING_CHARS) plus `{nameOmitted: n}` counting the rest. */
function boundedList(name: string, items: readonly string[]): LogFields {
  const shown = items.slice(0, MAX_LOGGED_ITEMS).map((item) => cutText(item, MAX_WARNING_CHARS));
  return items.length > MAX_LOGGED_ITEMS ? { [name]: shown, [`${name}Omitted`]: items.length - MAX_LOGGED_ITEMS } : { [name]: shown };
}

/** For the log line: what each container kept and why (and what warn mode would deny), at most this many entries. */
const MAX_LEFT_OUT_LOGGED = 20;
function leftOutLog(leftOut: readonly LeftOutDefault[] | undefined): LogFields {
  if (leftOut === undefined || leftOut.length === 0) return {};
  const shown = leftOut.slice(0, MAX_LEFT_OUT_LOGGED).map((entry) => `${entry.path} (${entry.container}): ${entry.fields.join(',')} left out: ${entry.reason}`);
  if (leftOut.length > MAX_LEFT_OUT_LOGGED) shown.push(`and ${leftOut.length - MAX_LEFT_OUT_LOGGED} more`);
  return { leftOut: shown };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function admitPod(request: AdmissionRequest, deps: PodAdmissionDeps): Promise<AdmissionOutcome> {
  const uid = request.uid;
  const target = admissionTargetOf(request);
  const outcome = (answer: AdmissionAnswer, result: AdmissionResult, log: LogFields, injected: readonly string[] = []): AdmissionOutcome => ({
    response: answer.response,
    warningReasons: answer.warningReasons,
    result,
    log,
    injected,
  });
  if (target === null) {
    const what = `${request.operation} ${request.resource.resource}${request.subResource ? `/${request.subResource}` : ''}`;
    return { ...outcome(allowed(uid), 'skipped', { reason: `${what} is not handled by this webhook; allowed unchanged` }), quiet: true };
  }
  const notAPod = notAPodReason(request.object);
  if (notAPod !== null) {
    return outcome(unableToJudge(uid, deps.failurePolicy, 400, notAPod), 'invalid', { reason: notAPod });
  }
  const oversized = oversizedPodReason((request.object as { spec: Record<string, unknown> }).spec);
  if (oversized !== null) return outcome(denied(uid, oversized), 'invalid', { reason: oversized });
  const namespaceName = podNamespace(request);
  if (namespaceName === '') {
    const reason = 'request.namespace is empty; a Pod always belongs to a namespace';
    return outcome(unableToJudge(uid, deps.failurePolicy, 400, reason), 'invalid', { reason });
  }
  const snapshot = deps.policySource.current();
  if (snapshot === null) {
    const reason = 'no valid policy has been loaded yet';
    return outcome(unableToJudge(uid, deps.failurePolicy, 503, reason), 'errored', { reason });
  }
  let policyFields: LogFields = { policy: snapshot.policy.name, policyGeneration: snapshot.generation };
  let namespace;
  try {
    namespace = await deps.namespaces.lookup(namespaceName);
  } catch (error) {
    const reason = `could not look up namespace "${namespaceName}": ${errorText(error)}`;
    return outcome(unableToJudge(uid, deps.failurePolicy, 503, reason), 'errored', { reason, ...policyFields });
  }
  if (namespace === null) {
    return outcome(allowed(uid), 'skipped', { reason: `namespace "${namespaceName}" does not exist; allowed unchanged`, ...policyFields });
  }
  const wait = await deps.allocatedBlocks.awaitAllocatedBlock(snapshot.policy, namespace, { dryRun: request.dryRun });
  if (wait.status === 'timeout') {
    return outcome(denied(uid, wait.message), 'denied', { reason: wait.message, ...policyFields });
  }
  namespace = wait.namespace ?? namespace;
  if (wait.status === 'ready') policyFields = { ...policyFields, waitedForBlockMs: wait.waitedMs };
  if (!isOptedIn(namespace)) {
    return outcome(allowed(uid), 'skipped', { reason: `namespace "${namespaceName}" has not opted in; allowed unchanged`, ...policyFields });
  }
  let decision: AdmissionDecision;
  try {
    // oldObject tells which ephemeral containers already exist: the API server refuses any change to
    // those, so only the one `kubectl debug` is adding may be hardened.
    decision = deps.decideAdmission({ policy: snapshot.policy, namespace, pod: request.object, oldPod: request.oldObject, target });
  } catch (error) {
    const reason = `the hardening engine failed: ${errorText(error)}`;
    return outcome(unableToJudge(uid, deps.failurePolicy, 500, reason), 'errored', { reason, ...policyFields });
  }
  const warnings: ReasonedWarnings = { texts: decision.warnings, reasons: decision.warningReasons };
  if (!decision.allowed) {
    return outcome(denied(uid, decision.message, { warnings }), 'denied', {
      reason: cutText(decision.message, MAX_MESSAGE_CHARS),
      ...boundedList('violations', decision.violations.map((v) => v.path)),
      ...leftOutLog(decision.leftOut),
      ...ruleFields(decision.ids),
      ...policyFields,
    });
  }
  if (decision.skipped !== undefined) {
    return outcome(allowed(uid, { warnings, auditAnnotations: { skipped: decision.skipped } }), 'skipped', {
      reason: decision.skipped,
      ...ruleFields(decision.ids),
      ...policyFields,
    });
  }
  const auditAnnotations: Record<string, string> = { policy: `${snapshot.policy.name}@${snapshot.generation}` };
  // Audit events are kept small: the full list is in the Pod's own injected annotation.
  if (decision.injected.length > 0) auditAnnotations.injected = shortenTo(decision.injected.join(','), 2048);
  const removed = decision.removed ?? [];
  if (removed.length > 0) auditAnnotations.removed = shortenTo(removed.join(','), 2048);
  const result: AdmissionResult = decision.patch.length > 0 ? 'patched' : 'allowed';
  const wouldDeny = decision.mode === 'warn' ? (decision.wouldDeny ?? []) : [];
  if (wouldDeny.length > 0) auditAnnotations.wouldDeny = shortenTo(wouldDeny.map((v) => v.path).join(','), 2048);
  const leftOut = decision.leftOut ?? [];
  if (leftOut.length > 0) auditAnnotations.leftOut = shortenTo(leftOut.map((entry) => `${entry.path}:${entry.reason}`).join(','), 2048);
  return {
    ...outcome(
      patched(uid, decision.patch, { warnings, auditAnnotations }),
      result,
      {
        ...boundedList('injected', injectedLogEntries(decision.injected, decision.injectedValues)),
        ...(removed.length > 0 ? { removed } : {}),
        ...boundedList('warnings', decision.warnings),
        ...leftOutLog(decision.leftOut),
        ...(wouldDeny.length > 0 ? { mode: 'warn', wouldDeny: wouldDeny.slice(0, MAX_LEFT_OUT_LOGGED).map((v) => v.path), wouldDenyCount: wouldDeny.length } : {}),
        ...ruleFields(decision.ids),
        ...policyFields,
      },
      decision.injected,
    ),
    ...(wouldDeny.length > 0 ? { wouldDeny: { namespace: namespaceName, reasons: wouldDeny.map((v) => v.reason ?? 'other') } } : {}),
  };
}
