// A policy as the cluster stores it: the document under one key of a ConfigMap's data, and how a
// refused document is told. The ConfigMap watch, the /validate-policy endpoint and the CLI all
// read and report a policy through these, so they name the key and word a refusal the same way.
import { isJsonObject } from '../foundation/json-object.js';
import type { PolicyError } from './model.js';

/** The key of the ConfigMap's data that holds the policy document. */
export const POLICY_KEY = 'policy.yaml';

/** One error as the sentence it is written to be read as: "path: message". */
export function describePolicyError(error: PolicyError): string {
  return `${error.path}: ${error.message}`;
}

/** Every error of a refused policy in one line, for a log line, an Event or an admission denial. */
export function describePolicyErrors(errors: readonly PolicyError[]): string {
  return errors.map(describePolicyError).join('; ');
}

export type PolicyConfigMapText = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly error: PolicyError };

/** The policy document in a ConfigMap's `data`, or the error that says which key to put it under. */
export function policyTextOfConfigMap(data: unknown): PolicyConfigMapText {
  const map = isJsonObject(data) ? data : {};
  const text = map[POLICY_KEY];
  if (typeof text === 'string') return { ok: true, text };
  const keys = Object.keys(map);
  const present = keys.length === 0 ? 'the ConfigMap has no data' : `its data keys are ${keys.slice(0, 10).map((k) => JSON.stringify(k.slice(0, 100))).join(', ')}${keys.length > 10 ? ` and ${keys.length - 10} more` : ''}`;
  return { ok: false, error: { path: `data.${POLICY_KEY}`, message: `missing (${present}); put the policy document under the key "${POLICY_KEY}"` } };
}
