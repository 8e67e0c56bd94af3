// Pod Security Standards ("baseline" and "restricted", by policy version) checks, modelled on
// Kubernetes' Pod Security Admission: what the API server would refuse in a namespace labelled
// pod-security.kubernetes.io/enforce=restricted (and enforce-version=<version>). Pure and never throws.
import type { PodSecurityLevel } from './check.js';
import { readPodView } from './pod-view.js';
import { minorOf, type PssVersion } from './policy-version.js';
import { checksForLevel } from './registry.js';

export type { PodSecurityLevel } from './check.js';
export {
  LATEST_POLICY_MINOR,
  OLDEST_MODELLED_MINOR,
  parsePssVersion,
  type PssVersion,
  type PssVersionParse,
  type ResolvedPssVersion,
} from './policy-version.js';

export interface RestrictedFinding {
  /** PSA-style check id: "runAsNonRoot", "seccompProfile", "capabilities", "hostNamespaces", … */
  readonly check: string;
  /** The first offending field, e.g. "spec.containers[0].securityContext.allowPrivilegeEscalation". */
  readonly path: string;
  /** PSA-style detail naming every offender and the fix, e.g. `containers "app", "sidecar" must set …`. */
  readonly message: string;
  /** The profile whose check this is ("baseline" checks are part of "restricted" too). */
  readonly level: PodSecurityLevel;
  /** PSA's short reason, e.g. "allowPrivilegeEscalation != false". */
  readonly reason: string;
  /** Every offending field (`path` is the first of them). */
  readonly paths: readonly string[];
}

/**
 * Everything the given profile at the given policy version (default "latest") would refuse in
 * `podLike` ({ metadata?, spec }: a Pod or a Pod template), one finding per failing check, in PSA's
 * check order. Empty when it passes.
 */
export function checkPodSecurity(podLike: unknown, level: PodSecurityLevel, version: PssVersion = 'latest'): RestrictedFinding[] {
  const minor = minorOf(version);
  const pod = readPodView(podLike);
  if (pod === undefined) {
    return [
      {
        check: 'podSpec',
        path: 'spec',
        message: 'a Pod or Pod template must have a "spec" object; nothing here can be checked',
        level: 'baseline',
        reason: 'missing spec',
        paths: ['spec'],
      },
    ];
  }
  const findings: RestrictedFinding[] = [];
  for (const check of checksForLevel(level, minor)) {
    const outcome = check.evaluate(pod, minor);
    if (outcome !== null) {
      findings.push({
        check: check.id,
        path: outcome.paths[0] ?? 'spec',
        message: outcome.message,
        level: check.level,
        reason: outcome.reason,
        paths: outcome.paths,
      });
    }
  }
  return findings;
}

/** What the "restricted" profile (which includes "baseline") would refuse. */
export function checkRestricted(podLike: unknown, version: PssVersion = 'latest'): RestrictedFinding[] {
  return checkPodSecurity(podLike, 'restricted', version);
}

/** What the "baseline" profile would refuse. */
export function checkBaseline(podLike: unknown, version: PssVersion = 'latest'): RestrictedFinding[] {
  return checkPodSecurity(podLike, 'baseline', version);
}
