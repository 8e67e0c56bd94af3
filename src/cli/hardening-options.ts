// The options `mutate` and `check` share: which policy, and what namespace the objects land in.
import type { Command } from 'commander';
import type { CompiledPolicy, NamespaceInfo } from '../engine/model.js';
import type { CliIo } from './cli-io.js';
import type { CliEngine } from './engine-port.js';
import { readInput } from './read-input.js';
import { UserError } from './user-error.js';

export interface HardeningOptions {
  readonly filename: string;
  readonly policy?: string;
  readonly namespace?: string;
  readonly namespaceLabels?: string;
  readonly namespaceAnnotations?: string;
}

export function addHardeningOptions(command: Command): Command {
  return command
    .requiredOption('-f, --filename <file>', 'manifests to read: a YAML or JSON file, or - for stdin')
    .option('--policy <file>', 'SecureDefaultsPolicy to apply (default: the policies/default.yaml shipped with secure-defaults)')
    .option('-n, --namespace <name>', "namespace the objects are created in (default: each object's metadata.namespace, else \"default\")")
    .option('--namespace-labels <k=v,...>', "the namespace's labels, for policy rules that select namespaces by label")
    .option('--namespace-annotations <k=v,...>', "the namespace's annotations, e.g. secure-defaults.io/uid-range=1000010000-1000019999");
}

/** Parses "a=1,b=2"; a UserError naming the flag when a pair is malformed. */
export function parseKeyValueList(flag: string, text: string | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (text === undefined || text.trim() === '') {
    return result;
  }
  for (const pair of text.split(',')) {
    const trimmed = pair.trim();
    const equals = trimmed.indexOf('=');
    if (equals <= 0) {
      throw new UserError(`${flag}: ${JSON.stringify(trimmed)} is not key=value (example: ${flag} team=payments,env=prod)`);
    }
    result[trimmed.slice(0, equals)] = trimmed.slice(equals + 1);
  }
  return result;
}

export interface NamespaceResolver {
  (objectNamespace: string | undefined): NamespaceInfo;
}

/** Builds the NamespaceInfo for each object from the flags. */
export function createNamespaceResolver(options: HardeningOptions): NamespaceResolver {
  const labels = parseKeyValueList('--namespace-labels', options.namespaceLabels);
  const annotations = parseKeyValueList('--namespace-annotations', options.namespaceAnnotations);
  if (options.namespace !== undefined && options.namespace.trim() === '') {
    throw new UserError('--namespace: must not be empty');
  }
  return (objectNamespace) => {
    const name = options.namespace ?? objectNamespace ?? 'default';
    // The API server puts this label on every namespace; selectors commonly use it.
    return { name, labels: { 'kubernetes.io/metadata.name': name, ...labels }, annotations };
  };
}

export interface LoadedPolicy {
  readonly policy: CompiledPolicy;
  readonly warnings: readonly string[];
}

/** Reads and compiles the policy; a UserError listing every policy error when it is invalid. */
export async function loadPolicy(io: CliIo, engine: CliEngine, file: string): Promise<LoadedPolicy> {
  const text = await readInput(io, file, 'policy');
  const parsed = engine.parsePolicy(text);
  if (!parsed.ok) {
    const errors = parsed.errors.map((error) => `  ${error.path}: ${error.message}`).join('\n');
    throw new UserError(`policy ${JSON.stringify(file)} is invalid (run "secure-defaults policy validate ${file}"):\n${errors}`);
  }
  return { policy: parsed.policy, warnings: parsed.warnings };
}
