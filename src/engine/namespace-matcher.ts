// Which namespaces a `spec.namespaces` rule applies to: name globs, or a Kubernetes label selector
// with the same semantics as metav1.LabelSelector. Compiled once when the policy loads.
import type { NamespaceInfo } from './model.js';
import { quoteText } from './policy-reader.js';

export type NamespacePredicate = (namespace: NamespaceInfo) => boolean;

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
export const SELECTOR_OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

export interface SelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly SelectorRequirement[];
}

const NAME_PATTERN_CHARS = /^[a-z0-9*?-]+$/;

/** Why a namespace name or glob can never match a namespace, or null when it is fine. */
export function namePatternProblem(pattern: string): string | null {
  if (pattern.length === 0) return 'is empty; write a namespace name or a glob such as "team-*"';
  if (pattern.length > 63) return `${quoteText(pattern)} is longer than 63 characters, the longest namespace name`;
  if (!NAME_PATTERN_CHARS.test(pattern)) {
    return `${quoteText(pattern)} is not a valid name or glob; use lowercase letters, digits, "-", and the wildcards "*" (any run) and "?" (one character)`;
  }
  return null;
}

const NAMESPACE_NAME_CHARS = /^[a-z0-9-]*$/;

/** A glob cut at its stars: the text between stars, where "?" stands for any one character. */
interface Glob {
  readonly segments: readonly string[];
  /** The pattern starts / ends with "*". */
  readonly openStart: boolean;
  readonly openEnd: boolean;
  /** Characters the segments need: a shorter name never matches. */
  readonly minLength: number;
}

function compileGlob(pattern: string): Glob {
  const parts = pattern.split('*');
  return {
    segments: parts.filter((part) => part !== ''),
    openStart: parts.length > 1 && parts[0] === '',
    openEnd: parts.length > 1 && parts[parts.length - 1] === '',
    minLength: pattern.replace(/\*/g, '').length,
  };
}

function segmentAt(name: string, segment: string, at: number): boolean {
  for (let i = 0; i < segment.length; i++) {
    const want = segment.charCodeAt(i);
    if (want !== 63 /* ? */ && want !== name.charCodeAt(at + i)) return false;
  }
  return true;
}

/** The first position from `from` where `segment` matches, or -1. */
function findSegment(name: string, segment: string, from: number, last: number): number {
  for (let at = from; at <= last; at++) if (segmentAt(name, segment, at)) return at;
  return -1;
}

/**
 * Glob matching without a regular expression, so no pattern can make it backtrack: the first and
 * last segments are anchored, each middle one is taken at its leftmost match (leftmost is always
 * safe between stars). At most name length × pattern length character comparisons, both ≤ 63.
 */
function globMatches(glob: Glob, name: string): boolean {
  if (name.length < glob.minLength || !NAMESPACE_NAME_CHARS.test(name)) return false;
  const segments = glob.segments;
  if (segments.length === 0) return glob.openStart; // "*" (any name) or "" (never written: refused by validation)
  let first = 0;
  let end = segments.length;
  let position = 0;
  let limit = name.length;
  if (!glob.openStart) {
    const head = segments[0]!;
    if (!segmentAt(name, head, 0)) return false;
    position = head.length;
    first = 1;
    if (!glob.openEnd && segments.length === 1) return head.length === name.length;
  }
  if (!glob.openEnd && end > first) {
    const tail = segments[end - 1]!;
    const at = name.length - tail.length;
    if (at < position || !segmentAt(name, tail, at)) return false;
    limit = at;
    end -= 1;
  }
  for (let i = first; i < end; i++) {
    const segment = segments[i]!;
    const at = findSegment(name, segment, position, limit - segment.length);
    if (at === -1) return false;
    position = at + segment.length;
  }
  return true;
}

/** Exact names go into a set; globs are matched by globMatches. */
export function compileNamePatterns(patterns: readonly string[]): NamespacePredicate {
  const exact = new Set<string>();
  const globs: Glob[] = [];
  for (const pattern of patterns) {
    if (/[*?]/.test(pattern)) globs.push(compileGlob(pattern));
    else exact.add(pattern);
  }
  return (namespace) => exact.has(namespace.name) || globs.some((glob) => globMatches(glob, namespace.name));
}

const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes qualified-name rules for label keys: optional DNS prefix, "/", name of at most 63. */
export function labelKeyProblem(key: string): string | null {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : null;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const quoted = quoteText(key);
  if (prefix !== null && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `${quoted} is not a valid label key: the prefix before "/" must be a lowercase DNS subdomain such as "example.com"`;
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return `${quoted} is not a valid label key: the name must be 1-63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
  }
  return null;
}

export function labelValueProblem(value: string): string | null {
  if (value === '') return null;
  if (value.length > 63 || !LABEL_NAME.test(value)) {
    return `${quoteText(value)} is not a valid label value: at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
  }
  return null;
}

function hasLabel(labels: Readonly<Record<string, string>>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(labels, key);
}

export type LabelsPredicate = (labels: Readonly<Record<string, string>>) => boolean;

/**
 * Requirements are ANDed; an empty selector matches everything, as in Kubernetes. A requirement
 * on a key the labels lack: In and Exists fail, NotIn and DoesNotExist hold. Each check is one
 * key lookup and one set lookup, so a match costs the selector's requirement count, whatever
 * the labels hold, and compiling costs its values once.
 */
export function compileLabelsMatcher(selector: LabelSelector): LabelsPredicate {
  const checks: LabelsPredicate[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels)) {
    checks.push((labels) => hasLabel(labels, key) && labels[key] === value);
  }
  for (const requirement of selector.matchExpressions) {
    const { key } = requirement;
    const values = new Set(requirement.values);
    switch (requirement.operator) {
      case 'In':
        checks.push((labels) => hasLabel(labels, key) && values.has(labels[key] ?? ''));
        break;
      case 'NotIn':
        checks.push((labels) => !hasLabel(labels, key) || !values.has(labels[key] ?? ''));
        break;
      case 'Exists':
        checks.push((labels) => hasLabel(labels, key));
        break;
      case 'DoesNotExist':
        checks.push((labels) => !hasLabel(labels, key));
        break;
    }
  }
  return (labels) => checks.every((check) => check(labels));
}

/** A namespace rule's selector, matched against the namespace's labels. */
export function compileLabelSelector(selector: LabelSelector): NamespacePredicate {
  const matches = compileLabelsMatcher(selector);
  return (namespace) => matches(namespace.labels);
}
