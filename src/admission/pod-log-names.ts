// Who a Pod is, for the decision's log line: its name (or generateName prefix) and what made it.
// The owner reference comes from the Pod's author, so it is cut to a bounded length.
import { isJsonObject } from '../foundation/json-object.js';
import { shortenTo } from './admission-responses.js';
import type { AdmissionRequest } from './admission-review.js';

/** The Pod's name for logs: its name, or its generateName prefix with a "*" when the name is not chosen yet. */
export function podLogName(request: AdmissionRequest): string {
  const metadata = isJsonObject(request.object) && isJsonObject(request.object.metadata) ? request.object.metadata : {};
  if (typeof metadata.name === 'string' && metadata.name !== '') return metadata.name;
  if (request.name !== '') return request.name;
  if (typeof metadata.generateName === 'string' && metadata.generateName !== '') return `${metadata.generateName}*`;
  return '';
}

/** Longest owner written to a log line: a Kubernetes kind and object name are far shorter. */
const MAX_OWNER_LENGTH = 320;

/**
 * Who made the Pod, for logs: "Kind/name" of its controller (else of its first owner) from
 * metadata.ownerReferences, else its generateName prefix with a "*"; "" when neither is there.
 */
export function podOwner(object: unknown): string {
  const metadata = isJsonObject(object) && isJsonObject(object.metadata) ? object.metadata : {};
  const references = Array.isArray(metadata.ownerReferences) ? metadata.ownerReferences : [];
  let owner: Record<string, unknown> | undefined;
  for (const reference of references) {
    if (!isJsonObject(reference)) continue;
    owner ??= reference;
    if (reference.controller === true) {
      owner = reference;
      break;
    }
  }
  if (owner !== undefined && typeof owner.kind === 'string' && typeof owner.name === 'string') return shortenTo(`${owner.kind}/${owner.name}`, MAX_OWNER_LENGTH);
  if (typeof metadata.generateName === 'string' && metadata.generateName !== '') return shortenTo(`${metadata.generateName}*`, MAX_OWNER_LENGTH);
  return '';
}
