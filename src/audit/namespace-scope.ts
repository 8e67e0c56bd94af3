// Which namespaces the API server sends the webhook Pods from, as the pod webhook's
// namespaceSelector decides it. The API server matches the namespace's labels, among them
// kubernetes.io/metadata.name, which it sets to the name on every namespace (the chart's own
// selector excludes kube-system and its namespace through it). Pure: the selector comes in as JSON.
import { compileLabelsMatcher } from '../engine/namespace-matcher.js';
import type { NamespaceInfo, PolicyError } from '../engine/model.js';
import { readWebhookSelector, requirementText } from './object-selector.js';

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface NamespaceScope {
  /** The selector as kubectl writes one, cut when long. */
  readonly text: string;
  /** Why the namespace's Pods are never sent, or null when they are. */
  readonly exclusion: (namespace: NamespaceInfo) => string | null;
}

export type NamespaceScopeResult = { readonly ok: true; readonly scope: NamespaceScope | null } | { readonly ok: false; readonly errors: readonly PolicyError[] };

/** The namespace's labels as the API server matches them: its name label is always there, and always its name. */
export function namespaceLabels(namespace: NamespaceInfo): Readonly<Record<string, string>> {
  return { ...namespace.labels, [NAMESPACE_NAME_LABEL]: namespace.name };
}

/**
 * The namespaceSelector at `path` (absent, null or {} selects every namespace: no scope),
 * validated as the API server validates a LabelSelector; `source` names where it came from.
 */
export function namespaceScopeOf(value: unknown, path: string, source: string): NamespaceScopeResult {
  const read = readWebhookSelector(value, path);
  if (!read.ok) return read;
  const selector = read.selector;
  if (selector === null) return { ok: true, scope: null };
  const matches = compileLabelsMatcher(selector);
  const text = requirementText(selector);
  const reason = `never sent to the webhook: namespaceSelector ${JSON.stringify(text)} (${source}) does not match the namespace's labels`;
  return { ok: true, scope: { text, exclusion: (namespace) => (matches(namespaceLabels(namespace)) ? null : reason) } };
}
