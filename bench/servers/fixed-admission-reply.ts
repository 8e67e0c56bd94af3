// What the floor and the Express ceiling both do per request, so the only difference between them
// is Express: collect the body, JSON.parse it, answer a fixed "allowed, no patch" AdmissionReview.
// The request uid is echoed (the one field any real webhook must copy), which costs a property read
// on the already-parsed body and keeps the comparison with our webhook fair.
import type { IncomingMessage, ServerResponse } from 'node:http';

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function requestUid(parsed: unknown): string {
  const request = (parsed as { request?: { uid?: unknown } } | null)?.request;
  return typeof request?.uid === 'string' ? request.uid : '';
}

export function fixedAdmissionReply(body: Buffer): string {
  const uid = requestUid(JSON.parse(body.toString('utf8')));
  return `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":${JSON.stringify(uid)},"allowed":true}}`;
}

/** Reads, parses and answers; a body that is not JSON gets a 400 instead of crashing the server. */
export async function answerFixedAdmission(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let reply: string;
  try {
    reply = fixedAdmissionReply(await readBody(req));
  } catch (error) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end(`bad AdmissionReview body: ${(error as Error).message}\n`);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) }).end(reply);
}
