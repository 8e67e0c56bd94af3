// Reads an HTTP request body into one Buffer, within a size limit. Replaces express.raw
// (body-parser + raw-body + type-is + iconv), which costs several passes and a dozen closures per
// request on the admission hot path; this keeps what mattered from it: the limit (checked against
// Content-Length before reading, and while reading), gzip/deflate/br bodies, and a one-line reason
// with an HTTP status for every failure.
import type { IncomingMessage } from 'node:http';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Readable, Transform } from 'node:stream';

/** Why a body could not be read; `status` is the HTTP status to answer with. */
export class RequestBodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'RequestBodyError';
  }
}

function overLimit(length: number | null, limit: number): RequestBodyError {
  const what = length === null ? 'request body' : `request body of ${length} bytes`;
  return new RequestBodyError(413, `${what} is over the ${limit}-byte limit`);
}

function decoderFor(encoding: string): Transform | null | 'unsupported' {
  switch (encoding) {
    case '':
    case 'identity':
      return null;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return 'unsupported';
  }
}

/**
 * The whole body of `req`, at most `limitBytes` after decompression. Rejects with a
 * RequestBodyError (413 too large, 415 unknown Content-Encoding, 400 aborted or corrupt); after a
 * rejection the rest of the body is left unread, so the caller must close the connection.
 */
export function readRequestBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  const declaredLength = declared === undefined ? null : Number(declared);
  const rawEncoding = req.headers['content-encoding'];
  const encoding = rawEncoding === undefined ? '' : rawEncoding.trim().toLowerCase();
  // Compressed bodies are limited after decompression, like body-parser's inflate option; an
  // identity body is the bytes on the wire, so its Content-Length is checked at once.
  if ((encoding === '' || encoding === 'identity') && declaredLength !== null && declaredLength > limitBytes) return Promise.reject(overLimit(declaredLength, limitBytes));
  const decoder = decoderFor(encoding);
  if (decoder === 'unsupported') {
    return Promise.reject(new RequestBodyError(415, `unsupported Content-Encoding ${JSON.stringify(rawEncoding)}; send the body uncompressed, or gzip, deflate or br`));
  }
  const source: Readable = decoder === null ? req : req.pipe(decoder);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const finish = (error: RequestBodyError | null): void => {
      if (settled) return;
      settled = true;
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onSourceError);
      req.off('aborted', onAborted);
      req.off('error', onRequestError);
      if (error === null) {
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
        return;
      }
      if (decoder !== null) {
        req.unpipe(decoder);
        decoder.destroy();
      }
      req.pause();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limitBytes) finish(overLimit(decoder === null ? declaredLength : null, limitBytes));
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      if (decoder === null && declaredLength !== null && received !== declaredLength) {
        finish(new RequestBodyError(400, `request body ended after ${received} of the ${declaredLength} bytes its Content-Length announced`));
      } else {
        finish(null);
      }
    };
    const onRequestError = (error: Error): void => finish(new RequestBodyError(400, `request body could not be read: ${error.message}`));
    const onSourceError =
      decoder === null ? onRequestError : (error: Error): void => finish(new RequestBodyError(400, `request body is not valid ${encoding}: ${error.message}`));
    const onAborted = (): void => finish(new RequestBodyError(400, 'request aborted by the client before its body was complete'));
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onSourceError);
    if (decoder !== null) req.once('error', onRequestError);
    req.once('aborted', onAborted);
  });
}
