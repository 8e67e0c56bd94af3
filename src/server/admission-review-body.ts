// Parses an AdmissionReview request body. The API server records field managers before mutating
// admission runs, so every Pod arrives with metadata.managedFields: close to half the bytes of a
// typical review and most of its JSON objects, none of which the webhook reads or patches. Those
// values are checked byte by byte (scanJsonValue: valid JSON, nesting and key limits) but never
// built; everything else is JSON.parse'd as usual. Whenever the shortcut cannot prove itself, the
// whole body is parsed the ordinary way, so the result and every error are what JSON.parse gives.
import { MAX_JSON_DEPTH, isJsonObject } from './json-shape.js';
import { NOT_SURE, scanJsonValue, skipWhitespace } from './json-value-scanner.js';

export type ParsedReviewBody = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string };

const MANAGED_FIELDS_KEY = Buffer.from('"managedFields":');
/**
 * Stands in for a skipped value. It starts with U+0000, which JSON text can only spell as the
 * escape \u0000 (a raw control character is invalid in a string), so a body without that escape
 * cannot contain the placeholder in any spelling; a body with it is parsed whole.
 */
const PLACEHOLDER_VALUE = '\u0000secure-defaults: managedFields checked, not parsed';
const PLACEHOLDER_TEXT = JSON.stringify(PLACEHOLDER_VALUE);
const NUL_ESCAPE = Buffer.from('\\u0000');
/** request.object and request.oldObject: more matches than this is not a Pod review. */
const MAX_SKIPPED = 2;
/** managedFields' value sits at depth 3 below request (request → object → metadata → managedFields), where the hostile-shape check counts from. */
const MANAGED_FIELDS_DEPTH = 3;


function parseWhole(body: Buffer): ParsedReviewBody {
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch (error) {
    return { ok: false, reason: `request body is not valid JSON (${(error as Error).message}); expected an AdmissionReview (admission.k8s.io/v1)` };
  }
}

/** Removes the placeholders from request.object/oldObject.metadata; how many it found there. */
function removePlaceholders(review: unknown): number {
  if (!isJsonObject(review) || !isJsonObject(review.request)) return 0;
  let found = 0;
  for (const object of [review.request.object, review.request.oldObject]) {
    if (isJsonObject(object) && isJsonObject(object.metadata) && object.metadata.managedFields === PLACEHOLDER_VALUE) {
      // managedFields is ObjectMeta's last field, so this delete usually just undoes the last
      // property added and the object keeps its fast shape.
      delete object.metadata.managedFields;
      found++;
    }
  }
  return found;
}

/**
 * The review with the managedFields of request.object and request.oldObject checked but left out;
 * null when that cannot be done safely (then the caller parses the whole body).
 */
function parseWithoutManagedFields(body: Buffer): { value: unknown } | null {
  const skipped: Array<{ start: number; end: number }> = [];
  let from = 0;
  for (;;) {
    const key = body.indexOf(MANAGED_FIELDS_KEY, from);
    if (key === -1) break;
    if (skipped.length === MAX_SKIPPED) return null;
    const start = key + MANAGED_FIELDS_KEY.length;
    const end = scanJsonValue(body, start, MAX_JSON_DEPTH - MANAGED_FIELDS_DEPTH);
    if (end === NOT_SURE) return null;
    skipped.push({ start, end });
    from = end;
  }
  if (skipped.length === 0 || body.indexOf(NUL_ESCAPE) !== -1) return null;
  let text = '';
  let copied = 0;
  for (const { start, end } of skipped) {
    text += body.toString('utf8', copied, start) + PLACEHOLDER_TEXT;
    copied = end;
  }
  text += body.toString('utf8', copied);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  // Each placeholder must have landed as the value of one of the two managedFields the webhook
  // skips: then every skipped stretch was exactly such a value (the placeholder occurs nowhere
  // else), and the original body parses to this plus those values. A match anywhere else (inside a
  // key, a duplicate key) fails this count and the body is parsed whole.
  return removePlaceholders(value) === skipped.length ? { value } : null;
}

/** The parsed body, or why it is not JSON; managedFields of the Pods are validated but not returned. */
export function parseAdmissionReviewBody(body: Buffer): ParsedReviewBody {
  if (skipWhitespace(body, 0) >= body.length) return { ok: false, reason: 'request body is empty; expected an AdmissionReview (admission.k8s.io/v1) as JSON' };
  const shortcut = parseWithoutManagedFields(body);
  return shortcut !== null ? { ok: true, value: shortcut.value } : parseWhole(body);
}
