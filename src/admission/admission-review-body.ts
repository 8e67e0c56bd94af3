// Parses an AdmissionReview request body with JSON.parse. Its limits (nesting depth, no
// "__proto__" key) are enforced on the parsed value by the hostile-shape check (json-shape.ts),
// before anything walks it; a hand-written partial parser that skipped metadata.managedFields gained
// too little to keep on this boundary (bench/README.md, "managedFields: measured, then removed").

export type ParsedReviewBody = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string };

/** JSON's whitespace only (RFC 8259): a body of anything else is JSON.parse's to explain. */
const BLANK = /^[ \t\n\r]*$/;

/** The parsed body, or why it is not JSON. */
export function parseAdmissionReviewBody(body: Buffer): ParsedReviewBody {
  const text = body.toString('utf8');
  if (BLANK.test(text)) return { ok: false, reason: 'request body is empty; expected an AdmissionReview (admission.k8s.io/v1) as JSON' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, reason: `request body is not valid JSON (${(error as Error).message}); expected an AdmissionReview (admission.k8s.io/v1)` };
  }
}
