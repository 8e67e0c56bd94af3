// The validating endpoint for the policy ConfigMap: an edit that would not load is refused before
// it is stored, with every error and its path, so `kubectl apply` of a broken policy fails loudly
// instead of being silently ignored by the running webhooks.
import type { PolicyParseResult } from '../engine/model.js';
import { describePolicyError, describePolicyErrors, POLICY_KEY, policyTextOfConfigMap } from '../engine/policy-config-map.js';
import { allowed, denied } from './admission-responses.js';
import type { AdmissionRequest } from './admission-review.js';
import { unableToJudge, type FailurePolicy } from './failure-policy.js';
import type { AdmissionOutcome } from './admission-pipeline.js';
import { isJsonObject } from '../foundation/json-object.js';
import type { ConfigMapRef, PolicyTextParser } from '../ports/admission-ports.js';


export interface PolicyReviewDeps {
  /** The ConfigMap the webhook loads its policy from; null in standalone mode (nothing to judge). */
  readonly configMap: ConfigMapRef | null;
  /** In the webhook, a worker thread: a huge edit is read without holding the loop that admits Pods. */
  readonly parsePolicy: PolicyTextParser;
  readonly failurePolicy: FailurePolicy;
}


function objectName(request: AdmissionRequest): string {
  if (request.name !== '') return request.name;
  const metadata = isJsonObject(request.object) && isJsonObject(request.object.metadata) ? request.object.metadata : {};
  return typeof metadata.name === 'string' ? metadata.name : '';
}

/**
 * `signal` aborts when the API server stopped waiting for the answer (its timeoutSeconds): the
 * parse is then given up, so the one policy worker is free for the next edit or reload instead of
 * reading, for up to its deadline, a text whose verdict nobody will read.
 */
export async function reviewPolicyConfigMap(request: AdmissionRequest, deps: PolicyReviewDeps, signal?: AbortSignal): Promise<AdmissionOutcome> {
  const uid = request.uid;
  const skip = (reason: string): AdmissionOutcome => ({ ...allowed(uid), result: 'skipped', log: { reason }, injected: [], quiet: true });
  const ref = deps.configMap;
  if (request.resource.group !== '' || request.resource.resource !== 'configmaps' || request.subResource !== '') {
    return skip(`${request.resource.resource} is not a ConfigMap; allowed unchanged`);
  }
  if (ref === null) return skip('no policy ConfigMap is configured (--policy-configmap); nothing to validate');
  const name = objectName(request);
  if (request.namespace !== ref.namespace || name !== ref.name) {
    return skip(`ConfigMap ${request.namespace}/${name} is not the policy ConfigMap ${ref.namespace}/${ref.name}`);
  }
  if (request.operation === 'DELETE') {
    const warning = `deleting ConfigMap ${ref.namespace}/${ref.name}: secure-defaults keeps using the last good policy until it is created again`;
    return { ...allowed(uid, { warnings: { texts: [warning], reasons: ['other'] } }), result: 'allowed', log: { reason: warning }, injected: [] };
  }
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return skip(`${request.operation} does not change the policy`);

  const object = request.object;
  if (!isJsonObject(object)) {
    const reason = 'request.object is missing or not a JSON object; expected a ConfigMap';
    return { ...unableToJudge(uid, deps.failurePolicy, 400, reason), result: 'invalid', log: { reason }, injected: [] };
  }
  const document = policyTextOfConfigMap(object.data);
  if (!document.ok) {
    const reason = describePolicyError(document.error);
    return { ...denied(uid, `policy ConfigMap ${ref.namespace}/${ref.name} refused: ${reason}`), result: 'denied', log: { reason }, injected: [] };
  }
  let parsed: PolicyParseResult;
  try {
    parsed = await deps.parsePolicy(document.text, signal);
  } catch (error) {
    const reason = signal?.aborted
      ? `the API server stopped waiting for the answer (the webhook's timeoutSeconds) before the policy was read; the parse was given up and nothing changed: retry the edit`
      : `the policy parser failed: ${error instanceof Error ? error.message : String(error)}`;
    return { ...unableToJudge(uid, deps.failurePolicy, 500, reason), result: 'errored', log: { reason }, injected: [] };
  }
  if (!parsed.ok) {
    const message = `policy ConfigMap ${ref.namespace}/${ref.name} refused (data.${POLICY_KEY}): ${describePolicyErrors(parsed.errors)}`;
    return { ...denied(uid, message), result: 'denied', log: { reason: message, errors: parsed.errors.length }, injected: [] };
  }
  // A policy's warnings are notes on the policy, not on a Pod: none has a reason of its own.
  const warnings = { texts: parsed.warnings, reasons: parsed.warnings.map(() => 'other' as const) };
  return {
    ...allowed(uid, { warnings }),
    result: 'allowed',
    log: { reason: `policy "${parsed.policy.name}" is valid`, warnings: parsed.warnings },
    injected: [],
  };
}
