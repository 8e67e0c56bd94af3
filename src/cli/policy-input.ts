// A policy file as GitOps repositories keep it: the SecureDefaultsPolicy itself, or the ConfigMap
// that carries it under its `policy.yaml` key (what the chart installs and the webhook watches).
import { parseAllDocuments } from 'yaml';
import { describePolicyError, POLICY_KEY, policyTextOfConfigMap } from '../engine/policy-config-map.js';
import { UserError } from './user-error.js';
import { asJsonObject } from '../foundation/json-object.js';

export interface PolicyText {
  readonly text: string;
  /** "ConfigMap team/policy, key policy.yaml" when the file held a ConfigMap; null for a policy document. */
  readonly fromConfigMap: string | null;
}

/**
 * The policy document in `text`: the text itself, or the ConfigMap's `policy.yaml` value. Anything
 * that is not a single ConfigMap is handed to the policy parser as it is, which explains itself.
 */
export function policyTextFrom(text: string, source: string): PolicyText {
  if (!/\bkind\s*:\s*["']?ConfigMap\b/.test(text) && !/"kind"\s*:\s*"ConfigMap"/.test(text)) return { text, fromConfigMap: null };
  const documents = parseAllDocuments(text).filter((doc) => doc.contents !== null);
  const [only] = documents;
  if (documents.length !== 1 || only === undefined || only.errors.length > 0) return { text, fromConfigMap: null };
  const object = asJsonObject(only.toJS({ maxAliasCount: 100 }));
  if (object?.['kind'] !== 'ConfigMap') return { text, fromConfigMap: null };
  const metadata = asJsonObject(object['metadata']);
  const name = `${typeof metadata?.['namespace'] === 'string' ? `${metadata['namespace']}/` : ''}${typeof metadata?.['name'] === 'string' ? metadata['name'] : '(unnamed)'}`;
  const document = policyTextOfConfigMap(object['data']);
  if (!document.ok) throw new UserError(`${source}: ConfigMap ${name}: ${describePolicyError(document.error)}`);
  return { text: document.text, fromConfigMap: `ConfigMap ${name}, key ${POLICY_KEY}` };
}
