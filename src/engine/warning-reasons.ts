// Warnings are free text for the Pod's author (kubectl prints them); each one also has a reason
// from a short closed list, the `reason` label of secure_defaults_warnings_total, so the counter
// has a handful of series however many Pods, containers and policies there are. The code that
// writes a warning names its reason in the same call, so a rewording never moves a warning to
// another series.

/**
 * Every reason a warning can be counted under. The values are metric label values that the
 * chart's dashboards and alerts use: rename none of them.
 */
export const WARNING_REASONS = [
  /** allowPrivilegeEscalation: false not added to a privileged container (the API server refuses the pair). */
  'privileged-container',
  /** allowPrivilegeEscalation: false not added to a container that adds SYS_ADMIN. */
  'sys-admin-capability',
  /** seccompProfile not added because the legacy seccomp annotation is set. */
  'legacy-seccomp-annotation',
  /** spec.defaults.hostUsers: false not added: the Pod cannot run in its own user namespace. */
  'user-namespace-not-added',
  /** runAsNonRoot: true not added at pod level because the Pod or a container runs as root. */
  'container-runs-as-root',
  /** The skip annotation is set but the policy does not allow opting out. */
  'opt-out-not-allowed',
  /** Warn mode: what enforce mode would refuse. */
  'would-deny',
  /** Pod Security Admission will still refuse the hardened Pod. */
  'pod-security-will-refuse',
  /** Defaults left out of containers that asked for privilege, root or the node (keepRequestedPrivileges). */
  'kept-requested-privileges',
  /** Pod-level IDs or runAsNonRoot set on each container instead, so they do not reach the ones that keep their own. */
  'moved-to-containers',
  /**
   * Reinvocation: Pod-level IDs or runAsNonRoot that an earlier call added were moved to the
   * containers, because a container added or changed since (another webhook's sidecar) must not inherit them.
   */
  'reinvocation-moved-to-containers',
  /** The namespace's uid-range/gid-range annotation was ignored (and the fallback used instead). */
  'namespace-range-annotation-ignored',
  /** The webhook could not judge the request and admitted it unhardened (failure policy open). */
  'not-judged',
  /** A Pod field the hardener reads was of the wrong type; that part was left as it is. */
  'unreadable-pod-field',
  /** Everything else: policy notes, PSA label notes, the count of warnings cut off. */
  'other',
] as const;

export type WarningReason = (typeof WARNING_REASONS)[number];

export const OTHER_WARNING_REASON: WarningReason = 'other';

/** Warnings with their reasons: `reasons[i]` is the reason of `texts[i]`, always the same length. */
export interface ReasonedWarnings {
  readonly texts: readonly string[];
  readonly reasons: readonly WarningReason[];
}

export const NO_WARNINGS: ReasonedWarnings = Object.freeze({ texts: Object.freeze([]), reasons: Object.freeze([]) });

const NO_TEXTS: readonly string[] = NO_WARNINGS.texts;
const NO_REASONS: readonly WarningReason[] = NO_WARNINGS.reasons;

/**
 * Collects warnings as the engine writes them: one `add` puts the text and its reason in two
 * arrays side by side (no object per warning), so they cannot get out of step. Most Pods get no
 * warning: the arrays are made at the first one.
 */
export class WarningList implements ReasonedWarnings {
  private textList: string[] | null = null;
  private reasonList: WarningReason[] | null = null;

  get texts(): readonly string[] {
    return this.textList ?? NO_TEXTS;
  }

  get reasons(): readonly WarningReason[] {
    return this.reasonList ?? NO_REASONS;
  }

  get length(): number {
    return this.textList === null ? 0 : this.textList.length;
  }

  add(reason: WarningReason, text: string): void {
    if (this.textList === null || this.reasonList === null) {
      this.textList = [text];
      this.reasonList = [reason];
      return;
    }
    this.textList.push(text);
    this.reasonList.push(reason);
  }

  /** Each of `texts`, all for one reason (a function whose every warning means the same thing). */
  addEach(reason: WarningReason, texts: readonly string[]): void {
    for (const text of texts) this.add(reason, text);
  }

  addAll(warnings: ReasonedWarnings): void {
    const { texts, reasons } = warnings;
    for (let i = 0; i < texts.length; i++) this.add(reasons[i]!, texts[i]!);
  }
}
