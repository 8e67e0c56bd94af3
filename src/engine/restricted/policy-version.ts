// Pod Security Standards policy versions, read the way Pod Security Admission reads the
// pod-security.kubernetes.io/<mode>-version label: "latest" or "v1.<minor>". Each check keeps the
// rules of every version from OLDEST_MODELLED_MINOR on (check.ts), as PSA's versioned checks do.

/** The newest policy version modelled: what "latest" means here (PSA in Kubernetes 1.37). */
export const LATEST_POLICY_MINOR = 37;
/**
 * The oldest version whose rules are modelled exactly. Older versions differ in ways no supported
 * cluster cares about any more (Windows Pods were not exempt before 1.25, seccomp was an annotation
 * before 1.19); a namespace pinned below this is checked with these rules, and told so.
 */
export const OLDEST_MODELLED_MINOR = 25;

/** A policy version as given: "latest" or "v1.<minor>". */
export type PssVersion = 'latest' | `v1.${number}`;

export interface ResolvedPssVersion {
  /** The version as written ("latest", "v1.35", "v1.40"). */
  readonly version: PssVersion;
  /** The minor whose rules apply: latest and newer-than-known versions are LATEST_POLICY_MINOR. */
  readonly minor: number;
  /** Set when the rules applied are not the ones the version names (older than modelled). */
  readonly note?: string;
}

export type PssVersionParse = { readonly ok: true; readonly resolved: ResolvedPssVersion } | { readonly ok: false; readonly error: string };

// PSA's own pattern (k8s.io/pod-security-admission/api): a minor without leading zeros.
const VERSION_PATTERN = /^v1\.([0-9]|[1-9][0-9]{0,8})$/;

/** Reads "latest" or "v1.<minor>"; anything else is an error naming the accepted forms. */
export function parsePssVersion(text: string): PssVersionParse {
  if (text === 'latest') return { ok: true, resolved: { version: 'latest', minor: LATEST_POLICY_MINOR } };
  const match = VERSION_PATTERN.exec(text);
  if (match === null) {
    const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
    return { ok: false, error: `"${shown}" is not a Pod Security Standards version: use "latest" or "v1.<minor>", e.g. "v1.35"` };
  }
  const written = Number(match[1]);
  const version = `v1.${written}` as PssVersion;
  if (written < OLDEST_MODELLED_MINOR) {
    return {
      ok: true,
      resolved: {
        version,
        minor: OLDEST_MODELLED_MINOR,
        note: `policy version ${version} is older than v1.${OLDEST_MODELLED_MINOR}, the oldest modelled; checked with the v1.${OLDEST_MODELLED_MINOR} rules`,
      },
    };
  }
  // PSA evaluates a version newer than it knows with its newest checks.
  return { ok: true, resolved: { version, minor: Math.min(written, LATEST_POLICY_MINOR) } };
}

/** The minor whose rules apply to `version` (a value the type system already knows is well formed). */
export function minorOf(version: PssVersion): number {
  const parsed = parsePssVersion(version);
  return parsed.ok ? parsed.resolved.minor : LATEST_POLICY_MINOR;
}
