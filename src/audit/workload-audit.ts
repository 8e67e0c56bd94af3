// The audit's decision for one namespace and one workload. It is the webhook's own path, not a
// copy of it: the Pod the workload's controller would create goes through admitPod (namespace
// lookup, the allocation check, the opt-in label, the engine call, the answer) with a namespace
// directory that knows the one namespace as the API server listed it, and the engine's decision
// is read as it passes. What the report says is what admitPod answered.
import fastJsonPatch from 'fast-json-patch';
import { awaitsAllocatedBlock } from '../allocation/allocator-policy.js';
import { formatIdRange } from '../engine/id-range.js';
import { OPT_IN_LABEL, type AdmissionDecision, type LeftOutDefault, type PolicyMode, type Violation, type AdmissionInput, type CompiledPolicy, type NamespaceInfo, type Operation } from '../engine/model.js';
import { isOptedIn } from '../engine/namespace-opt-in.js';
import type { RestrictedFinding } from '../engine/restricted/index.js';
import type { AdmissionRequest } from '../admission/admission-review.js';
import { admitPod, type PodAdmissionDeps } from '../admission/pod-admission.js';
import type { PolicySnapshot } from '../ports/admission-ports.js';
import { noAllocatedBlocks } from '../ports/standalone-ports.js';

/** What the audit needs of the engine: the webhook's decision and the restricted profile check. */
export interface AuditEngine {
  readonly decideAdmission: (input: AdmissionInput) => AdmissionDecision;
  readonly checkRestricted: (podLike: unknown) => RestrictedFinding[];
}

/** Where a namespace's Pods get their UID/GID from, as the webhook would resolve it. */
export interface NamespaceIds {
  /** rule (spec.namespaces[N]), fallback, allocated-block, pending-block (opted in, allocation on, no block yet) or none. */
  readonly from: 'rule' | 'fallback' | 'allocated-block' | 'pending-block' | 'none';
  /** The policy part that chose them: "spec.namespaces[1]", "spec.fallback", "namespace annotation …". */
  readonly source: string | null;
  readonly uidRange: string | null;
  readonly gidRange: string | null;
  readonly fsGroup: number | null;
  /** Why an annotation was ignored, and what is used instead. */
  readonly notes: readonly string[];
}

export interface NamespaceView {
  /** The namespace the decisions are made for: as listed, plus the opt-in label with --assume-opted-in. */
  readonly info: NamespaceInfo;
  readonly optedIn: boolean;
  /** Not opted in, judged as if it were (--assume-opted-in). */
  readonly assumedOptedIn: boolean;
  readonly ids: NamespaceIds;
}

export function namespaceView(policy: CompiledPolicy, listed: NamespaceInfo, assumeOptedIn: boolean): NamespaceView {
  const optedIn = isOptedIn(listed);
  const assumed = !optedIn && assumeOptedIn;
  const asOptedIn = optedIn ? listed : { ...listed, labels: { ...listed.labels, [OPT_IN_LABEL]: 'enabled' } };
  const info = assumed ? asOptedIn : listed;
  // The IDs are those its Pods get once it is opted in, whether it is yet or not.
  const resolution = policy.resolveIdDefaultsWithWarnings(asOptedIn);
  const defaults = resolution.defaults;
  const notes = [...resolution.warnings];
  let from: NamespaceIds['from'];
  if (awaitsAllocatedBlock(policy, asOptedIn)) {
    from = 'pending-block';
    notes.unshift(
      `${optedIn ? 'no UID block yet although the namespace is opted in: the allocator has not assigned one (see the namespace\'s Events; a full pool?)' : 'no UID block yet: the allocator assigns one when the namespace is opted in'}; until it has one the webhook makes its Pods wait, and denies them if none comes in time${defaults === null ? '' : `; the IDs shown are from ${defaults.source}, the real block will differ`}`,
    );
  } else if (defaults === null) from = 'none';
  else if (defaults.origin === 'namespace-annotation') from = 'allocated-block';
  else from = defaults.origin;
  return {
    info,
    optedIn,
    assumedOptedIn: assumed,
    ids: {
      from,
      source: defaults?.source ?? null,
      uidRange: defaults === null ? null : formatIdRange(defaults.uidRange),
      gidRange: defaults === null ? null : formatIdRange(defaults.gidRange),
      fsGroup: defaults?.fsGroup ?? null,
      notes,
    },
  };
}

export type WorkloadVerdict =
  /** The webhook would add fields. */
  | 'hardened'
  /** Judged, nothing to add. */
  | 'unchanged'
  /** Deliberately left as it is (Windows Pod, opt-out annotation, …): see `skipped`. */
  | 'left-alone'
  | 'denied'
  /** The namespace has not opted in: the webhook is not called. */
  | 'not-opted-in'
  /** The webhook configuration's objectSelector does not match the Pod: the webhook is not called (see `skipped`). */
  | 'excluded'
  /** Whether the API server sends it depends on a label value its controller sets that the audit cannot know (see `skipped`). */
  | 'undecided'
  /** The webhook could not judge it (see `message`). */
  | 'error';

/** What a policy would refuse: enforce mode denies, warn mode only warns. */
export interface Refusal {
  readonly mode: 'enforce' | 'warn';
  readonly path: string;
  readonly message: string;
}

export interface WorkloadAudit {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly verdict: WorkloadVerdict;
  /** For an undecided workload: the verdict if the API server does send it (the other fields describe that case). */
  readonly ifSent?: WorkloadVerdict;
  /** Field paths in the Pod the webhook would add, e.g. "spec.containers[app].securityContext.runAsNonRoot". */
  readonly injected: readonly string[];
  /** The mode of the namespace's rule (null when not judged). */
  readonly mode: PolicyMode | null;
  /** What the webhook tells the Pod's creator (kubectl's "Warning:" lines). */
  readonly warnings: readonly string[];
  /** Defaults a container did not get because it asked for privilege, root or the node (never-break rules). */
  readonly leftOut: readonly LeftOutDefault[];
  /** What the webhook refuses (enforce mode) or warns it would refuse (warn mode). */
  readonly refusals: readonly Refusal[];
  /** fill mode: what enforce mode would refuse, were the rule switched to it. */
  readonly ifEnforced: readonly Refusal[];
  readonly skipped: string | null;
  /** The webhook's deny message, or why it could not judge. */
  readonly message: string | null;
  /** The JSON patch the webhook would answer with, against the Pod. */
  readonly patch: readonly Operation[];
  /** Restricted-profile checks the Pod fails as written, and as the webhook would let it be created (null when denied). */
  readonly restricted: { readonly before: readonly string[]; readonly after: readonly string[] | null };
  /** Set when the object is judged although a controller the audit does not list owns it. */
  readonly note: string | null;
}

const AUDIT_REQUEST_BASE = {
  uid: 'secure-defaults-audit',
  kind: { group: '', version: 'v1', kind: 'Pod' },
  resource: { group: '', version: 'v1', resource: 'pods' },
  subResource: '',
  operation: 'CREATE',
  oldObject: null,
  // Read-only: nothing may be allocated or recorded for an audit.
  dryRun: true,
  username: 'secure-defaults-audit',
} as const;

function failingChecks(engine: AuditEngine, pod: unknown): string[] {
  return [...new Set(engine.checkRestricted(pod).map((finding) => finding.check))];
}

const asRefusal = (mode: Refusal['mode']) => (v: Violation): Refusal => ({ mode, path: v.path, message: v.message });

/**
 * Refusals as plain data from the engine's decision: a denied Pod's violations (enforce); on an
 * allowed one, what enforce mode would refuse, which warn mode tells the Pod's creator and fill
 * mode only reports (`ifEnforced`).
 */
export function refusalsOf(decision: AdmissionDecision): { refusals: Refusal[]; ifEnforced: Refusal[] } {
  if (!decision.allowed) return { refusals: decision.violations.map(asRefusal('enforce')), ifEnforced: [] };
  const wouldDeny = decision.wouldDeny ?? [];
  if (decision.mode === 'warn') return { refusals: wouldDeny.map(asRefusal('warn')), ifEnforced: [] };
  return { refusals: [], ifEnforced: wouldDeny.map(asRefusal('enforce')) };
}

/** True when the webhook would do something to this workload's Pods (an undecided one: if they are sent). */
export function isChange(workload: WorkloadAudit): boolean {
  const verdict = workload.verdict === 'undecided' ? workload.ifSent : workload.verdict;
  return verdict === 'hardened' || verdict === 'denied' || verdict === 'error' || workload.refusals.length > 0 || workload.ifEnforced.length > 0;
}

export interface WorkloadToAudit {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  /** The Pod its controller would create (controller-pods.ts podToCreate). */
  readonly pod: Record<string, unknown>;
  readonly note?: string;
  /** Why the API server would not send this Pod to the webhook (object-selector.ts), if it would not. */
  readonly notSent?: string;
  /** Why the audit cannot tell whether the API server sends this Pod (a selector on a label value it cannot know). */
  readonly cannotTell?: string;
}

/** Decides one workload exactly as the webhook would decide its Pod. */
export async function auditWorkload(engine: AuditEngine, snapshot: PolicySnapshot, view: NamespaceView, workload: WorkloadToAudit): Promise<WorkloadAudit> {
  const base = {
    apiVersion: workload.apiVersion,
    kind: workload.kind,
    name: workload.name,
    note: workload.note ?? null,
  };
  const before = failingChecks(engine, workload.pod);
  if (!isOptedIn(view.info)) {
    return { ...base, verdict: 'not-opted-in', mode: null, injected: [], warnings: [], leftOut: [], refusals: [], ifEnforced: [], skipped: null, message: null, patch: [], restricted: { before, after: before } };
  }
  if (workload.notSent !== undefined) {
    return { ...base, verdict: 'excluded', mode: null, injected: [], warnings: [], leftOut: [], refusals: [], ifEnforced: [], skipped: workload.notSent, message: null, patch: [], restricted: { before, after: before } };
  }
  if (workload.cannotTell !== undefined) {
    // Judged as if sent, so that a gate (--fail-on) can tell an undecided Pod the webhook would
    // deny from one it would only harden; the verdict stays undecided and the reason names the
    // label and the selector.
    const { cannotTell, ...sent } = workload;
    const ifSent = await auditWorkload(engine, snapshot, view, sent);
    return { ...ifSent, verdict: 'undecided', ifSent: ifSent.verdict, skipped: ifSent.skipped === null ? cannotTell : `${cannotTell}; if sent: ${ifSent.skipped}` };
  }
  let decision: AdmissionDecision | undefined;
  const deps: PodAdmissionDeps = {
    policySource: { current: () => snapshot },
    namespaces: { lookup: async (name) => (name === view.info.name ? view.info : null) },
    // A Pod still waiting for its block is reported as such above; the replay itself never waits.
    allocatedBlocks: noAllocatedBlocks,
    decideAdmission: (input) => {
      decision = engine.decideAdmission(input);
      return decision;
    },
    failurePolicy: 'closed',
  };
  const request: AdmissionRequest = { ...AUDIT_REQUEST_BASE, namespace: view.info.name, name: '', object: workload.pod };
  const outcome = await admitPod(request, deps);
  const response = outcome.response;
  const warnings = response.warnings ?? [];
  if (decision === undefined) {
    // admitPod answered before the engine was asked: the Pod is not judgeable as sent.
    const reason = typeof outcome.log['reason'] === 'string' ? outcome.log['reason'] : 'not judged';
    return { ...base, verdict: 'error', mode: null, injected: [], warnings, leftOut: [], refusals: [], ifEnforced: [], skipped: null, message: reason, patch: [], restricted: { before, after: null } };
  }
  const { refusals, ifEnforced } = refusalsOf(decision);
  const judged = { mode: decision.mode ?? snapshot.policy.mode, warnings, leftOut: decision.leftOut ?? [], refusals, ifEnforced };
  if (!response.allowed) {
    return { ...base, ...judged, verdict: 'denied', injected: [], skipped: null, message: response.status?.message ?? null, patch: [], restricted: { before, after: null } };
  }
  const patch = decision.allowed ? decision.patch : [];
  const after = patch.length === 0 ? workload.pod : fastJsonPatch.applyPatch(workload.pod, fastJsonPatch.deepClone(patch) as Operation[], false, false).newDocument;
  const skipped = decision.allowed ? (decision.skipped ?? null) : null;
  return {
    ...base,
    verdict: skipped !== null ? 'left-alone' : patch.length > 0 ? 'hardened' : 'unchanged',
    ...judged,
    injected: decision.allowed ? decision.injected : [],
    skipped,
    message: null,
    patch,
    restricted: { before, after: patch.length === 0 ? before : failingChecks(engine, after) },
  };
}
