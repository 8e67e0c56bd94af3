import type { PodView } from './pod-view.js';

/** The two Pod Security Standards profiles that forbid anything ("privileged" forbids nothing). */
export type PodSecurityLevel = 'baseline' | 'restricted';

/** What a check found wrong with a Pod; null from a check means the Pod passes it. */
export interface CheckOutcome {
  /** PSA's short reason, e.g. "allowPrivilegeEscalation != false". */
  readonly reason: string;
  /** PSA-style detail naming every offender, e.g. `containers "a", "b" must set …`. */
  readonly message: string;
  /** Every offending field, e.g. "spec.containers[0].securityContext.allowPrivilegeEscalation". */
  readonly paths: readonly string[];
}

export interface PodSecurityCheck {
  /** Reported check id, e.g. "capabilities"; a baseline and a restricted variant may share one. */
  readonly id: string;
  readonly level: PodSecurityLevel;
  /** Baseline check ids this restricted check replaces (it enforces a stricter version of them). */
  readonly overrides?: readonly string[];
  /** The first policy version (1.<minor>) with this check; absent: every modelled version. */
  readonly sinceMinor?: number;
  /**
   * The check's rules at policy version 1.<minor> (policy-version.ts): a check whose rules changed
   * over time picks the newest rules not newer than `minor`, as PSA's versioned checks do.
   */
  readonly evaluate: (pod: PodView, minor: number) => CheckOutcome | null;
}
