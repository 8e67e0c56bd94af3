// The ports without a cluster: one fixed policy, namespaces that are all opted in or listed in
// memory, and no allocator. `serve --policy FILE`, the audit's replay and the tests use them.
import { OPT_IN_LABEL, type CompiledPolicy, type NamespaceInfo } from '../engine/model.js';
import type { AllocatedBlocks, NamespaceDirectory, PolicySnapshot, PolicySource } from './admission-ports.js';

export function staticPolicySource(policy: CompiledPolicy): PolicySource {
  const snapshot: PolicySnapshot = { policy, generation: 1 };
  return { current: () => snapshot };
}

/** Standalone mode (`--policy FILE`, no cluster): every namespace counts as opted in and has no other labels. */
export function everyNamespaceOptedIn(): NamespaceDirectory {
  return {
    lookup: async (name) => ({ name, labels: { [OPT_IN_LABEL]: 'enabled' }, annotations: {} }),
  };
}

/** A fixed set of namespaces, for tests and demos. */
export function inMemoryNamespaces(namespaces: readonly NamespaceInfo[]): NamespaceDirectory {
  const byName = new Map(namespaces.map((ns) => [ns.name, ns]));
  return { lookup: async (name) => byName.get(name) ?? null };
}

/**
 * No allocator runs (standalone mode, the audit's replay): nothing is ever waited for. Namespaces
 * matched by no rule get spec.fallback, as `secure-defaults mutate` treats them offline.
 */
export const noAllocatedBlocks: AllocatedBlocks = {
  awaitAllocatedBlock: async (_policy, namespace) => ({ status: 'not-needed', namespace }),
};
