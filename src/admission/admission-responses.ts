// The only way the server builds an admission answer (after controller-runtime's
// pkg/webhook/admission: Allowed / Denied / Errored / Patched). Every constructor takes the
// request uid, so no answer can leave without it.
import type { Operation, WarningReason } from '../engine/model.js';
import { NO_WARNINGS, type ReasonedWarnings } from '../engine/warning-reasons.js';

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

/**
 * An answer, and the reason of each warning it carries (for secure_defaults_warnings_total): built
 * together by the constructors below, after bounding, so `warningReasons[i]` is the reason of
 * `response.warnings[i]`. The reasons are never sent.
 */
export interface AdmissionAnswer {
  readonly response: AdmissionResponse;
  readonly warningReasons: readonly WarningReason[];
}

export interface AdmissionReviewResponse {
  readonly apiVersion: AdmissionApiVersion;
  readonly kind: 'AdmissionReview';
  readonly response: AdmissionResponse;
}

export interface ResponseExtras {
  readonly warnings?: ReasonedWarnings;
  readonly auditAnnotations?: Readonly<Record<string, string>>;
}

/**
 * The API server keeps at most 4096 characters of warnings per request (and may cut each one at
 * 256): a Pod with thousands of clashing containers must not make an answer of megabytes that
 * would be dropped anyway. The first warnings are kept whole, up to these limits, each with its
 * reason; a last one counts the others (reason "other": it stands for warnings of any reason).
 */
export const MAX_WARNINGS = 20;
export const MAX_WARNING_CHARS = 1024;
const MAX_WARNINGS_TOTAL_CHARS = 4096;
/** A status message longer than this is cut, saying how much was left out. */
export const MAX_MESSAGE_CHARS = 8192;

export function cutText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** `text` in at most `max` characters, the last of them an ellipsis when it was cut (audit annotations, log fields). */
export function shortenTo(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function boundWarnings(warnings: ReasonedWarnings): ReasonedWarnings {
  const { texts, reasons } = warnings;
  if (texts.length === 0) return NO_WARNINGS;
  const keptTexts: string[] = [];
  const keptReasons: WarningReason[] = [];
  let total = 0;
  let index = 0;
  for (; index < texts.length && keptTexts.length < MAX_WARNINGS; index++) {
    const warning = cutText(texts[index]!, MAX_WARNING_CHARS);
    if (warning.length === 0) continue;
    if (total + warning.length > MAX_WARNINGS_TOTAL_CHARS && keptTexts.length > 0) break;
    keptTexts.push(warning);
    // An engine that broke the pairing must not break the counter: such a warning counts as "other".
    keptReasons.push(reasons[index] ?? 'other');
    total += warning.length;
  }
  let left = 0;
  for (; index < texts.length; index++) if (texts[index]!.length > 0) left++;
  if (left > 0) {
    keptTexts.push(`and ${left} more warning${left === 1 ? '' : 's'} like these`);
    keptReasons.push('other');
  }
  return { texts: keptTexts, reasons: keptReasons };
}

function withExtras(base: AdmissionResponse, extras: ResponseExtras): AdmissionAnswer {
  const warnings = extras.warnings === undefined ? NO_WARNINGS : boundWarnings(extras.warnings);
  const annotations = extras.auditAnnotations ?? {};
  const response = {
    ...base,
    ...(warnings.texts.length > 0 ? { warnings: warnings.texts } : {}),
    ...(Object.keys(annotations).length > 0 ? { auditAnnotations: annotations } : {}),
  };
  return { response, warningReasons: warnings.reasons };
}

export function allowed(uid: string, extras: ResponseExtras = {}): AdmissionAnswer {
  return withExtras({ uid, allowed: true }, extras);
}

/** Allowed with a patch; with nothing to add it is a plain `allowed` (no empty patch is sent). */
export function patched(uid: string, operations: readonly Operation[], extras: ResponseExtras = {}): AdmissionAnswer {
  if (operations.length === 0) return allowed(uid, extras);
  const patch = Buffer.from(JSON.stringify(operations), 'utf8').toString('base64');
  return withExtras({ uid, allowed: true, patchType: 'JSONPatch', patch }, extras);
}

export function denied(uid: string, message: string, extras: ResponseExtras = {}): AdmissionAnswer {
  return withExtras({ uid, allowed: false, status: { status: 'Failure', code: 403, reason: 'Forbidden', message: cutText(message, MAX_MESSAGE_CHARS) } }, extras);
}

/** The webhook could not judge the request (bad input, engine failure, no policy yet). */
export function errored(uid: string, code: number, message: string, extras: ResponseExtras = {}): AdmissionAnswer {
  return withExtras({ uid, allowed: false, status: { status: 'Failure', code, message: cutText(message, MAX_MESSAGE_CHARS) } }, extras);
}

export function reviewResponse(response: AdmissionResponse, apiVersion: AdmissionApiVersion = ADMISSION_V1): AdmissionReviewResponse {
  return { apiVersion, kind: 'AdmissionReview', response };
}
