// The trivial webhook's answer (bench/servers/fixed-patch-server.ts): the uid echoed and one fixed
// JSONPatch, runAsNonRoot: true on the Pod. The API server defaults spec.securityContext to {} on
// every Pod before mutating admission, so the "add" always applies. With a recorded answer
// (`--reply-file`) the same server replays another webhook's patch and audit annotations, which
// tells the API server's cost of applying that patch apart from the cost of computing it.
export const FIXED_PATCH = [{ op: 'add', path: '/spec/securityContext/runAsNonRoot', value: true }] as const;

export interface RecordedAnswer {
  /** base64 JSONPatch, as in an AdmissionReview response. */
  readonly patch: string;
  readonly auditAnnotations?: Readonly<Record<string, string>>;
}

export const TRIVIAL_ANSWER: RecordedAnswer = { patch: Buffer.from(JSON.stringify(FIXED_PATCH)).toString('base64') };

/** What a --reply-file holds: an AdmissionReview response's patch and auditAnnotations; throws with the fix otherwise. */
export function readRecordedAnswer(text: string): RecordedAnswer {
  const parsed = JSON.parse(text) as { patch?: unknown; auditAnnotations?: unknown };
  if (typeof parsed.patch !== 'string' || parsed.patch === '') throw new Error('reply file: "patch" must be the base64 JSONPatch of an AdmissionReview response');
  const annotations = parsed.auditAnnotations;
  if (annotations !== undefined && (typeof annotations !== 'object' || annotations === null || Object.values(annotations).some((value) => typeof value !== 'string'))) {
    throw new Error('reply file: "auditAnnotations" must map names to strings, or be left out');
  }
  return { patch: parsed.patch, ...(annotations === undefined ? {} : { auditAnnotations: annotations as Record<string, string> }) };
}

/** The answer's fixed tail, serialized once; only the uid changes per request. */
export function answerSuffix(answer: RecordedAnswer): string {
  const annotations = answer.auditAnnotations === undefined ? '' : `,"auditAnnotations":${JSON.stringify(answer.auditAnnotations)}`;
  return `,"allowed":true,"patchType":"JSONPatch","patch":${JSON.stringify(answer.patch)}${annotations}}}`;
}

const TRIVIAL_SUFFIX = answerSuffix(TRIVIAL_ANSWER);

/** Throws on a body that is not JSON (the server answers 400 then). */
export function fixedPatchReply(body: Buffer, suffix: string = TRIVIAL_SUFFIX): string {
  const request = (JSON.parse(body.toString('utf8')) as { request?: { uid?: unknown } } | null)?.request;
  const uid = typeof request?.uid === 'string' ? request.uid : '';
  return `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":${JSON.stringify(uid)}${suffix}`;
}
