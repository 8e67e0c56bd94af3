// The runtime form of a validated policy: namespace rules as predicates, ID blocks as numbers.
// Resolving a namespace's IDs is a short loop over predicates and, at most, one regex match.
import { formatIdRange, idRangesOverlap, parseIdRange } from './id-range.js';
import {
  GID_RANGE_ANNOTATION,
  UID_RANGE_ANNOTATION,
  type AllocationSettings,
  type CompiledPolicy,
  type IdDefaults,
  type IdResolution,
  type NamespaceInfo,
  type PodDefaults,
  type PolicyError,
  type PolicyMode,
  type PolicyParseResult,
} from './model.js';
import { compileLabelSelector, compileNamePatterns, type LabelSelector, type NamespacePredicate } from './namespace-matcher.js';

export interface CompiledRule {
  readonly matches: NamespacePredicate;
  /** null for a rule that only sets a mode: IDs then come from the allocated block or the fallback. */
  readonly ids: IdDefaults | null;
  /** The rule's own mode, overriding spec.mode; with where it was set ("spec.namespaces[1].mode"). */
  readonly mode?: PolicyMode;
  readonly modeSource?: string;
}

export interface CompiledPolicyParts {
  readonly name: string;
  readonly mode: PolicyMode;
  readonly defaults: PodDefaults;
  readonly allowPodOptOut: boolean;
  readonly allocation: AllocationSettings | null;
  readonly rules: readonly CompiledRule[];
  readonly fallback: IdDefaults | null;
  /** spec.fallback.mode: the mode of namespaces that match no rule. */
  readonly fallbackMode?: PolicyMode;
}

/** How a rule picks its namespaces, as data: names and globs, or a label selector. */
export type RuleMatch = { readonly names: readonly string[] } | { readonly selector: LabelSelector };

/**
 * A validated policy as plain data (no functions, no classes): what validation hands over when it
 * runs in another thread (structured clone), compiled by compileValidatedPolicy in time linear in
 * its rules and names, with no YAML or validation left to do.
 */
export interface ValidatedPolicy extends Omit<CompiledPolicyParts, 'rules'> {
  readonly rules: ReadonlyArray<Omit<CompiledRule, 'matches'> & { readonly match: RuleMatch }>;
}

export type PolicyValidation =
  | { readonly ok: true; readonly policy: ValidatedPolicy; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly errors: readonly PolicyError[] };

export function compileValidatedPolicy(validated: ValidatedPolicy): CompiledPolicy {
  const rules = validated.rules.map(({ match, ...rule }): CompiledRule => ({
    ...rule,
    matches: 'names' in match ? compileNamePatterns(match.names) : compileLabelSelector(match.selector),
  }));
  return createCompiledPolicy({ ...validated, rules });
}

/** A validation made usable: the policy compiled, or the same errors. */
export function compileValidation(validation: PolicyValidation): PolicyParseResult {
  if (!validation.ok) return validation;
  return { ok: true, policy: compileValidatedPolicy(validation.policy), warnings: validation.warnings };
}

const ANNOTATION_SOURCE = `namespace annotation ${UID_RANGE_ANNOTATION}`;

/** The namespace's own block from its annotations, or why it cannot be used. */
function readAnnotatedIds(parts: CompiledPolicyParts, namespace: NamespaceInfo): IdDefaults | string {
  const uidText = namespace.annotations[UID_RANGE_ANNOTATION] ?? '';
  const gidText = namespace.annotations[GID_RANGE_ANNOTATION];
  const prefix = `namespace "${namespace.name}": annotation`;
  const uid = parseIdRange(uidText);
  if (!uid.ok) return `${prefix} ${UID_RANGE_ANNOTATION} ignored: ${uid.reason}`;
  const gid = gidText === undefined ? uid : parseIdRange(gidText);
  if (!gid.ok) return `${prefix} ${GID_RANGE_ANNOTATION} ignored: ${gid.reason}`;
  // A hand-set block must not hand a namespace the IDs of a tenant the policy isolates by rule.
  for (const rule of parts.rules) {
    if (rule.ids === null) continue;
    for (const [label, range] of [['uid', uid.range], ['gid', gid.range]] as const) {
      const ruleRange = label === 'uid' ? rule.ids.uidRange : rule.ids.gidRange;
      if (idRangesOverlap(range, ruleRange)) {
        return `${prefix} ${label === 'uid' ? UID_RANGE_ANNOTATION : GID_RANGE_ANNOTATION} "${formatIdRange(range)}" ignored: it overlaps the ${label} range ${formatIdRange(ruleRange)} of ${rule.ids.source}; give the namespace a block of its own`;
      }
    }
  }
  // Nor the IDs every namespace without a block of its own shares.
  const fallback = parts.fallback;
  if (fallback !== null) {
    for (const [label, range, fallbackRange] of [['uid', uid.range, fallback.uidRange], ['gid', gid.range, fallback.gidRange]] as const) {
      if (idRangesOverlap(range, fallbackRange)) {
        return `${prefix} ${label === 'uid' ? UID_RANGE_ANNOTATION : GID_RANGE_ANNOTATION} "${formatIdRange(range)}" ignored: it overlaps the ${label} range ${formatIdRange(fallbackRange)} of ${fallback.source}, which every namespace without a block of its own shares; give the namespace a block outside it`;
      }
    }
  }
  // Blocks inside the pool are the allocator's to hand out (it records hand-set ones in its ledger
  // and reports clashes); one reaching past the pool's edge is half outside its bookkeeping.
  const pool = parts.allocation?.pool;
  if (pool !== undefined && idRangesOverlap(uid.range, pool) && (uid.range.min < pool.min || uid.range.max > pool.max)) {
    return `${prefix} ${UID_RANGE_ANNOTATION} "${formatIdRange(uid.range)}" ignored: it reaches past the edge of the allocation pool ${formatIdRange(pool)} (spec.allocation.range); use a block wholly inside the pool or wholly outside it`;
  }
  return { uidRange: uid.range, gidRange: gid.range, fsGroup: gid.range.min, origin: 'namespace-annotation', source: ANNOTATION_SOURCE };
}

export function createCompiledPolicy(parts: CompiledPolicyParts): CompiledPolicy {
  const fromRule = (rule: CompiledRule | undefined): Pick<IdResolution, 'mode' | 'modeSource'> => {
    if (rule?.mode !== undefined) return { mode: rule.mode, modeSource: rule.modeSource ?? 'spec.namespaces' };
    if (rule === undefined && parts.fallbackMode !== undefined) return { mode: parts.fallbackMode, modeSource: 'spec.fallback.mode' };
    return { mode: parts.mode, modeSource: 'spec.mode' };
  };
  const resolveIdDefaultsWithWarnings = (namespace: NamespaceInfo): IdResolution => {
    const rule = parts.rules.find((candidate) => candidate.matches(namespace));
    const modeOf = fromRule(rule);
    if (rule !== undefined && rule.ids !== null) return { defaults: rule.ids, warnings: [], ...modeOf };
    const warnings: string[] = [];
    if (namespace.annotations[UID_RANGE_ANNOTATION] !== undefined) {
      if (parts.allocation === null) {
        warnings.push(
          `namespace "${namespace.name}": annotation ${UID_RANGE_ANNOTATION} ignored because policy "${parts.name}" has no spec.allocation; add spec.allocation to use per-namespace blocks`,
        );
      } else {
        const annotated = readAnnotatedIds(parts, namespace);
        if (typeof annotated !== 'string') return { defaults: annotated, warnings, ...modeOf };
        warnings.push(annotated);
      }
    }
    if (warnings.length > 0 && parts.fallback !== null) warnings.push(`using spec.fallback ${formatIdRange(parts.fallback.uidRange)} instead`);
    return { defaults: parts.fallback, warnings, ...modeOf };
  };
  return {
    name: parts.name,
    mode: parts.mode,
    defaults: parts.defaults,
    allowPodOptOut: parts.allowPodOptOut,
    allocation: parts.allocation,
    resolveIdDefaults: (namespace) => resolveIdDefaultsWithWarnings(namespace).defaults,
    resolveIdDefaultsWithWarnings,
  };
}
