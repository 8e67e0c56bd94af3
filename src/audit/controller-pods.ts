// Which listed objects the audit reports, and the Pod each stands for. A Pod made by a
// ReplicaSet, a ReplicaSet made by a Deployment, a Job made by a CronJob is reported through its
// owner, once; the Pod judged for a workload is the one its controller would create from the
// Pod template (its labels, annotations and spec; the names and labels a controller adds do not
// change what the engine decides).
import { workloadKind } from '../engine/workload-kinds.js';
import { asJsonObject, type JsonObject } from '../foundation/json-object.js';


export interface ControllerRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
}

/** The object's managing controller (ownerReferences[].controller: true), if any. */
export function controllerOf(object: JsonObject): ControllerRef | undefined {
  const owners = asJsonObject(object['metadata'])?.['ownerReferences'];
  if (!Array.isArray(owners)) return undefined;
  for (const owner of owners) {
    const ref = asJsonObject(owner);
    if (ref?.['controller'] !== true) continue;
    const { apiVersion, kind, name } = ref;
    if (typeof apiVersion === 'string' && typeof kind === 'string' && typeof name === 'string') return { apiVersion, kind, name };
  }
  return undefined;
}

/**
 * True when the object is reported through its controller: one the audit lists itself. A Pod
 * owned by something else (an operator's custom resource) is reported on its own, since that
 * owner's Pods are only visible as Pods.
 */
export function reportedThroughOwner(object: JsonObject): boolean {
  const owner = controllerOf(object);
  return owner !== undefined && workloadKind(owner.apiVersion, owner.kind) !== undefined && owner.kind !== 'Pod';
}

const SERVER_SET_METADATA = ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds'];

/**
 * The Pod as its creator would send it: for a workload, the Pod template with the workload's
 * namespace and `<name>-` as generateName; for a Pod, the Pod without status and server-set metadata.
 */
export function podToCreate(apiVersion: string, kind: string, object: JsonObject, namespace: string): JsonObject | undefined {
  const workload = workloadKind(apiVersion, kind);
  if (workload === undefined) return undefined;
  const name = asJsonObject(object['metadata'])?.['name'];
  if (workload.templatePath.length === 0) {
    const metadata: JsonObject = { ...(asJsonObject(object['metadata']) ?? {}) };
    for (const key of SERVER_SET_METADATA) delete metadata[key];
    const { status: _status, ...pod } = object;
    return { ...pod, apiVersion: 'v1', kind: 'Pod', metadata: { ...metadata, namespace } };
  }
  let template: unknown = object;
  for (const key of workload.templatePath) template = asJsonObject(template)?.[key];
  const templateObject = asJsonObject(template);
  if (templateObject === undefined) return undefined;
  // Like the controllers' GetPodFromTemplate: labels, annotations and finalizers of the template.
  const templateMetadata = asJsonObject(templateObject['metadata']) ?? {};
  const metadata: JsonObject = {};
  for (const key of ['labels', 'annotations', 'finalizers']) if (templateMetadata[key] !== undefined) metadata[key] = templateMetadata[key];
  if (typeof name === 'string') metadata['generateName'] = `${name}-`;
  metadata['namespace'] = namespace;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: templateObject['spec'] };
}
