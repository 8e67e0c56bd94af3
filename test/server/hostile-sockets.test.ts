// Connections that never finish their TLS handshake: an attacker (or a port scanner) opening TCP
// connections and sending nothing, or half a ClientHello. Each must be closed once the handshake
// timeout passes, and shutdown must not wait for them.
import { afterEach, describe, expect, it } from '@jest/globals';
import { connect, type Socket } from 'node:net';
import { startTestWebhook, type TestWebhook } from './webhook-harness.js';

const HANDSHAKE_TIMEOUT_MS = 300;

/** The first bytes of a TLS 1.2 ClientHello record, cut short. */
const PARTIAL_CLIENT_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);

interface Probe {
  readonly socket: Socket;
  readonly closed: Promise<number>;
}

/** A raw TCP connection that sends `payload` (or nothing) and then stays silent; resolves when the server closes it. */
function openProbe(port: number, payload: Buffer | null): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const opened = Date.now();
    const closed = new Promise<number>((done) => socket.once('close', () => done(Date.now() - opened)));
    socket.on('error', () => undefined);
    socket.resume();
    socket.once('connect', () => {
      if (payload !== null) socket.write(payload);
      resolve({ socket, closed });
    });
    socket.once('error', reject);
  });
}

function withinMs<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} not done within ${ms} ms`)), ms);
    }),
  ]);
}

describe('connections that never complete a TLS handshake', () => {
  let hook: TestWebhook | null = null;
  const probes: Socket[] = [];
  afterEach(async () => {
    for (const socket of probes.splice(0)) socket.destroy();
    await hook?.stop();
    hook = null;
  });

  it.each([
    ['send nothing', [null]],
    ['send half a ClientHello', [PARTIAL_CLIENT_HELLO]],
    ['send one byte', [Buffer.from([0x16])]],
    ['mix of all', [null, PARTIAL_CLIENT_HELLO, Buffer.from([0x16, 0x03])]],
  ])('are closed by the server after the handshake timeout when they %s', async (_label, payloads) => {
    hook = await startTestWebhook({ timeouts: { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS, headersTimeoutMs: 200, connectionsCheckingIntervalMs: 50 } });
    const opened = await Promise.all(Array.from({ length: 30 }, (_, i) => openProbe(hook!.webhook.port, payloads[i % payloads.length]!)));
    probes.push(...opened.map((p) => p.socket));
    const lifetimes = await withinMs(Promise.all(opened.map((p) => p.closed)), HANDSHAKE_TIMEOUT_MS + 3000, 'closing every idle connection');
    expect(Math.max(...lifetimes)).toBeLessThan(HANDSHAKE_TIMEOUT_MS + 3000);
    // And the server still answers.
    expect((await hook.get('/healthz')).status).toBe(200);
  });

  it('do not hold up shutdown', async () => {
    hook = await startTestWebhook({ timeouts: { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS } });
    const opened = await Promise.all(Array.from({ length: 20 }, (_, i) => openProbe(hook!.webhook.port, i % 2 === 0 ? null : PARTIAL_CLIENT_HELLO)));
    probes.push(...opened.map((p) => p.socket));
    const stopping = hook.webhook.shutdown({ delayMs: 0, drainTimeoutMs: 30_000 });
    await withinMs(stopping, HANDSHAKE_TIMEOUT_MS + 3000, 'shutdown');
    await withinMs(Promise.all(opened.map((p) => p.closed)), 1000, 'closing the idle connections');
    hook = null;
  });
});
