// The `reason` label of secure_defaults_warnings_total: each warning sent to a Pod's author,
// sorted into a short fixed list, so the counter has a handful of series however many Pods,
// containers and policies there are. The warnings themselves stay free text for people (the engine
// writes them); a warning that fits no entry is counted as "other", never as its own text.

export const OTHER_WARNING_REASON = 'other';

/** First match wins; each pattern is anchored on wording the engine and the server use. */
const WARNING_REASONS: ReadonlyArray<readonly [reason: string, pattern: RegExp]> = [
  ['privileged-container', /allowPrivilegeEscalation: false not added .*\b(is|are) privileged/],
  ['sys-admin-capability', /allowPrivilegeEscalation: false not added .*\badds? SYS_ADMIN/],
  ['legacy-seccomp-annotation', /seccompProfile not added because the legacy annotation/],
  ['user-namespace-not-added', /hostUsers: false not added/],
  ['container-runs-as-root', /runAsNonRoot: true not added because/],
  ['opt-out-not-allowed', /does not allow Pods to opt out/],
  ['would-deny', /\(warn mode\) would deny this Pod in enforce mode/],
  ['pod-security-will-refuse', /^Pod Security ".*" (\(namespace ".*"\) will refuse this Pod|will also refuse it)/],
  ['kept-requested-privileges', /not added \(spec\.defaults\.keepRequestedPrivileges\)/],
  ['moved-to-containers', /set on each container instead of the Pod/],
  ['namespace-range-annotation-ignored', /annotation secure-defaults\.io\/[ug]id-range .*ignored|^using spec\.fallback .* instead$/],
  ['not-judged', /^secure-defaults did not harden this request:/],
  ['unreadable-pod-field', /is not an object|is not a list|was not in the expected format/],
];

// Warnings are bounded by the API server (and by the engine), but a reason is only ever looked up
// in their first part, so an unusually long one costs no more than a short one.
const MATCHED_PREFIX = 512;

export function warningReason(warning: string): string {
  const text = warning.length > MATCHED_PREFIX ? warning.slice(0, MATCHED_PREFIX) : warning;
  for (const [reason, pattern] of WARNING_REASONS) if (pattern.test(text)) return reason;
  return OTHER_WARNING_REASON;
}

export const WARNING_REASON_LABELS: readonly string[] = [...WARNING_REASONS.map(([reason]) => reason), OTHER_WARNING_REASON];
