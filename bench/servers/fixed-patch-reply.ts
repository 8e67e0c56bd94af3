// The trivial webhook's answer (bench/servers/fixed-patch-server.ts): the uid echoed and one fixed
// JSONPatch, runAsNonRoot: true on the Pod. The API server defaults spec.securityContext to {} on
// every Pod before mutating admission, so the "add" always applies.
export const FIXED_PATCH = [{ op: 'add', path: '/spec/securityContext/runAsNonRoot', value: true }] as const;
const FIXED_PATCH_BASE64 = Buffer.from(JSON.stringify(FIXED_PATCH)).toString('base64');

/** Throws on a body that is not JSON (the server answers 400 then). */
export function fixedPatchReply(body: Buffer): string {
  const request = (JSON.parse(body.toString('utf8')) as { request?: { uid?: unknown } } | null)?.request;
  const uid = typeof request?.uid === 'string' ? request.uid : '';
  return `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":${JSON.stringify(uid)},"allowed":true,"patchType":"JSONPatch","patch":"${FIXED_PATCH_BASE64}"}}`;
}
