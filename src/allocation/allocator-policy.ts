// What the allocator reads from the compiled policy: the pool, and which namespaces need a block
// of their own. It asks the engine rather than re-implementing rule matching, so the allocator
// and the Pod hardening can never disagree about which namespaces a rule covers.
import {
  GID_RANGE_ANNOTATION,
  UID_RANGE_ANNOTATION,
  type CompiledPolicy,
  type NamespaceInfo,
} from '../engine/model.js';
import { isOptedIn } from '../engine/namespace-opt-in.js';
import type { AllocationPlanSettings } from './allocation-plan.js';

export interface AllocatorPolicy {
  readonly settings: AllocationPlanSettings;
  /** Opted in and matched by no `spec.namespaces` rule. */
  wantsBlock(namespace: NamespaceInfo): boolean;
  /** Why the engine would ignore this namespace's uid-range annotation (includes root, overlaps a rule's range…), or null. */
  annotationRejection(namespace: NamespaceInfo): string | null;
}

export function isCoveredByNamespaceRule(policy: CompiledPolicy, namespace: NamespaceInfo): boolean {
  const { [UID_RANGE_ANNOTATION]: _uid, [GID_RANGE_ANNOTATION]: _gid, ...others } = namespace.annotations;
  const ids = policy.resolveIdDefaults({ ...namespace, annotations: others });
  return ids?.origin === 'rule';
}

/** True when Pods of this namespace should wait for the allocator: it needs a block and has none yet. */
export function awaitsAllocatedBlock(policy: CompiledPolicy, namespace: NamespaceInfo): boolean {
  return (
    policy.allocation !== null &&
    namespace.annotations[UID_RANGE_ANNOTATION] === undefined &&
    isOptedIn(namespace) &&
    !isCoveredByNamespaceRule(policy, namespace)
  );
}

/** null when the policy has no spec.allocation. */
export function allocatorPolicyFrom(policy: CompiledPolicy): AllocatorPolicy | null {
  const allocation = policy.allocation;
  if (allocation === null) return null;
  return {
    settings: { pool: allocation.pool, blockSize: allocation.blockSize, releaseAfterMs: allocation.releaseAfterMs ?? null },
    wantsBlock: (namespace) => isOptedIn(namespace) && !isCoveredByNamespaceRule(policy, namespace),
    annotationRejection: (namespace) => {
      if (namespace.annotations[UID_RANGE_ANNOTATION] === undefined) return null;
      const { warnings } = policy.resolveIdDefaultsWithWarnings(namespace);
      return warnings.length === 0 ? null : warnings.join('; ');
    },
  };
}
