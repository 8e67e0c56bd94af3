// Shared test helpers for the engine: compiled policies from small YAML snippets, namespaces,
// and a patch applier that never touches its input.
import fastJsonPatch from 'fast-json-patch';
import { parsePolicy, type CompiledPolicy, type NamespaceInfo, type Operation } from '../../src/engine/index.js';

export const POLICY_HEADER = 'apiVersion: secure-defaults.io/v1alpha1\nkind: SecureDefaultsPolicy\nmetadata:\n  name: test-policy\n';

/** A policy with one rule for "payments" (10000-19999), a fallback, and the given spec lines. */
export function policyWith(specLines = '', options: { rules?: boolean } = {}): CompiledPolicy {
  const rules =
    options.rules === false
      ? ''
      : '  namespaces:\n    - names: ["payments"]\n      uidRange: "10000-19999"\n  fallback:\n    uidRange: "100000-165535"\n';
  const body = `${rules}${specLines}`;
  const result = parsePolicy(`${POLICY_HEADER}spec:${body === '' ? ' {}' : ''}\n${body}`);
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
  return result.policy;
}

export function namespace(name = 'payments', labels: Record<string, string> = {}, annotations: Record<string, string> = {}): NamespaceInfo {
  return { name, labels, annotations };
}

export function applyPatch<T>(document: T, patch: readonly Operation[]): T {
  return fastJsonPatch.applyPatch(fastJsonPatch.deepClone(document), fastJsonPatch.deepClone(patch) as Operation[], true, false).newDocument;
}

export function deepClone<T>(value: T): T {
  return fastJsonPatch.deepClone(value) as T;
}

