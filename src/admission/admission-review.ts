// Reads an AdmissionReview request body into what the handlers need, and says precisely what is
// wrong when it cannot. Two kinds of failure: without a usable uid the caller can only answer
// HTTP 400; with one it answers an AdmissionReview, so the API server shows the reason.
import { ADMISSION_V1, ADMISSION_V1BETA1, type AdmissionApiVersion } from './admission-responses.js';
import { parseAdmissionReviewBody } from './admission-review-body.js';
import { findHostileJsonShape } from './json-shape.js';
import { isJsonObject } from '../foundation/json-object.js';

export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/** The fields of admission.k8s.io/v1 AdmissionRequest the server reads. */
export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: GroupVersionKind;
  readonly resource: GroupVersionResource;
  readonly subResource: string;
  readonly namespace: string;
  readonly name: string;
  readonly operation: string;
  readonly object: unknown;
  readonly oldObject: unknown;
  readonly dryRun: boolean;
  readonly username: string;
}

export type ReviewReading =
  | { readonly kind: 'request'; readonly request: AdmissionRequest }
  /** A review we can answer (it has a uid) but not act on. */
  | { readonly kind: 'unusable'; readonly uid: string; readonly apiVersion: AdmissionApiVersion; readonly reason: string }
  /** Not an AdmissionReview we can answer at all: HTTP 400. */
  | { readonly kind: 'rejected'; readonly reason: string };

const MAX_UID_LENGTH = 256;


function stringField(record: Record<string, unknown>, key: string): string {
  const value = record[key];
  return typeof value === 'string' ? value : '';
}

/** Reads a review from the raw body. */
export function readAdmissionReview(body: Buffer | string): ReviewReading {
  const parsed = parseAdmissionReviewBody(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  if (!parsed.ok) return { kind: 'rejected', reason: parsed.reason };
  return readParsedAdmissionReview(parsed.value);
}

export function readParsedAdmissionReview(body: unknown): ReviewReading {
  if (!isJsonObject(body)) return { kind: 'rejected', reason: 'request body is not a JSON object; expected an AdmissionReview (admission.k8s.io/v1)' };
  if (body.kind !== 'AdmissionReview') {
    return { kind: 'rejected', reason: `kind is ${JSON.stringify(body.kind ?? null)}; expected "AdmissionReview"` };
  }
  const apiVersion = body.apiVersion;
  if (apiVersion !== ADMISSION_V1 && apiVersion !== ADMISSION_V1BETA1) {
    return { kind: 'rejected', reason: `apiVersion is ${JSON.stringify(apiVersion ?? null)}; this webhook speaks "${ADMISSION_V1}" (set admissionReviewVersions: ["v1"])` };
  }
  const request = body.request;
  if (!isJsonObject(request)) return { kind: 'rejected', reason: 'request is missing; an AdmissionReview sent to a webhook must carry request' };
  const uid = request.uid;
  if (typeof uid !== 'string' || uid === '') return { kind: 'rejected', reason: 'request.uid is missing; every AdmissionReview request needs a uid to answer' };
  if (uid.length > MAX_UID_LENGTH) return { kind: 'rejected', reason: `request.uid is ${uid.length} characters long; at most ${MAX_UID_LENGTH} are accepted` };

  const unusable = (reason: string): ReviewReading => ({ kind: 'unusable', uid, apiVersion, reason });
  if (apiVersion === ADMISSION_V1BETA1) {
    return unusable(`${ADMISSION_V1BETA1} is not supported; set admissionReviewVersions: ["v1"] in the webhook configuration`);
  }
  const hostile = findHostileJsonShape(request);
  if (hostile !== null) return unusable(`request.${hostile}`);

  const operation = request.operation;
  if (typeof operation !== 'string' || operation === '') return unusable('request.operation is missing; expected CREATE, UPDATE, DELETE or CONNECT');
  const resource = request.resource;
  if (!isJsonObject(resource) || typeof resource.resource !== 'string') return unusable('request.resource is missing; expected {group, version, resource}');
  const kind = isJsonObject(request.kind) ? request.kind : {};
  const userInfo = isJsonObject(request.userInfo) ? request.userInfo : {};
  return {
    kind: 'request',
    request: {
      uid,
      kind: { group: stringField(kind, 'group'), version: stringField(kind, 'version'), kind: stringField(kind, 'kind') },
      resource: { group: stringField(resource, 'group'), version: stringField(resource, 'version'), resource: resource.resource },
      subResource: stringField(request, 'subResource'),
      namespace: stringField(request, 'namespace'),
      name: stringField(request, 'name'),
      operation,
      object: request.object ?? null,
      oldObject: request.oldObject ?? null,
      dryRun: request.dryRun === true,
      username: stringField(userInfo, 'username'),
    },
  };
}
