// Whether a namespace asked for hardening. One definition for the webhook, the namespace cache and
// the allocator, so that they can never disagree about which namespaces are in.
import { OPT_IN_LABEL, type NamespaceInfo } from './model.js';

export function isOptedIn(namespace: NamespaceInfo): boolean {
  return namespace.labels[OPT_IN_LABEL] === 'enabled';
}
