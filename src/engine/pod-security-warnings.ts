// What Pod Security Admission will still refuse in a hardened Pod, told to the Pod's author as
// warnings before the API server refuses it. The namespace's own PSA labels say which profile and
// which policy version apply (pod-security.kubernetes.io/enforce and enforce-version), read the way
// PSA reads them: an unreadable level means restricted, an unreadable version means latest.
import type { NamespaceInfo } from './model.js';
import { checkPodSecurity, parsePssVersion, type PodSecurityLevel, type PssVersion } from './restricted/index.js';
import { NO_WARNINGS, WarningList, type ReasonedWarnings } from './warning-reasons.js';

export const ENFORCE_LEVEL_LABEL = 'pod-security.kubernetes.io/enforce';
export const ENFORCE_VERSION_LABEL = 'pod-security.kubernetes.io/enforce-version';

/** The API server may cut longer warnings; each one is kept to this many characters. */
const MAX_WARNING_LENGTH = 256;
/** Findings warned one by one; the rest are counted in one last warning. */
const MAX_FINDING_WARNINGS = 5;

export interface EnforcedProfile {
  readonly level: PodSecurityLevel;
  readonly version: PssVersion;
  /** Why the profile is not exactly what the labels say (unreadable label, version older than modelled). */
  readonly notes: readonly string[];
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The profile the namespace's PSA enforce labels select; null when nothing is enforced (no label, or privileged). */
export function enforcedProfile(namespace: NamespaceInfo): EnforcedProfile | null {
  const levelLabel = namespace.labels[ENFORCE_LEVEL_LABEL];
  if (levelLabel === undefined || levelLabel === 'privileged') return null;
  const notes: string[] = [];
  let level: PodSecurityLevel;
  if (levelLabel === 'baseline' || levelLabel === 'restricted') level = levelLabel;
  else {
    level = 'restricted';
    notes.push(`label ${ENFORCE_LEVEL_LABEL}: "${shorten(levelLabel, 40)}" is not privileged, baseline or restricted; Pod Security Admission enforces restricted`);
  }
  const versionLabel = namespace.labels[ENFORCE_VERSION_LABEL];
  let version: PssVersion = 'latest';
  if (versionLabel !== undefined) {
    const parsed = parsePssVersion(versionLabel);
    if (parsed.ok) {
      version = parsed.resolved.version;
      if (parsed.resolved.note !== undefined) notes.push(parsed.resolved.note);
    } else {
      notes.push(`label ${ENFORCE_VERSION_LABEL}: ${parsed.error}; Pod Security Admission enforces latest`);
    }
  }
  return { level, version, notes };
}

/**
 * One warning per check the hardened Pod still fails under the namespace's enforced profile (at
 * most MAX_FINDING_WARNINGS, then a count), each short enough that the API server passes it on whole.
 */
export function podSecurityWarnings(namespace: NamespaceInfo, hardenedPod: unknown): ReasonedWarnings {
  const profile = enforcedProfile(namespace);
  if (profile === null) return NO_WARNINGS;
  const findings = checkPodSecurity(hardenedPod, profile.level, profile.version);
  if (findings.length === 0) return NO_WARNINGS;
  const name = `${profile.level}:${profile.version}`;
  const warnings = new WarningList();
  // A note says how the labels were read, not what will be refused: counted apart from the findings.
  for (const note of profile.notes) warnings.add('other', shorten(note, MAX_WARNING_LENGTH));
  for (const finding of findings.slice(0, MAX_FINDING_WARNINGS)) {
    warnings.add('pod-security-will-refuse', shorten(`Pod Security "${name}" (namespace "${namespace.name}") will refuse this Pod: ${finding.reason} at ${finding.path}: ${finding.message}`, MAX_WARNING_LENGTH));
  }
  if (findings.length > MAX_FINDING_WARNINGS) {
    warnings.add('pod-security-will-refuse', `Pod Security "${name}" will also refuse it for ${findings.length - MAX_FINDING_WARNINGS} more reasons (secure-defaults check --pss-version ${profile.version} lists them all)`);
  }
  return warnings;
}
