// The two things the HTTP layer needs from the outside world, as small interfaces: the policy in
// force and what is known about a namespace. The cluster adapters implement them against the
// API server; static ones serve `--policy FILE` and the tests.
import { OPT_IN_LABEL, type CompiledPolicy, type NamespaceInfo } from '../engine/model.js';

export interface PolicySnapshot {
  readonly policy: CompiledPolicy;
  /** Goes up by one each time a new policy is accepted; lets logs and metrics say which one judged a Pod. */
  readonly generation: number;
}

export interface PolicySource {
  /** The last good policy, or null while none has been loaded yet. */
  current(): PolicySnapshot | null;
}

export interface NamespaceDirectory {
  /** The namespace, or null when it does not exist. Rejects when it cannot be found out (API server down). */
  lookup(name: string): Promise<NamespaceInfo | null>;
}

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

