// Hardening every workload of a manifest stream; the shared core of `mutate` and `check`.
import type { LeftOutDefault, Operation, PolicyMode, Violation } from '../engine/model.js';
import type { CliIo } from './cli-io.js';
import type { CliEngine } from './engine-port.js';
import { createNamespaceResolver, loadPolicy } from './hardening-options.js';
import type { HardeningOptions } from './hardening-options.js';
import { parseManifestStream } from './manifest-stream.js';
import type { ManifestDocument, ManifestItem } from './manifest-stream.js';
import { readInput } from './read-input.js';
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
  readonly outcomes: readonly ItemOutcome[];
  readonly policyWarnings: readonly string[];
}

function namespaceMismatch(options: HardeningOptions, item: ManifestItem): string[] {
  if (options.namespace === undefined || item.namespace === undefined || item.namespace === options.namespace) {
    return [];
  }
  return [`metadata.namespace is ${JSON.stringify(item.namespace)} but --namespace is ${JSON.stringify(options.namespace)}; hardened for ${JSON.stringify(options.namespace)}`];
}

/**
 * Reads the input and the policy and hardens every workload. All or nothing: when any object
 * can't be hardened it throws a UserError naming each, so no caller ever prints half a stream.
 */
export async function hardenStream(io: CliIo, engine: CliEngine, options: HardeningOptions, defaultPolicyPath: string): Promise<HardenedStream> {
  const resolveNamespace = createNamespaceResolver(options);
  const source = options.filename === '-' ? 'stdin' : options.filename;
  const text = await readInput(io, options.filename, 'manifests');
  const documents = parseManifestStream(text, source);
  const { policy, warnings: policyWarnings } = await loadPolicy(io, engine, options.policy ?? defaultPolicyPath);

  const outcomes: ItemOutcome[] = [];
  const failures: string[] = [];
  for (const item of documents.flatMap((document) => document.items)) {
    if (!isWorkload(item.apiVersion, item.kind)) {
      outcomes.push({ kind: 'passthrough', item });
      continue;
    }
    const namespace = resolveNamespace(item.namespace);
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
  return { documents, outcomes, policyWarnings };
}
