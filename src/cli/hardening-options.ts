// The options `mutate` and `check` share: which policy, and what namespace the objects land in.
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { CompiledPolicy, NamespaceInfo } from '../engine/model.js';
import { policyTextFrom } from './policy-input.js';
import type { CliIo } from './cli-io.js';
import type { CliEngine } from './engine-port.js';
import { readInput } from './read-input.js';
import { UserError } from './user-error.js';
import { describePolicyError } from '../engine/policy-config-map.js';

export interface HardeningOptions {
  /** Each -f: a file, a directory, or - for stdin. */
  readonly filename: readonly string[];
  readonly recursive?: boolean;
  readonly policy?: string;
  readonly namespace?: string;
  readonly namespaceLabels?: string;
  readonly namespaceAnnotations?: string;
}

export function addHardeningOptions(command: Command): Command {
  return command
    .option('-f, --filename <file>', 'manifests to read: a YAML or JSON file, a directory (its .yaml, .yml and .json files), or - for stdin; repeat for more', collect, [])
    .option('-R, --recursive', 'with -f DIRECTORY: read its subdirectories too')
    .option('--policy <file>', 'SecureDefaultsPolicy to apply, or a ConfigMap holding one under policy.yaml (default: the policies/default.yaml shipped with secure-defaults)')
    .option('-n, --namespace <name>', "namespace the objects are created in (default: each object's metadata.namespace, else \"default\")")
    .option('--namespace-labels <k=v,...>', "the namespace's labels, for policy rules that select namespaces by label")
    .option('--namespace-annotations <k=v,...>', "the namespace's annotations, e.g. secure-defaults.io/uid-range=1000010000-1000019999");
}

function collect(value: string, previous: readonly string[]): string[] {
  return [...previous, value];
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
  /** Said on stderr: e.g. that the policy was read from a ConfigMap's policy.yaml key. */
  readonly notes: readonly string[];
  /** Paths of the rules that select namespaces by label ("spec.namespaces[1]"). */
  readonly selectorRules: readonly string[];
}

function selectorRulesOf(text: string): string[] {
  try {
    const document = parseYaml(text, { maxAliasCount: 100 }) as { spec?: { namespaces?: unknown } } | null;
    const rules = document?.spec?.namespaces;
    if (!Array.isArray(rules)) return [];
    return rules.flatMap((rule, index) => (typeof rule === 'object' && rule !== null && 'selector' in rule ? [`spec.namespaces[${index}]`] : []));
  } catch {
    return [];
  }
}

/** Reads and compiles the policy (or the ConfigMap holding it); a UserError listing every policy error when it is invalid. */
export async function loadPolicy(io: CliIo, engine: CliEngine, file: string): Promise<LoadedPolicy> {
  const input = policyTextFrom(await readInput(io, file, 'policy'), file === '-' ? 'stdin' : file);
  const parsed = engine.parsePolicy(input.text);
  const where = input.fromConfigMap === null ? JSON.stringify(file) : `${JSON.stringify(file)} (${input.fromConfigMap})`;
  if (!parsed.ok) {
    const errors = parsed.errors.map((error) => `  ${describePolicyError(error)}`).join('\n');
    throw new UserError(`policy ${where} is invalid (run "secure-defaults policy validate ${file}"):\n${errors}`);
  }
  return {
    policy: parsed.policy,
    warnings: parsed.warnings,
    notes: input.fromConfigMap === null ? [] : [`--policy ${file}: read the policy from ${input.fromConfigMap}`],
    selectorRules: selectorRulesOf(input.text),
  };
}
