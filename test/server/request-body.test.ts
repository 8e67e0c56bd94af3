import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { readRequestBody, RequestBodyError } from '../../src/server/request-body.js';

const LIMIT = 1024;

// A real HTTP server that echoes what readRequestBody gave it: the body itself, or the error's
// status and message.
let server: Server;
let port: number;
beforeAll(async () => {
  server = createServer((req, res) => {
    readRequestBody(req, LIMIT).then(
      (body) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body),
      (error: unknown) => {
        const status = error instanceof RequestBodyError ? error.status : 500;
        res.writeHead(status, { connection: 'close', 'content-type': 'text/plain' }).end(error instanceof Error ? error.message : String(error));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function post(body: Buffer | string | null, headers: Record<string, string> = {}, chunked = false): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (body !== null && chunked) {
      // Several writes without Content-Length: the limit must hold while reading, not only up front.
      const buffer = Buffer.from(body);
      for (let at = 0; at < buffer.length; at += 100) req.write(buffer.subarray(at, at + 100));
    } else if (body !== null) {
      req.setHeader('content-length', Buffer.byteLength(body));
      req.write(body);
    }
    req.end();
  });
}

describe('readRequestBody over a real HTTP connection', () => {
  it.each([
    ['empty', ''],
    ['one byte', 'x'],
    ['exactly the limit', 'y'.repeat(LIMIT)],
    ['multi-byte UTF-8', '{"name":"é€😀"}'],
  ])('returns the body unchanged: %s', async (_label, text) => {
    const answer = await post(text);
    expect(answer.status).toBe(200);
    expect(answer.body.toString('utf8')).toBe(text);
  });

  it('reassembles a body sent in many chunks', async () => {
    const text = Array.from({ length: 90 }, (_, i) => String(i % 10)).join('').repeat(10);
    const answer = await post(text, {}, true);
    expect(answer.body.toString()).toBe(text);
  });

  it('refuses a declared Content-Length over the limit with 413 before reading', async () => {
    const answer = await post('z'.repeat(LIMIT + 1));
    expect(answer.status).toBe(413);
    expect(answer.body.toString()).toBe(`request body of ${LIMIT + 1} bytes is over the ${LIMIT}-byte limit`);
  });

  // Only the headers are sent: a server that waited for the body would answer after its timeout.
  it.each([['identity'], ['IDENTITY'], [' identity '], ['']])('refuses an oversized Content-Length at once with Content-Encoding %j', async (encoding) => {
    const started = Date.now();
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${LIMIT * 1000}\r\nContent-Encoding: ${encoding}\r\n\r\n`);
      });
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('limit')) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('error', reject);
      setTimeout(() => {
        socket.destroy();
        resolve(text);
      }, 2000);
    });
    expect(answer).toMatch(/^HTTP\/1.1 413 /);
    expect(answer).toContain(`request body of ${LIMIT * 1000} bytes is over the ${LIMIT}-byte limit`);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('refuses a chunked body once it passes the limit', async () => {
    const answer = await post('z'.repeat(LIMIT * 3), {}, true);
    expect(answer.status).toBe(413);
    expect(answer.body.toString()).toBe(`request body is over the ${LIMIT}-byte limit`);
  });

  it.each([
    ['gzip', gzipSync],
    ['x-gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('inflates a %s body', async (encoding, compress) => {
    const text = '{"kind":"AdmissionReview"}'.repeat(20);
    const answer = await post(compress(Buffer.from(text)), { 'content-encoding': encoding });
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe(text);
  });

  it('applies the limit to the inflated size (a small gzip bomb is refused)', async () => {
    const bomb = gzipSync(Buffer.alloc(LIMIT * 50, 0x61));
    expect(bomb.length).toBeLessThan(LIMIT);
    const answer = await post(bomb, { 'content-encoding': 'gzip' });
    expect(answer.status).toBe(413);
    expect(answer.body.toString()).toMatch(/over the 1024-byte limit/);
  });

  it('refuses corrupt gzip with 400 naming the encoding', async () => {
    const answer = await post('this is not gzip', { 'content-encoding': 'gzip' });
    expect(answer.status).toBe(400);
    expect(answer.body.toString()).toMatch(/^request body is not valid gzip: /);
  });

  it('refuses an unknown Content-Encoding with 415', async () => {
    const answer = await post('abc', { 'content-encoding': 'compress' });
    expect(answer.status).toBe(415);
    expect(answer.body.toString()).toMatch(/unsupported Content-Encoding "compress"/);
  });

  it('survives a client that hangs up mid-body, and keeps serving', async () => {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\npartial');
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    const answer = await post('still here');
    expect(answer.body.toString()).toBe('still here');
  });
});
