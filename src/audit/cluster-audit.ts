// Walks a cluster namespace by namespace: lists each namespace's workloads page by page, decides
// each one (workload-audit.ts) and hands the namespace's report on before reading the next, so
// memory holds one namespace's answers, never the cluster's objects.
import { toNamespaceInfo } from '../cluster/namespace-cache.js';
import { OPT_IN_LABEL, type LeftOutDefault, type NamespaceInfo } from '../engine/model.js';
import type { PolicySnapshot } from '../ports/admission-ports.js';
import { podToCreate, controllerOf, reportedThroughOwner } from './controller-pods.js';
import { AUDITED_KINDS, type AuditClusterReader } from '../cluster/kube-audit-reader.js';
import { auditWorkload, isChange, namespaceView, type AuditEngine, type NamespaceIds, type WorkloadAudit } from './workload-audit.js';
import { type JsonObject } from '../foundation/json-object.js';
import { podLabels, type ObjectScope } from './object-selector.js';
import type { NamespaceScope } from './namespace-scope.js';
import { controllerAddedLabels } from './controller-labels.js';

export interface NamespaceSummary {
  readonly workloads: number;
  readonly hardened: number;
  /** Of the hardened, those with defaults left out by the never-break rules, by reason ("privileged", "root", "uses the node"). */
  readonly partlyHardened: Readonly<Record<string, number>>;
  /** Judged, nothing to add, nothing left out. */
  readonly alreadyHardened: number;
  /** Left as they are, by short reason ("Windows", "opted out", "kept what they asked for"). */
  readonly leftAsTheyAre: Readonly<Record<string, number>>;
  readonly denied: number;
  /** Allowed, but warn mode says enforce mode would refuse them. */
  readonly warned: number;
  /** Still failing the restricted profile as the webhook would let them be created. */
  readonly failRestricted: number;
  readonly errors: number;
  readonly notOptedIn: number;
  /** In judged namespaces, never sent to the webhook: its objectSelector does not match them. */
  readonly excluded: number;
  /** In judged namespaces, whether they are sent depends on a label value their controller sets that the audit cannot know. */
  readonly undecided: number;
  /** Of the undecided, those the webhook would deny, or could not judge, if they were sent. */
  readonly undecidedWouldDeny: number;
  /** Of the undecided, the others it would change (inject, warn, or report for enforce) if they were sent. */
  readonly undecidedWouldChange: number;
}

export interface NamespaceAudit {
  readonly name: string;
  readonly optedIn: boolean;
  readonly assumedOptedIn: boolean;
  /** Why the webhook never sees this namespace's Pods, or null. */
  readonly excluded: string | null;
  readonly ids: NamespaceIds | null;
  readonly workloads: readonly WorkloadAudit[];
  readonly summary: NamespaceSummary;
}

export interface ClusterAuditOptions {
  readonly assumeOptedIn: boolean;
  /** Namespaces never sent whatever the selector says, with why (the chart's pair when the configuration cannot be read). */
  readonly excluded: ReadonlyMap<string, string>;
  /** The webhook configuration's namespaceSelector, or null when it sends every namespace (or is not known). */
  readonly namespaceScope?: NamespaceScope | null;
  /** The webhook configuration's objectSelector, or null when it sends every Pod. */
  readonly objectScope?: ObjectScope | null;
  readonly onProgress?: (done: number, total: number) => void;
}

const LEFT_OUT_WORDS: Readonly<Record<LeftOutDefault['reason'], string>> = { privileged: 'privileged', runsAsRoot: 'root', usesNode: 'uses the node', addsCapabilities: 'adds capabilities' };

/** Why a workload keeps (some of) what it has, in a word or two for the summary line. */
function leftOutReason(workload: WorkloadAudit): string {
  return [...new Set(workload.leftOut.map((l) => LEFT_OUT_WORDS[l.reason] ?? l.reason))].join(' and ') || 'left as asked';
}

function shortReason(workload: WorkloadAudit): string {
  const reason = workload.skipped ?? '';
  if (/windows/i.test(reason)) return 'Windows';
  if (/opted out/i.test(reason)) return 'opted out';
  if (workload.skipped === null) return leftOutReason(workload);
  return reason.split(/[:;(]/)[0]?.trim() || 'left alone';
}

export function summarize(workloads: readonly WorkloadAudit[]): NamespaceSummary {
  const left: Record<string, number> = {};
  const partly: Record<string, number> = {};
  let hardened = 0;
  let alreadyHardened = 0;
  let denied = 0;
  let warned = 0;
  let failRestricted = 0;
  let errors = 0;
  let notOptedIn = 0;
  let excluded = 0;
  let undecided = 0;
  let undecidedWouldDeny = 0;
  let undecidedWouldChange = 0;
  for (const workload of workloads) {
    if (workload.verdict === 'hardened') {
      hardened++;
      if (workload.leftOut.length > 0) partly[leftOutReason(workload)] = (partly[leftOutReason(workload)] ?? 0) + 1;
    }
    else if (workload.verdict === 'denied') denied++;
    else if (workload.verdict === 'error') errors++;
    else if (workload.verdict === 'not-opted-in') notOptedIn++;
    else if (workload.verdict === 'excluded') excluded++;
    else if (workload.verdict === 'undecided') {
      undecided++;
      if (workload.ifSent === 'denied' || workload.ifSent === 'error') undecidedWouldDeny++;
      else if (isChange(workload)) undecidedWouldChange++;
    }
    else if (workload.verdict === 'unchanged' && workload.leftOut.length === 0) alreadyHardened++;
    else {
      const reason = shortReason(workload);
      left[reason] = (left[reason] ?? 0) + 1;
    }
    if (workload.verdict !== 'denied' && workload.verdict !== 'undecided' && workload.refusals.some((r) => r.mode === 'warn')) warned++;
    if (workload.verdict !== 'not-opted-in' && workload.verdict !== 'excluded' && workload.verdict !== 'undecided' && workload.restricted.after !== null && workload.restricted.after.length > 0) failRestricted++;
  }
  return { workloads: workloads.length, hardened, partlyHardened: partly, alreadyHardened, leftAsTheyAre: left, denied, warned, failRestricted, errors, notOptedIn, excluded, undecided, undecidedWouldDeny, undecidedWouldChange };
}

function nameOf(object: JsonObject): string {
  const metadata = object['metadata'];
  const name = typeof metadata === 'object' && metadata !== null ? (metadata as JsonObject)['name'] : undefined;
  return typeof name === 'string' ? name : '';
}

/** Every namespace the API server lists, as the webhook's namespace cache would hold it. */
export async function listNamespaces(reader: AuditClusterReader): Promise<NamespaceInfo[]> {
  const namespaces: NamespaceInfo[] = [];
  for await (const raw of reader.namespaces()) {
    const info = toNamespaceInfo(raw as Parameters<typeof toNamespaceInfo>[0]);
    if (info !== null) namespaces.push(info);
  }
  return namespaces.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function auditNamespace(
  reader: AuditClusterReader,
  engine: AuditEngine,
  snapshot: PolicySnapshot,
  namespace: NamespaceInfo,
  options: Pick<ClusterAuditOptions, 'assumeOptedIn' | 'excluded' | 'objectScope' | 'namespaceScope'>,
): Promise<NamespaceAudit> {
  // "Excluded by the namespaceSelector" wins over "not opted in": the selector is asked about the
  // namespace as it would be once labelled, so "not opted in" only ever names a namespace that
  // labelling would bring in, and one the selector keeps out anyway is reported with the selector
  // that does it, since labelling it would change nothing. An opted-in namespace is asked as it is.
  const labelled = { ...namespace, labels: { ...namespace.labels, [OPT_IN_LABEL]: 'enabled' } };
  const excluded = options.excluded.get(namespace.name) ?? options.namespaceScope?.exclusion(labelled) ?? null;
  if (excluded !== null) {
    return { name: namespace.name, optedIn: false, assumedOptedIn: false, excluded, ids: null, workloads: [], summary: summarize([]) };
  }
  const view = namespaceView(snapshot.policy, namespace, options.assumeOptedIn);
  const workloads: WorkloadAudit[] = [];
  for (const kind of AUDITED_KINDS) {
    for await (const object of reader.objects(kind, namespace.name)) {
      if (reportedThroughOwner(object)) continue;
      const name = nameOf(object);
      const pod = podToCreate(kind.apiVersion, kind.kind, object, namespace.name);
      if (pod === undefined) continue;
      const owner = controllerOf(object);
      const scope = options.objectScope ?? null;
      // The API server matches the labels of the Pod it is creating: for a controller, its
      // template's and those the controller adds (some of a value the audit cannot know).
      const decision = scope === null ? ({ sent: true } as const) : scope.decide(podLabels(pod), controllerAddedLabels(kind.kind, object));
      const notSent = scope === null || decision.sent !== false ? undefined : scope.reason;
      const cannotTell = scope === null || decision.sent !== 'cannot-tell' ? undefined : scope.cannotTell(decision.why);
      workloads.push(
        await auditWorkload(engine, snapshot, view, {
          apiVersion: kind.apiVersion,
          kind: kind.kind,
          name,
          pod,
          ...(owner === undefined ? {} : { note: `owned by ${owner.kind}/${owner.name}, which the audit does not list: judged as this Pod` }),
          ...(notSent === undefined ? {} : { notSent }),
          ...(cannotTell === undefined ? {} : { cannotTell }),
        }),
      );
    }
  }
  return { name: namespace.name, optedIn: view.optedIn, assumedOptedIn: view.assumedOptedIn, excluded: null, ids: view.ids, workloads, summary: summarize(workloads) };
}

/** Namespace reports in name order, one at a time. */
export async function* auditCluster(reader: AuditClusterReader, engine: AuditEngine, snapshot: PolicySnapshot, options: ClusterAuditOptions): AsyncIterable<NamespaceAudit> {
  const namespaces = await listNamespaces(reader);
  let done = 0;
  options.onProgress?.(done, namespaces.length);
  for (const namespace of namespaces) {
    yield await auditNamespace(reader, engine, snapshot, namespace, options);
    done++;
    options.onProgress?.(done, namespaces.length);
  }
}
