// Hardening every workload of a manifest stream; the shared core of `mutate` and `check`.
import { isCoveredByNamespaceRule } from '../allocation/allocator-policy.js';
import { UID_RANGE_ANNOTATION, type LeftOutDefault, type Operation, type PolicyMode, type Violation } from '../engine/model.js';
import type { CliIo } from './cli-io.js';
import type { CliEngine } from './engine-port.js';
import { createNamespaceResolver, loadPolicy } from './hardening-options.js';
import type { HardeningOptions } from './hardening-options.js';
import { readManifestSources } from './manifest-sources.js';
import { parseManifestStream } from './manifest-stream.js';
import type { ManifestDocument, ManifestItem } from './manifest-stream.js';
import { UserError } from './user-error.js';
import { isWorkload } from '../engine/index.js';

export type ItemOutcome =
  | {
      readonly kind: 'hardened';
      readonly item: ManifestItem;
      readonly namespace: string;
      readonly object: unknown;
      readonly patch: readonly Operation[];
      readonly injected: readonly string[];
      readonly warnings: readonly string[];
      /** The mode of the policy rule that matched the namespace. */
      readonly mode: PolicyMode;
      /** What enforce mode refuses in this workload (the webhook refuses it when `mode` is enforce). */
      readonly wouldDeny: readonly Violation[];
      readonly leftOut: readonly LeftOutDefault[];
      /** Why the engine deliberately left the Pod template alone (Windows Pod, opt-out, …). */
      readonly skipped: string | undefined;
    }
  | { readonly kind: 'passthrough'; readonly item: ManifestItem };

export interface HardenedStream {
  readonly documents: readonly ManifestDocument[];
  /** Each input's text by its name ("stdin" for -), for rendering documents in their own layout. */
  readonly sourceTexts: ReadonlyMap<string, string>;
  readonly outcomes: readonly ItemOutcome[];
  readonly policyWarnings: readonly string[];
  /** What the offline answer cannot know and how it may differ in a cluster; for stderr, once each. */
  readonly notes: readonly string[];
  readonly policyMode: string;
  readonly policyName: string;
}

function namespaceMismatch(options: HardeningOptions, item: ManifestItem): string[] {
  if (options.namespace === undefined || item.namespace === undefined || item.namespace === options.namespace) {
    return [];
  }
  return [`metadata.namespace is ${JSON.stringify(item.namespace)} but --namespace is ${JSON.stringify(options.namespace)}; hardened for ${JSON.stringify(options.namespace)}`];
}

/**
 * Reads the inputs and the policy and hardens every workload. All or nothing: when any object
 * can't be hardened it throws a UserError naming each, so no caller ever prints half a stream.
 */
export async function hardenStream(io: CliIo, engine: CliEngine, options: HardeningOptions, defaultPolicyPath: string): Promise<HardenedStream> {
  const resolveNamespace = createNamespaceResolver(options);
  const { sources, notes: sourceNotes } = await readManifestSources(io, options.filename, options.recursive === true);
  const documents = sources.flatMap((source) => parseManifestStream(source.text, source.name));
  const loaded = await loadPolicy(io, engine, options.policy ?? defaultPolicyPath);
  const { policy } = loaded;
  const notes = [...loaded.notes, ...sourceNotes];
  if (options.namespaceLabels === undefined && loaded.selectorRules.length > 0) {
    notes.push(
      `${loaded.selectorRules.join(', ')} ${loaded.selectorRules.length === 1 ? 'selects' : 'select'} namespaces by label, and no --namespace-labels were given: judged against the kubernetes.io/metadata.name label only, so ${loaded.selectorRules.length === 1 ? 'it' : 'they'} matched no namespace here; pass --namespace-labels k=v,... with the namespace's labels to judge ${loaded.selectorRules.length === 1 ? 'it' : 'them'}`,
    );
  }
  let allocationNoted = false;

  const outcomes: ItemOutcome[] = [];
  const failures: string[] = [];
  for (const item of documents.flatMap((document) => document.items)) {
    if (!isWorkload(item.apiVersion, item.kind)) {
      outcomes.push({ kind: 'passthrough', item });
      continue;
    }
    const namespace = resolveNamespace(item.namespace);
    if (!allocationNoted && policy.allocation !== null && namespace.annotations[UID_RANGE_ANNOTATION] === undefined && !isCoveredByNamespaceRule(policy, namespace)) {
      allocationNoted = true;
      const ids = policy.resolveIdDefaults(namespace);
      notes.push(
        `allocation is not simulated offline: namespace "${namespace.name}" gets ${ids === null ? 'no UID/GID defaults' : `${ids.source} (${ids.uidRange.min}-${ids.uidRange.max})`} here, but in a cluster its own block from spec.allocation.range, so the real IDs will differ; pass --namespace-annotations ${UID_RANGE_ANNOTATION}=MIN-MAX to use its block`,
      );
    }
    const result = engine.hardenManifest(policy, namespace, item.object);
    if (!result.ok) {
      failures.push(`${item.label} (${item.location}): ${result.error}`);
      continue;
    }
    outcomes.push({
      kind: 'hardened',
      item,
      namespace: namespace.name,
      object: result.object,
      patch: result.patch,
      injected: result.injected,
      warnings: [...namespaceMismatch(options, item), ...result.warnings],
      mode: result.mode,
      wouldDeny: result.wouldDeny,
      leftOut: result.leftOut,
      skipped: result.skipped,
    });
  }
  if (failures.length > 0) {
    throw new UserError(failures.length === 1 ? (failures[0] ?? '') : `${failures.length} objects can't be hardened:\n  ${failures.join('\n  ')}`);
  }
  return {
    documents,
    sourceTexts: new Map(sources.map((source) => [source.name, source.text])),
    outcomes,
    policyWarnings: loaded.warnings,
    notes,
    policyMode: policy.mode,
    policyName: policy.name,
  };
}

/** The policy's warnings and the stream's notes, on stderr. */
export function writeStreamNotes(io: CliIo, stream: HardenedStream): void {
  for (const warning of stream.policyWarnings) io.writeStderr(`warning: policy: ${warning}\n`);
  for (const note of stream.notes) io.writeStderr(`note: ${note}\n`);
}
