// One real request per server and body, before and after load, with the certificate verified:
// throughput of wrong answers is worthless, so a server that answers wrongly stops the run.
import { request } from 'node:https';
import { randomUUID } from 'node:crypto';
import fastJsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import type { AdmissionBody } from './bodies/admission-review-bodies.js';

export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
}

export function postJson(port: number, path: string, caPem: string, body: string, timeoutMs = 10_000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        ca: caPem,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export interface SanityVerdict {
  /** Reasons the answer is wrong; empty when it is right. */
  readonly problems: readonly string[];
  /** Not wrong, but not what the body is meant to exercise (e.g. a patch for the hardened Pod). */
  readonly warnings: readonly string[];
  /** One line saying what came back, for the log. */
  readonly summary: string;
}

interface ReviewResponse {
  uid?: unknown;
  allowed?: unknown;
  patchType?: unknown;
  patch?: unknown;
  status?: { message?: unknown };
}

function decodePatch(patch: unknown): { ops: Operation[] } | { error: string } {
  if (typeof patch !== 'string') return { error: `response.patch is ${typeof patch}, not a base64 string` };
  try {
    const ops: unknown = JSON.parse(Buffer.from(patch, 'base64').toString('utf8'));
    if (!Array.isArray(ops)) return { error: 'response.patch does not decode to a JSON array of operations' };
    return { ops: ops as Operation[] };
  } catch (error) {
    return { error: `response.patch is not base64 JSON: ${(error as Error).message}` };
  }
}

/**
 * Judges one answer. `expectsWork` is true for our webhook (it must patch what needs patching);
 * the floor and the ceiling only have to answer "allowed" with the uid.
 */
export function judgeAdmissionAnswer(body: AdmissionBody, sentUid: string, answer: HttpAnswer, expectsWork: boolean): SanityVerdict {
  const problems: string[] = [];
  const warnings: string[] = [];
  const excerpt = answer.text.length > 300 ? `${answer.text.slice(0, 300)}…` : answer.text;
  if (answer.status !== 200) {
    return { problems: [`HTTP ${answer.status}, expected 200; body: ${excerpt}`], warnings, summary: `HTTP ${answer.status}` };
  }
  let review: { apiVersion?: unknown; kind?: unknown; response?: ReviewResponse };
  try {
    review = JSON.parse(answer.text) as typeof review;
  } catch {
    return { problems: [`body is not JSON: ${excerpt}`], warnings, summary: 'not JSON' };
  }
  if (review.apiVersion !== 'admission.k8s.io/v1') problems.push(`apiVersion is ${JSON.stringify(review.apiVersion)}, expected "admission.k8s.io/v1"`);
  if (review.kind !== 'AdmissionReview') problems.push(`kind is ${JSON.stringify(review.kind)}, expected "AdmissionReview"`);
  const response = review.response;
  if (typeof response !== 'object' || response === null) {
    problems.push('no "response" object');
    return { problems, warnings, summary: 'no response' };
  }
  if (response.uid !== sentUid) problems.push(`response.uid is ${JSON.stringify(response.uid)}, expected the request's ${JSON.stringify(sentUid)}`);
  if (response.allowed !== true) {
    problems.push(`response.allowed is ${JSON.stringify(response.allowed)}, expected true; status message: ${JSON.stringify(response.status?.message ?? null)}`);
  }
  let summary = `allowed=${String(response.allowed)}`;
  if (!expectsWork) return { problems, warnings, summary };

  if (response.patch === undefined) {
    summary += ', no patch';
    if (body.expectsPatch) problems.push(`no patch, but the ${body.name} Pod has no security settings and must be patched`);
    return { problems, warnings, summary };
  }
  if (response.patchType !== 'JSONPatch') problems.push(`patchType is ${JSON.stringify(response.patchType)}, expected "JSONPatch" beside a patch`);
  const decoded = decodePatch(response.patch);
  if ('error' in decoded) {
    problems.push(decoded.error);
    return { problems, warnings, summary };
  }
  summary += `, patch of ${decoded.ops.length} operations (${Buffer.byteLength(String(response.patch))} bytes base64)`;
  const pod = (JSON.parse(body.withUid(sentUid)) as { request: { object: unknown } }).request.object;
  try {
    // validate=true makes a path that does not exist in the Pod an error, as it is for the API server.
    fastJsonPatch.applyPatch(pod, decoded.ops, true, true);
  } catch (error) {
    problems.push(`the patch does not apply to the Pod that was sent: ${(error as Error).message}`);
  }
  if (!body.expectsPatch && decoded.ops.length > 0) {
    const paths = decoded.ops.slice(0, 8).map((op) => `${op.op} ${op.path}`);
    warnings.push(`the ${body.name} Pod was meant to need no change, but the webhook patched it (${paths.join('; ')}${decoded.ops.length > 8 ? '; …' : ''}); its numbers measure a patching path, not the no-op path`);
  }
  if (body.expectsPatch && decoded.ops.length === 0) problems.push('the patch is an empty array; send no patch, or patch the unhardened Pod');
  return { problems, warnings, summary };
}

/** Sends `body` once with a fresh uid and judges the answer. */
export async function sanityCheck(port: number, path: string, caPem: string, body: AdmissionBody, expectsWork: boolean): Promise<SanityVerdict> {
  const uid = randomUUID();
  try {
    const answer = await postJson(port, path, caPem, body.withUid(uid));
    return judgeAdmissionAnswer(body, uid, answer, expectsWork);
  } catch (error) {
    return { problems: [`request failed: ${(error as Error).message}`], warnings: [], summary: 'no answer' };
  }
}
