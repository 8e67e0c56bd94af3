// The CLI's view: a manifest as written in a repository (a Pod, or a workload whose Pod template
// is hardened exactly as the webhook would harden the Pods it creates).
import { diffCopyOnWrite } from './additions-patch.js';
import { hardenPodLike } from './admission-decision.js';
import type { CompiledPolicy, ManifestResult, NamespaceInfo } from './model.js';
import { describeValue } from './policy-reader.js';
import { SUPPORTED_WORKLOADS, workloadKind } from './workload-kinds.js';
import { isJsonObject, type JsonObject } from '../foundation/json-object.js';


/** Rebuilds the objects along `path` around a replaced leaf, sharing everything else. */
function replaceAt(root: JsonObject, path: readonly string[], leaf: JsonObject): JsonObject {
  if (path.length === 0) return leaf;
  const [head, ...rest] = path as [string, ...string[]];
  return { ...root, [head]: replaceAt(root[head] as JsonObject, rest, leaf) };
}

export function hardenManifest(policy: CompiledPolicy, namespace: NamespaceInfo, object: unknown): ManifestResult {
  if (!isJsonObject(object)) return { ok: false, error: `expected a Kubernetes object (a map with apiVersion and kind), got ${describeValue(object)}` };
  const kind = object['kind'];
  const apiVersion = object['apiVersion'];
  const workload = typeof apiVersion === 'string' && typeof kind === 'string' ? workloadKind(apiVersion, kind) : undefined;
  if (workload === undefined) {
    return { ok: false, error: `unsupported kind ${JSON.stringify(kind ?? null)} (apiVersion ${String(apiVersion)}): ${SUPPORTED_WORKLOADS}` };
  }
  let template: unknown = object;
  for (const field of workload.templatePath) template = isJsonObject(template) ? template[field] : undefined;
  const templatePath = workload.templatePath.join('.');
  if (!isJsonObject(template)) return { ok: false, error: `${String(kind)} has no ${templatePath} object to harden` };

  const outcome = hardenPodLike(template, { policy, namespace, target: 'pod', basePath: templatePath, existingEphemeralNames: new Set() });
  // The CLI cannot deny: in enforce mode it reports what the webhook would refuse (warn mode's
  // warnings already say so).
  const refusals = outcome.mode === 'enforce' ? outcome.violations.map((v) => `enforce mode would deny: ${v.message}`) : [];
  const warnings = [...refusals, ...outcome.warnings.texts];
  const hardened = outcome.object === template ? object : replaceAt(object, workload.templatePath, outcome.object);
  return {
    ok: true,
    object: hardened,
    patch: diffCopyOnWrite(object, hardened),
    injected: outcome.injections.map((injection) => injection.path),
    warnings,
    mode: outcome.mode,
    wouldDeny: outcome.violations,
    leftOut: outcome.leftOut,
    ...(outcome.skipped !== undefined ? { skipped: outcome.skipped } : {}),
  };
}
