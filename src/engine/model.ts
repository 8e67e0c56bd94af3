// The shapes the hardening engine speaks. Everything here is plain data: the engine takes a
// compiled policy, a namespace and a Pod, and gives back a decision and a JSON patch, with no I/O.
// The webhook, the CLI and the cluster adapters depend on these types and on nothing else of
// the engine's insides (import them from `src/engine/index.ts`).
import type { Operation } from 'fast-json-patch';
import type { WarningReason } from './warning-reasons.js';

export type { Operation, WarningReason };

/** Namespaces opt in with this label set to `enabled`. */
export const OPT_IN_LABEL = 'secure-defaults.io/inject';
/** A Pod annotated `secure-defaults.io/skip: "true"` is left alone when the policy allows opt-out. */
export const SKIP_ANNOTATION = 'secure-defaults.io/skip';
/** Written on every mutated Pod: what the webhook added, for audit. */
export const INJECTED_ANNOTATION = 'secure-defaults.io/injected';
/** A namespace's allocated (or hand-set) UID block, e.g. "1000010000-1000019999". */
export const UID_RANGE_ANNOTATION = 'secure-defaults.io/uid-range';
/** A namespace's GID block when it differs from the UID block. */
export const GID_RANGE_ANNOTATION = 'secure-defaults.io/gid-range';

/** An inclusive range of numeric IDs: "10000-19999" is { min: 10000, max: 19999 }. */
export interface IdRange {
  readonly min: number;
  readonly max: number;
}

/** The user and group IDs a namespace's Pods get, and where they came from. */
export interface IdDefaults {
  readonly uidRange: IdRange;
  readonly gidRange: IdRange;
  readonly fsGroup: number;
  /**
   * What chose these: a `spec.namespaces` rule, `spec.fallback`, or the namespace's own
   * uid-range annotation (its allocated or hand-set block). Code that acts on where the IDs came
   * from reads this; `source` is only for people.
   */
  readonly origin: IdOrigin;
  /** Which part of the policy chose these, for messages: "spec.namespaces[1]", "spec.fallback", … */
  readonly source: string;
}

export type IdOrigin = 'rule' | 'fallback' | 'namespace-annotation';

export type SeccompDefault =
  | { readonly type: 'RuntimeDefault' }
  | { readonly type: 'Localhost'; readonly localhostProfile: string };

/** What every hardened Pod gets where it left the field unset (spec.defaults, compiled). */
export interface PodDefaults {
  readonly runAsNonRoot: boolean;
  readonly seccompProfile: SeccompDefault | null;
  readonly dropCapabilities: readonly string[];
  /** The value injected where a container leaves it unset; null leaves it unset. */
  readonly allowPrivilegeEscalation: boolean | null;
  readonly readOnlyRootFilesystem: boolean;
  /** Added beside an injected fsGroup; null adds nothing. */
  readonly fsGroupChangePolicy: 'OnRootMismatch' | 'Always' | null;
  /**
   * spec.defaults.keepRequestedPrivileges (default true): privileged containers keep their user,
   * group and non-root rule, root containers and containers that use the node keep their
   * capabilities (see LeftOutReason). false hardens them too, as before: they may fail at run time.
   */
  readonly keepRequestedPrivileges?: boolean;
  /**
   * false: Pods that leave spec.hostUsers unset and can run in their own user namespace get
   * hostUsers: false (user-namespace-default.ts); absent: hostUsers is left to the Pod.
   */
  readonly hostUsers?: false;
}

/**
 * What a policy does to a namespace's Pods: fill in what is missing; warn (fill, and report what
 * enforce would refuse as warnings, never refusing); enforce (fill, and refuse those Pods).
 */
export type PolicyMode = 'fill' | 'warn' | 'enforce';
export const POLICY_MODES: readonly PolicyMode[] = ['fill', 'warn', 'enforce'];

/** Why a default was left out of a container that asked for more than it allows. */
export type LeftOutReason =
  /** privileged: true — it keeps the user, group, non-root rule and capabilities it has. */
  | 'privileged'
  /** runAsUser 0 of its own or of the Pod — it keeps its capabilities (no drop). */
  | 'runsAsRoot'
  /** hostNetwork/hostPID/hostIPC or a hostPath mount — it keeps its image's user and, unless known non-root, its capabilities. */
  | 'usesNode'
  /**
   * capabilities.add beyond NET_BIND_SERVICE and no user of its own — it keeps its image's user
   * (under a non-root UID added capabilities are not effective) and its capabilities.
   */
  | 'addsCapabilities';

/** Defaults a container did not get, and why (one per container that had any left out). */
export interface LeftOutDefault {
  /** Container name, as in messages: `container "kube-router"`. */
  readonly container: string;
  /** e.g. "spec.containers[0]" */
  readonly path: string;
  /** e.g. ["runAsUser", "runAsGroup", "runAsNonRoot", "capabilities.drop"] */
  readonly fields: readonly string[];
  readonly reason: LeftOutReason;
}

/** Settings of the per-namespace UID block allocator (spec.allocation). */
export interface AllocationSettings {
  readonly pool: IdRange;
  readonly blockSize: number;
  /**
   * spec.allocation.releaseAfter in ms: how long a deleted namespace's block stays reserved
   * before it may be handed out again. Absent/null: never (files on volumes may keep its IDs).
   */
  readonly releaseAfterMs?: number | null;
}

/** What the engine needs to know of a namespace. */
export interface NamespaceInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** A validated policy, compiled once when it is loaded and then only read. */
export interface CompiledPolicy {
  readonly name: string;
  /** spec.mode; a namespace rule's (or the fallback's) own mode overrides it, see IdResolution.mode. */
  readonly mode: PolicyMode;
  readonly defaults: PodDefaults;
  readonly allowPodOptOut: boolean;
  readonly allocation: AllocationSettings | null;
  /**
   * The IDs for a namespace: the first `spec.namespaces` rule that matches, else the
   * namespace's allocated block (when allocation is on and the annotation is present), else
   * `spec.fallback`, else null (no UID/GID defaults for that namespace).
   */
  resolveIdDefaults(namespace: NamespaceInfo): IdDefaults | null;
  /**
   * Same answer as resolveIdDefaults, plus why a namespace's uid-range/gid-range annotation was
   * ignored (malformed, includes root, overlaps a rule's range, allocation off).
   */
  resolveIdDefaultsWithWarnings(namespace: NamespaceInfo): IdResolution;
}

export interface IdResolution {
  readonly defaults: IdDefaults | null;
  readonly warnings: readonly string[];
  /**
   * The mode for this namespace: the matching rule's `mode`, else (no rule matched) the
   * fallback's `mode`, else spec.mode. Absent means spec.mode.
   */
  readonly mode?: PolicyMode;
  /** Where `mode` was set, for messages: "spec.namespaces[1].mode", "spec.fallback.mode", "spec.mode". */
  readonly modeSource?: string;
}

/** One mistake in a policy document: `${path}: ${message}` reads as a complete sentence with the fix. */
export interface PolicyError {
  /** e.g. "spec.namespaces[1].uidRange" */
  readonly path: string;
  /** e.g. `"20000-1999": min is greater than max` */
  readonly message: string;
}

export type PolicyParseResult =
  | { readonly ok: true; readonly policy: CompiledPolicy; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly errors: readonly PolicyError[] };

/** Which part of a Pod a request may change: a new Pod, or only its ephemeral containers (`kubectl debug`). */
export type AdmissionTarget = 'pod' | 'ephemeralContainers';

export interface AdmissionInput {
  readonly policy: CompiledPolicy;
  readonly namespace: NamespaceInfo;
  /** The Pod exactly as the API server sent it (request.object); never modified by the engine. */
  readonly pod: unknown;
  readonly target: AdmissionTarget;
  /**
   * For target 'ephemeralContainers': the Pod before the update (request.oldObject). The API
   * server refuses any change to an ephemeral container that already existed, so only the ones
   * not in oldPod are hardened. When absent, every ephemeral container is treated as new.
   */
  readonly oldPod?: unknown;
}

/** A value in the Pod that breaks an enforce-mode policy. */
export interface Violation {
  /** Field path in the Pod, e.g. "spec.containers[0].securityContext.runAsUser" */
  readonly path: string;
  /**
   * Which rule: a Pod Security Standards check id ("privileged", "runAsUser",
   * "runAsNonRoot", "allowPrivilegeEscalation") or a range check ("uidRange", "gidRange").
   * A short, fixed set: the `reason` label of secure_defaults_would_deny_total.
   */
  readonly reason?: ViolationReason;
  /** Container name, when the violation is in one. */
  readonly container?: string;
  /** Human sentence naming the container, field, value and what is allowed. */
  readonly message: string;
}

/** One field the engine filled in, and what it put there (for capabilities.drop, the names added). */
export interface InjectedValue {
  readonly path: string;
  readonly value: unknown;
}

export type ViolationReason = 'privileged' | 'runAsUser' | 'runAsNonRoot' | 'allowPrivilegeEscalation' | 'uidRange' | 'gidRange';

export type AdmissionDecision =
  | {
      readonly allowed: true;
      // mode, wouldDeny and leftOut are always set by the engine; optional so that hand-written
      // decisions (test fakes) need not spell them out.
      /** The mode that applied to the Pod's namespace. */
      readonly mode?: PolicyMode;
      /**
       * What enforce mode would refuse in this Pod, in every mode (warn mode also reports them as
       * warnings, in the denial's wording); empty when the Pod complies.
       */
      readonly wouldDeny?: readonly Violation[];
      /** Defaults left out because a container asked for privilege, root or the node. */
      readonly leftOut?: readonly LeftOutDefault[];
      /** RFC 6902 operations against `AdmissionInput.pod`; empty when nothing is missing. */
      readonly patch: readonly Operation[];
      /** Paths of what was added, e.g. "spec.securityContext.runAsUser". */
      readonly injected: readonly string[];
      /**
       * Paths of Pod-level values an earlier call of the webhook added and this one removed, having
       * set them on the containers instead (reinvocation, after another webhook added a container
       * that must not inherit them); optional for hand-written decisions, usually empty.
       */
      readonly removed?: readonly string[];
      /** For the person who created the Pod (kubectl prints them): defaults left out and why. */
      readonly warnings: readonly string[];
      /** The reason of each warning, same length and order (the counter's label; never matched from the text). */
      readonly warningReasons: readonly WarningReason[];
      /** Set when the Pod was deliberately left alone (Windows Pod, opt-out annotation, …). */
      readonly skipped?: string;
      /**
       * The IDs the namespace resolved to, and in `ids.source` the part of the policy that chose
       * them ("spec.namespaces[0]", "spec.fallback", the namespace's allocated block); null when
       * none applies. For logs: "why did my Pod get UID 100000?".
       */
      readonly ids?: IdDefaults | null;
      /** Each injected path (as in `injected`, same order) with the value set there. */
      readonly injectedValues?: readonly InjectedValue[];
    }
  | {
      readonly allowed: false;
      readonly mode?: PolicyMode;
      readonly leftOut?: readonly LeftOutDefault[];
      /** One message naming every violation; what the API server shows the user. */
      readonly message: string;
      readonly violations: readonly Violation[];
      readonly warnings: readonly string[];
      readonly warningReasons: readonly WarningReason[];
      /** As for an allowed decision: the range the Pod was judged against and which rule chose it. */
      readonly ids?: IdDefaults | null;
    };

/** hardenManifest's answer for one manifest (a Pod or a workload with a Pod template). */
export type ManifestResult =
  | {
      readonly ok: true;
      /** A hardened copy; the input is never modified. */
      readonly object: unknown;
      /** RFC 6902 operations against the input manifest (paths point into the Pod template). */
      readonly patch: readonly Operation[];
      /** Paths of what was added, e.g. "spec.template.spec.securityContext.runAsUser". */
      readonly injected: readonly string[];
      readonly warnings: readonly string[];
      /** The mode of the namespace's rule; in enforce mode `wouldDeny` non-empty means the webhook refuses it. */
      readonly mode: PolicyMode;
      /** What enforce mode would refuse (paths from the manifest's root), in every mode. */
      readonly wouldDeny: readonly Violation[];
      readonly leftOut: readonly LeftOutDefault[];
      /** Set when the Pod template was deliberately left alone (Windows, opt-out annotation, …). */
      readonly skipped?: string;
    }
  | { readonly ok: false; readonly error: string };
