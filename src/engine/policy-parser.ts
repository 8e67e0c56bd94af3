// The SecureDefaultsPolicy format: validates a policy document field by field (collecting every
// mistake with its path and fix) and compiles it into a CompiledPolicy.
import { compileValidation, type PolicyValidation, type RuleMatch, type ValidatedPolicy } from './compiled-policy.js';
import { formatIdRange, idRangeContains, idRangesOverlap, MAX_ID, parseIdRange } from './id-range.js';
import { POLICY_MODES, type AllocationSettings, type IdDefaults, type IdOrigin, type IdRange, type PodDefaults, type PolicyMode, type PolicyParseResult, type SeccompDefault } from './model.js';
import {
  labelKeyProblem,
  labelValueProblem,
  namePatternProblem,
  SELECTOR_OPERATORS,
  type LabelSelector,
  type SelectorOperator,
  type SelectorRequirement,
} from './namespace-matcher.js';

import { DOCUMENT_PATH, readSingleYamlDocument } from './policy-document.js';
import { boundErrors, childPath, describeValue, PolicyErrorList, quoteText } from './policy-reader.js';
import { closestName } from './closest-name.js';
import { isJsonObject, type JsonObject } from '../foundation/json-object.js';


export const POLICY_API_VERSION = 'secure-defaults.io/v1alpha1';
export const POLICY_KIND = 'SecureDefaultsPolicy';

const DEFAULT_ALLOCATION_RANGE: IdRange = { min: 1000000000, max: 1999999999 };
const DEFAULT_BLOCK_SIZE = 10000;
const CAPABILITY_NAME = /^[A-Z][A-Z0-9_]*$/;
const RESTRICTED_HINT = 'Pods hardened with this policy will not pass the Pod Security Standards "restricted" profile';

interface IdBlock {
  readonly path: string;
  readonly uidRange: IdRange;
  readonly gidRange: IdRange;
  readonly gidExplicit: boolean;
  readonly fsGroup: number;
}

function quoteChoice(values: readonly string[]): string {
  return values.map((value) => JSON.stringify(value)).join(', ');
}

/** A string that must be one of `choices`; suggests the closest on a typo. */
function readChoice<T extends string>(
  errors: PolicyErrorList,
  map: JsonObject,
  key: string,
  path: string,
  choices: readonly T[],
  explanation: string,
): T | undefined {
  const value = map[key];
  if (value === undefined || value === null) return undefined;
  const fieldPath = childPath(path, key);
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  const suggestion = typeof value === 'string' ? closestName(value, choices) : null;
  const fix = suggestion !== null ? `did you mean ${JSON.stringify(suggestion)}? ` : '';
  errors.add(fieldPath, `${describeValue(value)} is not allowed; ${fix}use one of ${quoteChoice(choices)} (${explanation})`);
  return undefined;
}

function readIdRange(errors: PolicyErrorList, map: JsonObject, key: string, path: string): IdRange | undefined {
  const value = map[key];
  const fieldPath = childPath(path, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    errors.add(fieldPath, `expected a string "MIN-MAX" such as "10000-19999", got ${describeValue(value)}`);
    return undefined;
  }
  const parsed = parseIdRange(value);
  if (!parsed.ok) {
    errors.add(fieldPath, parsed.reason);
    return undefined;
  }
  return parsed.range;
}

function readId(errors: PolicyErrorList, map: JsonObject, key: string, path: string, what: string): number | undefined {
  const value = map[key];
  if (value === undefined || value === null) return undefined;
  const fieldPath = childPath(path, key);
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    errors.add(fieldPath, `expected a whole number (${what}), got ${describeValue(value)}`);
    return undefined;
  }
  if (value <= 0) {
    errors.add(fieldPath, `${value} is not allowed: ${value === 0 ? '0 is root' : 'IDs are positive'}; use an ID of 1 or above`);
    return undefined;
  }
  if (value > MAX_ID) {
    errors.add(fieldPath, `${value} is above the highest ID Kubernetes accepts (${MAX_ID}); use a smaller one`);
    return undefined;
  }
  return value;
}

const ID_BLOCK_FIELDS = ['uidRange', 'gidRange', 'fsGroup'] as const;
const MODE_EXPLANATION = 'fill only adds what is missing; warn also reports what enforce would refuse; enforce also refuses it';

function readMode(errors: PolicyErrorList, map: JsonObject, path: string): PolicyMode | undefined {
  return readChoice(errors, map, 'mode', path, POLICY_MODES, MODE_EXPLANATION);
}

/** uidRange (required), gidRange (default: uidRange), fsGroup (default: first GID, must be inside). */
function readIdBlock(errors: PolicyErrorList, map: JsonObject, path: string): IdBlock | undefined {
  if (map['uidRange'] === undefined || map['uidRange'] === null) {
    errors.add(childPath(path, 'uidRange'), 'required; add the UID range for these namespaces, e.g. uidRange: "10000-19999"');
  }
  const uidRange = readIdRange(errors, map, 'uidRange', path);
  const explicitGid = readIdRange(errors, map, 'gidRange', path);
  const fsGroup = readId(errors, map, 'fsGroup', path, 'a GID inside gidRange');
  if (uidRange === undefined) return undefined;
  const gidRange = explicitGid ?? uidRange;
  const gidExplicit = map['gidRange'] !== undefined && map['gidRange'] !== null;
  if (gidExplicit && explicitGid === undefined) return undefined;
  if (fsGroup !== undefined && !idRangeContains(gidRange, fsGroup)) {
    errors.add(
      childPath(path, 'fsGroup'),
      `${fsGroup} is outside the gidRange ${formatIdRange(gidRange)}; pick a GID inside it, or leave fsGroup out to use ${gidRange.min}`,
    );
  }
  // Returned even after an fsGroup error so that its ranges still take part in the overlap checks.
  return { path, uidRange, gidRange, gidExplicit, fsGroup: fsGroup ?? gidRange.min };
}

function readSeccompProfile(errors: PolicyErrorList, defaults: JsonObject, path: string): SeccompDefault | null {
  const value = defaults['seccompProfile'];
  const fieldPath = childPath(path, 'seccompProfile');
  const allowed = 'use RuntimeDefault, None (leave unset), or {type: Localhost, localhostProfile: profiles/name.json}';
  if (value === undefined || value === null || value === 'RuntimeDefault') return { type: 'RuntimeDefault' };
  if (value === 'None') return null;
  if (typeof value === 'string') {
    if (value === 'Unconfined') errors.add(fieldPath, `"Unconfined" turns seccomp off, which the "restricted" profile forbids; ${allowed}`);
    else if (value === 'Localhost') errors.add(fieldPath, `"Localhost" needs a profile file; write {type: Localhost, localhostProfile: profiles/name.json}`);
    else {
      const suggestion = closestName(value, ['RuntimeDefault', 'None']);
      errors.add(fieldPath, `${describeValue(value)} is not a seccomp profile; ${suggestion !== null ? `did you mean ${JSON.stringify(suggestion)}? ` : ''}${allowed}`);
    }
    return null;
  }
  if (!isJsonObject(value)) {
    errors.add(fieldPath, `expected RuntimeDefault, None or a map {type, localhostProfile}, got ${describeValue(value)}`);
    return null;
  }
  errors.rejectUnknownFields(value, fieldPath, ['type', 'localhostProfile']);
  const type = readChoice(errors, value, 'type', fieldPath, ['RuntimeDefault', 'Localhost'] as const, 'restricted allows only these');
  const profile = errors.optionalString(value, 'localhostProfile', fieldPath, 'a path relative to the kubelet seccomp directory');
  if (value['type'] === undefined || value['type'] === null) errors.add(childPath(fieldPath, 'type'), 'required; use RuntimeDefault or Localhost');
  if (type === 'RuntimeDefault') {
    if (profile !== undefined) errors.add(childPath(fieldPath, 'localhostProfile'), 'only allowed with type: Localhost; remove it or change the type');
    return { type: 'RuntimeDefault' };
  }
  if (type === 'Localhost') {
    if (profile === undefined || profile === '') {
      errors.add(childPath(fieldPath, 'localhostProfile'), 'required with type: Localhost; name the profile file, e.g. profiles/audit.json');
      return null;
    }
    // Kubernetes refuses absolute paths and ".." segments here (a descending path under the seccomp root).
    if (profile.startsWith('/') || profile.split('/').includes('..')) {
      errors.add(childPath(fieldPath, 'localhostProfile'), `${quoteText(profile)} must be a relative path below the kubelet seccomp directory, without ".."`);
      return null;
    }
    return { type: 'Localhost', localhostProfile: profile };
  }
  return null;
}

const DEFAULTS_FIELDS = [
  'runAsNonRoot',
  'seccompProfile',
  'dropCapabilities',
  'allowPrivilegeEscalation',
  'readOnlyRootFilesystem',
  'fsGroupChangePolicy',
  'keepRequestedPrivileges',
  'hostUsers',
] as const;

function readDefaults(errors: PolicyErrorList, warnings: string[], spec: JsonObject): PodDefaults {
  const path = 'spec.defaults';
  const raw = spec['defaults'];
  const map = raw === undefined || raw === null ? {} : errors.map(raw, path, 'runAsNonRoot, seccompProfile, dropCapabilities, …') ?? {};
  errors.rejectUnknownFields(map, path, DEFAULTS_FIELDS);

  const runAsNonRoot = errors.optionalBoolean(map, 'runAsNonRoot', path) ?? true;
  const seccompProfile = readSeccompProfile(errors, map, path);
  const dropCapabilities = errors.optionalStringList(map, 'dropCapabilities', path, 'capability names such as ALL') ?? ['ALL'];
  dropCapabilities.forEach((capability, index) => {
    if (!CAPABILITY_NAME.test(capability)) {
      errors.add(`${path}.dropCapabilities[${index}]`, `${quoteText(capability)} is not a capability name; write it in capitals without spaces, e.g. ALL or NET_RAW`);
    }
  });
  let allowPrivilegeEscalation: boolean | null = false;
  const escalation = map['allowPrivilegeEscalation'];
  if (escalation === 'None') allowPrivilegeEscalation = null;
  else if (escalation === true) {
    errors.add(`${path}.allowPrivilegeEscalation`, 'true would let setuid binaries gain privileges; use false (the default) or None to leave it unset');
  } else if (escalation !== undefined && escalation !== null && escalation !== false) {
    errors.add(`${path}.allowPrivilegeEscalation`, `expected false or None, got ${describeValue(escalation)}`);
  }
  const readOnlyRootFilesystem = errors.optionalBoolean(map, 'readOnlyRootFilesystem', path) ?? false;
  const changePolicy =
    readChoice(errors, map, 'fsGroupChangePolicy', path, ['OnRootMismatch', 'Always', 'None'] as const, 'None adds nothing beside an injected fsGroup') ?? 'OnRootMismatch';
  const keepRequestedPrivileges = errors.optionalBoolean(map, 'keepRequestedPrivileges', path) ?? true;
  if (!keepRequestedPrivileges) {
    warnings.push(
      `${path}.keepRequestedPrivileges is false: privileged containers get the namespace's UID and runAsNonRoot, and root or node-using containers lose their capabilities; such Pods are admitted and may then fail on the node`,
    );
  }

  const hostUsers = map['hostUsers'];
  if (hostUsers === true) {
    errors.add(`${path}.hostUsers`, 'true is what Kubernetes does anyway (Pods share the node\'s user namespace); use false to run Pods in their own user namespace, or leave it out');
  } else if (hostUsers !== undefined && hostUsers !== null && hostUsers !== false) {
    errors.add(`${path}.hostUsers`, `expected false (run Pods in their own user namespace), got ${describeValue(hostUsers)}`);
  }

  if (!runAsNonRoot) warnings.push(`${path}.runAsNonRoot is false: ${RESTRICTED_HINT}`);
  if (seccompProfile === null && map['seccompProfile'] === 'None') warnings.push(`${path}.seccompProfile is None: ${RESTRICTED_HINT}`);
  if (!dropCapabilities.includes('ALL')) warnings.push(`${path}.dropCapabilities does not include ALL: ${RESTRICTED_HINT}`);
  if (allowPrivilegeEscalation === null) warnings.push(`${path}.allowPrivilegeEscalation is None: ${RESTRICTED_HINT}`);

  return {
    runAsNonRoot,
    seccompProfile,
    dropCapabilities: [...new Set(dropCapabilities)],
    allowPrivilegeEscalation,
    readOnlyRootFilesystem,
    fsGroupChangePolicy: changePolicy === 'None' ? null : changePolicy,
    keepRequestedPrivileges,
    ...(hostUsers === false ? { hostUsers: false as const } : {}),
  };
}

/** A metav1.LabelSelector, validated as the API server would, every mistake recorded at its path. */
export function readSelector(errors: PolicyErrorList, value: unknown, path: string): LabelSelector | undefined {
  const map = errors.map(value, path, 'matchLabels and/or matchExpressions');
  if (map === null) return undefined;
  errors.rejectUnknownFields(map, path, ['matchLabels', 'matchExpressions']);
  const before = errors.errors.length;
  const matchLabels: Record<string, string> = {};
  const labelsValue = map['matchLabels'];
  if (labelsValue !== undefined && labelsValue !== null) {
    const labels = errors.map(labelsValue, `${path}.matchLabels`, 'label key: value');
    for (const [key, labelValue] of Object.entries(labels ?? {})) {
      const keyPath = childPath(`${path}.matchLabels`, key);
      const keyProblem = labelKeyProblem(key);
      if (keyProblem !== null) errors.add(keyPath, keyProblem);
      if (typeof labelValue !== 'string') {
        errors.add(keyPath, `expected a string label value, got ${describeValue(labelValue)}; quote it, e.g. ${quoteText(String(labelValue))}`);
        continue;
      }
      const valueProblem = labelValueProblem(labelValue);
      if (valueProblem !== null) errors.add(keyPath, valueProblem);
      matchLabels[key] = labelValue;
    }
  }
  const matchExpressions: SelectorRequirement[] = [];
  const expressionsValue = map['matchExpressions'];
  if (expressionsValue !== undefined && expressionsValue !== null) {
    if (!Array.isArray(expressionsValue)) {
      errors.add(`${path}.matchExpressions`, `expected a list of {key, operator, values}, got ${describeValue(expressionsValue)}`);
    } else {
      expressionsValue.forEach((item: unknown, index) => {
        const itemPath = `${path}.matchExpressions[${index}]`;
        const expression = errors.map(item, itemPath, '{key, operator, values}');
        if (expression === null) return;
        errors.rejectUnknownFields(expression, itemPath, ['key', 'operator', 'values']);
        const key = errors.optionalString(expression, 'key', itemPath, 'a label key');
        if (key === undefined && (expression['key'] === undefined || expression['key'] === null)) errors.add(`${itemPath}.key`, 'required; name the label to test');
        if (key !== undefined) {
          const keyProblem = labelKeyProblem(key);
          if (keyProblem !== null) errors.add(`${itemPath}.key`, keyProblem);
        }
        const operator = readChoice<SelectorOperator>(errors, expression, 'operator', itemPath, SELECTOR_OPERATORS, 'Kubernetes label selector operators');
        if (expression['operator'] === undefined || expression['operator'] === null) errors.add(`${itemPath}.operator`, `required; use one of ${quoteChoice(SELECTOR_OPERATORS)}`);
        const values = errors.optionalStringList(expression, 'values', itemPath, 'label values') ?? [];
        values.forEach((labelValue, valueIndex) => {
          const problem = labelValueProblem(labelValue);
          if (problem !== null) errors.add(`${itemPath}.values[${valueIndex}]`, problem);
        });
        if ((operator === 'In' || operator === 'NotIn') && values.length === 0) {
          errors.add(`${itemPath}.values`, `required and non-empty with operator ${operator}; list the label values to compare with`);
        }
        if ((operator === 'Exists' || operator === 'DoesNotExist') && values.length > 0) {
          errors.add(`${itemPath}.values`, `must be empty with operator ${operator}; remove values`);
        }
        if (key !== undefined && operator !== undefined) matchExpressions.push({ key, operator, values });
      });
    }
  }
  return errors.errors.length === before ? { matchLabels, matchExpressions } : undefined;
}

interface ParsedRule {
  readonly path: string;
  /** undefined for a rule that only sets a mode (or had errors). */
  readonly block: IdBlock | undefined;
  readonly mode: PolicyMode | undefined;
  /** undefined when the names or selector had errors (the policy is then refused anyway). */
  readonly match: RuleMatch | undefined;
}

/** Globs in one policy: a namespace no exact name matches is compared with every one of them. */
export const MAX_GLOBS = 1000;

function globCounter(): { count(pattern: string): string | null } {
  let globs = 0;
  return {
    count(pattern) {
      if (!/[*?]/.test(pattern) || ++globs <= MAX_GLOBS) return null;
      return `is glob number ${globs}; a policy may have at most ${MAX_GLOBS} globs (names with * or ?): list exact names, which cost nothing to match, or use a label selector`;
    },
  };
}

function readRules(errors: PolicyErrorList, warnings: string[], spec: JsonObject): ParsedRule[] {
  const globBudget = globCounter();
  const value = spec['namespaces'];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    errors.add('spec.namespaces', `expected a list of rules (- names: [...] or - selector: {...}, with uidRange), got ${describeValue(value)}`);
    return [];
  }
  const rules: ParsedRule[] = [];
  value.forEach((item: unknown, index) => {
    const path = `spec.namespaces[${index}]`;
    const rule = errors.map(item, path, 'names or selector, uidRange, gidRange, fsGroup');
    if (rule === null) return;
    errors.rejectUnknownFields(rule, path, ['names', 'selector', ...ID_BLOCK_FIELDS, 'mode']);
    const hasNames = rule['names'] !== undefined && rule['names'] !== null;
    const hasSelector = rule['selector'] !== undefined && rule['selector'] !== null;
    if (hasNames && hasSelector) errors.add(path, 'has both names and selector; a rule matches by one of them: split it into two rules');
    if (!hasNames && !hasSelector) errors.add(path, 'has neither names nor selector; add names: ["team-a", "team-*"] or selector: {matchLabels: {…}}');
    let match: RuleMatch | undefined;
    if (hasNames) {
      const before = errors.errors.length;
      const names = errors.optionalStringList(rule, 'names', path, 'namespace names or globs') ?? [];
      if (Array.isArray(rule['names']) && names.length === 0 && errors.errors.length === before) {
        errors.add(`${path}.names`, 'is empty; list at least one namespace name or glob');
      }
      names.forEach((name, nameIndex) => {
        const problem = namePatternProblem(name) ?? globBudget.count(name);
        if (problem !== null) errors.add(`${path}.names[${nameIndex}]`, problem);
      });
      if (errors.errors.length === before) match = { names };
    }
    if (hasSelector) {
      const selector = readSelector(errors, rule['selector'], `${path}.selector`);
      if (selector !== undefined) {
        if (Object.keys(selector.matchLabels).length === 0 && selector.matchExpressions.length === 0) {
          warnings.push(`${path}.selector is empty and matches every namespace; rules after it are never used`);
        }
        if (!hasNames) match = { selector };
      }
    }
    const mode = readMode(errors, rule, path);
    // A rule with a mode and no IDs moves its namespaces to that mode and leaves their IDs to the
    // allocated block or the fallback (a namespace with an allocated block keeps it).
    const modeOnly = isUnsetValue(rule['uidRange']) && isUnsetValue(rule['gidRange']) && isUnsetValue(rule['fsGroup']) && !isUnsetValue(rule['mode']);
    const block = modeOnly ? undefined : readIdBlock(errors, rule, path);
    rules.push({ path, block, mode, match });
  });
  return rules;
}

function isUnsetValue(value: unknown): boolean {
  return value === undefined || value === null;
}

interface ParsedFallback {
  readonly block: IdBlock | null;
  readonly mode: PolicyMode | undefined;
}

function readFallback(errors: PolicyErrorList, spec: JsonObject): ParsedFallback {
  const value = spec['fallback'];
  if (value === undefined || value === null) return { block: null, mode: undefined };
  const map = errors.map(value, 'spec.fallback', 'uidRange, gidRange, fsGroup, mode');
  if (map === null) return { block: null, mode: undefined };
  errors.rejectUnknownFields(map, 'spec.fallback', [...ID_BLOCK_FIELDS, 'mode']);
  const mode = readMode(errors, map, 'spec.fallback');
  // Like a rule, a fallback may set only a mode: namespaces matching no rule then get no fallback IDs.
  const modeOnly = isUnsetValue(map['uidRange']) && isUnsetValue(map['gidRange']) && isUnsetValue(map['fsGroup']) && !isUnsetValue(map['mode']);
  return { block: modeOnly ? null : (readIdBlock(errors, map, 'spec.fallback') ?? null), mode };
}

function readAllocation(errors: PolicyErrorList, spec: JsonObject): AllocationSettings | null {
  const value = spec['allocation'];
  const path = 'spec.allocation';
  if (value === undefined || value === null) return null;
  const map = errors.map(value, path, 'range, blockSize, releaseAfter');
  if (map === null) return null;
  errors.rejectUnknownFields(map, path, ['range', 'blockSize', 'releaseAfter']);
  const releaseAfter = map['releaseAfter'];
  let releaseAfterMs: number | null = null;
  if (releaseAfter !== undefined && releaseAfter !== null) {
    releaseAfterMs = typeof releaseAfter === 'string' ? parseGoDurationMs(releaseAfter) : null;
    if (releaseAfterMs === null) {
      errors.add(`${path}.releaseAfter`, `expected a duration such as "720h" (30 days) or "2160h30m" (units h, m, s), got ${describeValue(releaseAfter)}`);
    }
  }
  const releaseAfterValid = releaseAfter === undefined || releaseAfter === null || releaseAfterMs !== null;
  const pool = readIdRange(errors, map, 'range', path);
  const blockSize = map['blockSize'];
  let size = DEFAULT_BLOCK_SIZE;
  if (blockSize !== undefined && blockSize !== null) {
    if (typeof blockSize !== 'number' || !Number.isInteger(blockSize) || blockSize < 1) {
      errors.add(`${path}.blockSize`, `expected a positive whole number of IDs per namespace, e.g. 10000, got ${describeValue(blockSize)}`);
      return null;
    }
    size = blockSize;
  }
  const range = pool ?? (map['range'] === undefined || map['range'] === null ? DEFAULT_ALLOCATION_RANGE : undefined);
  if (range === undefined) return null;
  if (size > range.max - range.min + 1) {
    errors.add(`${path}.blockSize`, `${size} is larger than the whole pool ${formatIdRange(range)}; use a smaller blockSize or a larger range`);
    return null;
  }
  // Checked last so that a bad releaseAfter does not hide mistakes in range or blockSize.
  if (!releaseAfterValid) return null;
  return { pool: range, blockSize: size, releaseAfterMs };
}

/** "720h", "1h30m", "90s" (Go's duration syntax, whole numbers, units h/m/s) to ms; null when malformed. */
function parseGoDurationMs(text: string): number | null {
  if (!/^(\d+[hms])+$/.test(text)) return null;
  const unitMs: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000 };
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)([hms])/g)) total += Number(amount) * (unitMs[unit ?? ''] ?? 0);
  return total;
}

interface NamedRange {
  readonly path: string;
  readonly range: IdRange;
  /** Implicit GID ranges (copied from uidRange) are only compared to report explicit clashes. */
  readonly explicit: boolean;
}

/**
 * Tenants must never share IDs: rules, fallback and the allocation pool are pairwise disjoint.
 * Sorted by start and swept once (n log n; comparing every pair took seconds on 25,000 rules):
 * a range overlaps something that starts no later than it exactly when it starts before the
 * furthest end seen so far. Each overlap is reported on the later of the two in the document.
 */
function rejectOverlaps(errors: PolicyErrorList, ranges: readonly NamedRange[], kind: 'UID' | 'GID'): void {
  const order = ranges.map((_, index) => index).sort((a, b) => ranges[a]!.range.min - ranges[b]!.range.min || a - b);
  const reported = new Set<number>();
  const clashes: Array<{ on: number; with: number }> = [];
  // The range reaching furthest among those swept, and among the explicit ones only: an implicit
  // range is only compared with explicit ones.
  let furthest = -1;
  let furthestExplicit = -1;
  for (const index of order) {
    const current = ranges[index]!;
    const partner = current.explicit ? furthest : furthestExplicit;
    if (partner !== -1 && idRangesOverlap(ranges[partner]!.range, current.range)) {
      const [earlier, later] = partner < index ? [partner, index] : [index, partner];
      if (!reported.has(later)) {
        reported.add(later);
        clashes.push({ on: later, with: earlier });
      }
    }
    if (furthest === -1 || current.range.max > ranges[furthest]!.range.max) furthest = index;
    if (current.explicit && (furthestExplicit === -1 || current.range.max > ranges[furthestExplicit]!.range.max)) furthestExplicit = index;
  }
  clashes.sort((x, y) => x.on - y.on);
  for (const clash of clashes) {
    const a = ranges[clash.with]!;
    const b = ranges[clash.on]!;
    errors.add(
      b.path,
      `"${formatIdRange(b.range)}" overlaps ${a.path} ("${formatIdRange(a.range)}"); give each its own ${kind} range so different namespaces never share a ${kind}`,
    );
  }
}

function toIdDefaults(block: IdBlock, origin: IdOrigin): IdDefaults {
  return { uidRange: block.uidRange, gidRange: block.gidRange, fsGroup: block.fsGroup, origin, source: block.path };
}

function readMetadataName(errors: PolicyErrorList, document: JsonObject): string {
  const value = document['metadata'];
  if (value === undefined || value === null) return 'unnamed';
  const metadata = errors.map(value, 'metadata', 'name, labels, annotations');
  if (metadata === null) return 'unnamed';
  errors.rejectUnknownFields(metadata, 'metadata', ['name', 'namespace', 'labels', 'annotations']);
  return errors.optionalString(metadata, 'name', 'metadata', 'the policy name') ?? 'unnamed';
}

function readHeader(errors: PolicyErrorList, document: JsonObject): void {
  for (const [key, expected] of [['apiVersion', POLICY_API_VERSION], ['kind', POLICY_KIND]] as const) {
    const value = document[key];
    if (value === undefined || value === null) errors.add(key, `required; add ${key}: ${expected}`);
    else if (value !== expected) errors.add(key, `${describeValue(value)} is not supported; use ${key}: ${expected}`);
  }
}

function validateDocument(document: unknown): PolicyValidation {
  const errors = new PolicyErrorList();
  const warnings: string[] = [];
  if (!isJsonObject(document)) {
    errors.add(DOCUMENT_PATH, `expected a map with apiVersion, kind and spec, got ${describeValue(document)}`);
    return { ok: false, errors: errors.errors };
  }
  errors.rejectUnknownFields(document, '', ['apiVersion', 'kind', 'metadata', 'spec']);
  readHeader(errors, document);
  const name = readMetadataName(errors, document);
  const specValue = document['spec'];
  if (specValue === undefined || specValue === null) {
    errors.add('spec', 'required; add spec: with at least mode: fill');
    return { ok: false, errors: errors.errors };
  }
  const spec = errors.map(specValue, 'spec', 'mode, defaults, namespaces, fallback, allocation, allowPodOptOut');
  if (spec === null) return { ok: false, errors: errors.errors };
  errors.rejectUnknownFields(spec, 'spec', ['mode', 'defaults', 'namespaces', 'fallback', 'allocation', 'allowPodOptOut']);

  const mode = readMode(errors, spec, 'spec') ?? 'fill';
  const defaults = readDefaults(errors, warnings, spec);
  const rules = readRules(errors, warnings, spec);
  const { block: fallback, mode: fallbackMode } = readFallback(errors, spec);
  const allocation = readAllocation(errors, spec);
  const allowPodOptOut = errors.optionalBoolean(spec, 'allowPodOptOut', 'spec') ?? false;

  const blocks = [...rules.flatMap((rule) => (rule.block === undefined ? [] : [rule.block])), ...(fallback === null ? [] : [fallback])];
  const pool: NamedRange[] = allocation === null ? [] : [{ path: 'spec.allocation.range', range: allocation.pool, explicit: true }];
  rejectOverlaps(errors, [...blocks.map((b) => ({ path: `${b.path}.uidRange`, range: b.uidRange, explicit: true })), ...pool], 'UID');
  rejectOverlaps(errors, [...blocks.map((b) => ({ path: `${b.path}.gidRange`, range: b.gidRange, explicit: b.gidExplicit })), ...pool], 'GID');

  if (errors.errors.length > 0) return { ok: false, errors: errors.errors };
  const validatedRules: ValidatedPolicy['rules'] = rules.flatMap(({ path, block, mode: ruleMode, match }) =>
    match === undefined || (block === undefined && ruleMode === undefined)
      ? []
      : [{ match, ids: block === undefined ? null : toIdDefaults(block, 'rule'), ...(ruleMode !== undefined ? { mode: ruleMode, modeSource: `${path}.mode` } : {}) }],
  );
  const policy: ValidatedPolicy = {
    name,
    mode,
    defaults,
    allowPodOptOut,
    allocation,
    rules: validatedRules,
    fallback: fallback === null ? null : toIdDefaults(fallback, 'fallback'),
    ...(fallbackMode !== undefined ? { fallbackMode } : {}),
  };
  return { ok: true, policy, warnings };
}

/** Never throws: every problem in the text comes back as a PolicyError with a path and a fix. */
export function parsePolicy(yamlText: string): PolicyParseResult {
  return compileValidation(validatePolicy(yamlText));
}

/**
 * The YAML read and every check of parsePolicy, as plain data that can cross a thread boundary
 * (src/server/policy-parse-worker.ts); compileValidation finishes it. Never throws.
 */
export function validatePolicy(yamlText: string): PolicyValidation {
  try {
    if (typeof yamlText !== 'string') {
      return { ok: false, errors: [{ path: DOCUMENT_PATH, message: `expected the policy as YAML text, got ${describeValue(yamlText)}` }] };
    }
    const read = readSingleYamlDocument(yamlText);
    if (!read.ok) return { ok: false, errors: boundErrors(read.errors) };
    return validateDocument(read.value);
  } catch (error) {
    // A bug in the parser must still not take the webhook down with a stack trace.
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, errors: [{ path: DOCUMENT_PATH, message: `could not be parsed (${reason}); please report this policy as a bug` }] };
  }
}
