// The only way the server builds an admission answer (after controller-runtime's
// pkg/webhook/admission: Allowed / Denied / Errored / Patched). Every constructor takes the
// request uid, so no answer can leave without it.
import type { Operation } from '../engine/model.js';

export const ADMISSION_V1 = 'admission.k8s.io/v1';
export const ADMISSION_V1BETA1 = 'admission.k8s.io/v1beta1';
export type AdmissionApiVersion = typeof ADMISSION_V1 | typeof ADMISSION_V1BETA1;

/** metav1.Status as it appears in an admission response. */
export interface AdmissionStatus {
  readonly status: 'Failure';
  readonly code: number;
  readonly reason?: string;
  readonly message: string;
}

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly patchType?: 'JSONPatch';
  /** base64 of the JSON array of RFC 6902 operations. */
  readonly patch?: string;
  readonly status?: AdmissionStatus;
  readonly warnings?: readonly string[];
  /**
   * The API server prefixes each key with the webhook's name ("<webhook>/<key>") and drops the
   * annotation unless the result is a qualified name, so keys here must have no "/" prefix.
   */
  readonly auditAnnotations?: Readonly<Record<string, string>>;
}

export interface AdmissionReviewResponse {
  readonly apiVersion: AdmissionApiVersion;
  readonly kind: 'AdmissionReview';
  readonly response: AdmissionResponse;
}

export interface ResponseExtras {
  readonly warnings?: readonly string[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
}

function withExtras(base: AdmissionResponse, extras: ResponseExtras): AdmissionResponse {
  const warnings = extras.warnings?.filter((w) => w.length > 0) ?? [];
  const annotations = extras.auditAnnotations ?? {};
  return {
    ...base,
    ...(warnings.length > 0 ? { warnings } : {}),
    ...(Object.keys(annotations).length > 0 ? { auditAnnotations: annotations } : {}),
  };
}

export function allowed(uid: string, extras: ResponseExtras = {}): AdmissionResponse {
  return withExtras({ uid, allowed: true }, extras);
}

/** Allowed with a patch; with nothing to add it is a plain `allowed` (no empty patch is sent). */
export function patched(uid: string, operations: readonly Operation[], extras: ResponseExtras = {}): AdmissionResponse {
  if (operations.length === 0) return allowed(uid, extras);
  const patch = Buffer.from(JSON.stringify(operations), 'utf8').toString('base64');
  return withExtras({ uid, allowed: true, patchType: 'JSONPatch', patch }, extras);
}

export function denied(uid: string, message: string, extras: ResponseExtras = {}): AdmissionResponse {
  return withExtras({ uid, allowed: false, status: { status: 'Failure', code: 403, reason: 'Forbidden', message } }, extras);
}

/** The webhook could not judge the request (bad input, engine failure, no policy yet). */
export function errored(uid: string, code: number, message: string, extras: ResponseExtras = {}): AdmissionResponse {
  return withExtras({ uid, allowed: false, status: { status: 'Failure', code, message } }, extras);
}

export function reviewResponse(response: AdmissionResponse, apiVersion: AdmissionApiVersion = ADMISSION_V1): AdmissionReviewResponse {
  return { apiVersion, kind: 'AdmissionReview', response };
}
