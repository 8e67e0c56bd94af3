import { afterEach, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rename, rm, symlink, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { generateSelfSignedCertificate } from '../../src/server/self-signed-certificate.js';
import { checkTlsPair, type TlsPair } from '../../src/server/tls-pair.js';
import { httpsCall, startTestWebhook, type TestWebhook } from './webhook-harness.js';

/** The fingerprint of the certificate a fresh connection is served, trusting every candidate CA. */
function servedFingerprint(port: number, cas: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: [...cas], servername: 'localhost' }, () => {
      const fingerprint = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
      socket.end();
      resolve(fingerprint);
    });
    socket.once('error', reject);
  });
}

// Each test certificate gets its own subject: OpenSSL looks trust anchors up by subject name.
function fingerprintOf(pair: TlsPair): string {
  return new X509Certificate(pair.certPem).fingerprint256;
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe('TLS', () => {
  let hook: TestWebhook | null = null;
  let dir = '';
  afterEach(async () => {
    await hook?.stop();
    hook = null;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('generates a self-signed certificate valid for localhost and 127.0.0.1, whose key matches', async () => {
    const pair = await generateSelfSignedCertificate();
    const check = checkTlsPair(pair);
    expect(check.ok).toBe(true);
    const cert = new X509Certificate(pair.certPem);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
  });

  it('serves a generated certificate without --tls-cert/--tls-key, and warns', async () => {
    hook = await startTestWebhook({ tls: { kind: 'self-signed' } });
    // Verified against the IP SAN: no servername override.
    const answer = await new Promise<number>((resolve, reject) => {
      import('node:https').then(({ get }) =>
        get({ host: '127.0.0.1', port: hook!.webhook.port, path: '/healthz', ca: hook!.webhook.initialCertificatePem, agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject),
      );
    });
    expect(answer).toBe(200);
    expect(hook.logger.entries.some((e) => e.level === 'warn' && /self-signed/.test(e.message))).toBe(true);
  });

  it('refuses TLS 1.1 clients', async () => {
    hook = await startTestWebhook();
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: hook!.webhook.port, ca: hook!.ca, servername: 'localhost', maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }, () => {
        socket.end();
        resolve('connected');
      });
      socket.once('error', (error) => resolve(error.message));
    });
    expect(outcome).not.toBe('connected');
  });

  /** 'connected' with the suite agreed, or the error of a refused handshake. */
  function handshake(port: number, options: { ciphers?: string; maxVersion?: 'TLSv1.2' | 'TLSv1.3' }): Promise<string> {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, ca: hook!.ca, servername: 'localhost', ...options }, () => {
        const cipher = socket.getCipher();
        socket.end();
        resolve(`connected ${socket.getProtocol()} ${cipher.standardName}`);
      });
      socket.once('error', (error) => resolve(error.message));
    });
  }

  it.each([
    ['CBC with RSA key exchange', 'AES128-SHA:AES256-SHA256'],
    ['CBC with ECDHE', 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES128-SHA256'],
    ['GCM without ECDHE', 'AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384'],
    ['CCM8', 'ECDHE-ECDSA-AES128-CCM8:AES128-CCM8'],
    ['CCM', 'ECDHE-ECDSA-AES128-CCM:ECDHE-ECDSA-AES256-CCM'],
    ['ARIA', 'ECDHE-ECDSA-ARIA128-GCM-SHA256:ECDHE-ARIA256-GCM-SHA384:ARIA128-GCM-SHA256'],
  ])('refuses TLS 1.2 clients that offer only %s suites', async (_label, ciphers) => {
    hook = await startTestWebhook();
    expect(await handshake(hook.webhook.port, { maxVersion: 'TLSv1.2', ciphers })).not.toMatch(/^connected/);
  });

  it.each([
    ['ECDHE-ECDSA-AES128-GCM-SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'],
    ['ECDHE-ECDSA-AES256-GCM-SHA384', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'],
    ['ECDHE-ECDSA-CHACHA20-POLY1305', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256'],
  ])('accepts TLS 1.2 with %s', async (ciphers, standardName) => {
    hook = await startTestWebhook();
    expect(await handshake(hook.webhook.port, { maxVersion: 'TLSv1.2', ciphers })).toBe(`connected TLSv1.2 ${standardName}`);
  });

  it('accepts TLS 1.3', async () => {
    hook = await startTestWebhook();
    expect(await handshake(hook.webhook.port, {})).toMatch(/^connected TLSv1.3 TLS_(AES|CHACHA20)/);
  });

  it('refuses to start on a mismatched pair, naming the problem', async () => {
    const a = await generateSelfSignedCertificate();
    const b = await generateSelfSignedCertificate();
    dir = await mkdtemp(join(tmpdir(), 'sd-tls-'));
    await writeFile(join(dir, 'tls.crt'), a.certPem);
    await writeFile(join(dir, 'tls.key'), b.keyPem);
    await expect(startTestWebhook({ tls: { kind: 'files', certPath: join(dir, 'tls.crt'), keyPath: join(dir, 'tls.key') } })).rejects.toThrow(
      /the private key does not match the certificate/,
    );
  });

  it('reloads replaced files for new connections, and keeps the old pair while the files do not match', async () => {
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((commonName) => generateSelfSignedCertificate({ commonName }))) as [TlsPair, TlsPair, TlsPair];
    dir = await mkdtemp(join(tmpdir(), 'sd-tls-'));
    const certPath = join(dir, 'tls.crt');
    const keyPath = join(dir, 'tls.key');
    await writeFile(certPath, a.certPem);
    await writeFile(keyPath, a.keyPem);
    hook = await startTestWebhook({ tls: { kind: 'files', certPath, keyPath, pollIntervalMs: 200, debounceMs: 30 } });
    const port = hook.webhook.port;
    const cas = [a.certPem, b.certPem, c.certPem];
    expect(await servedFingerprint(port, cas)).toBe(fingerprintOf(a));

    // A connection opened before the rotation keeps working on its old session.
    const { Agent } = await import('node:https');
    const oldConnection = new Agent({ keepAlive: true, ca: a.certPem });
    expect((await httpsCall(port, { method: 'GET', path: '/healthz', ca: a.certPem, agent: oldConnection })).status).toBe(200);

    await writeFile(certPath, b.certPem);
    await writeFile(keyPath, b.keyPem);
    await eventually(async () => (await servedFingerprint(port, cas)) === fingerprintOf(b));
    expect((await httpsCall(port, { method: 'GET', path: '/healthz', ca: a.certPem, agent: oldConnection })).status).toBe(200);
    oldConnection.destroy();

    // Half-rotated: new certificate, old key. The server must keep serving b.
    await writeFile(certPath, c.certPem);
    await eventually(async () => hook!.logger.entries.some((e) => e.level === 'error' && /does not match the certificate/.test(e.message)));
    expect(await servedFingerprint(port, cas)).toBe(fingerprintOf(b));
    // At least this refusal (the b rotation may have been caught half-written too).
    const metrics = await httpsCall(port, { method: 'GET', path: '/metrics', ca: cas });
    expect(metrics.text).toMatch(/secure_defaults_tls_reload_errors_total [1-9]/);

    await writeFile(keyPath, c.keyPem);
    await eventually(async () => (await servedFingerprint(port, cas)) === fingerprintOf(c));
  });

  it('exports the expiry of the certificate in use, and the new one after a rotation', async () => {
    const [short, long] = (await Promise.all([generateSelfSignedCertificate({ commonName: 'short', validDays: 3 }), generateSelfSignedCertificate({ commonName: 'long', validDays: 300 })])) as [TlsPair, TlsPair];
    dir = await mkdtemp(join(tmpdir(), 'sd-tls-'));
    const certPath = join(dir, 'tls.crt');
    const keyPath = join(dir, 'tls.key');
    await writeFile(certPath, short.certPem);
    await writeFile(keyPath, short.keyPem);
    hook = await startTestWebhook({ tls: { kind: 'files', certPath, keyPath, pollIntervalMs: 200, debounceMs: 30 } });
    const expiry = async (): Promise<number> => {
      const text = (await httpsCall(hook!.webhook.port, { method: 'GET', path: '/metrics', ca: [short.certPem, long.certPem] })).text;
      return Number(/^secure_defaults_tls_certificate_expiry_timestamp_seconds (\S+)$/m.exec(text)?.[1]);
    };
    const notAfter = (pair: TlsPair): number => Math.floor(Date.parse(new X509Certificate(pair.certPem).validTo) / 1000);
    expect(await expiry()).toBe(notAfter(short));
    await writeFile(certPath, long.certPem);
    await writeFile(keyPath, long.keyPem);
    await eventually(async () => (await expiry()) === notAfter(long));
    expect(notAfter(long) - notAfter(short)).toBeGreaterThan(200 * 86400);
  });

  it('follows a Kubernetes Secret volume swapping its ..data symlink', async () => {
    const [a, b] = await Promise.all(['a', 'b'].map((commonName) => generateSelfSignedCertificate({ commonName }))) as [TlsPair, TlsPair];
    dir = await mkdtemp(join(tmpdir(), 'sd-tls-'));
    const writeVersion = async (version: string, pair: TlsPair): Promise<void> => {
      await mkdir(join(dir, version));
      await writeFile(join(dir, version, 'tls.crt'), pair.certPem);
      await writeFile(join(dir, version, 'tls.key'), pair.keyPem);
    };
    await writeVersion('..v1', a);
    await symlink('..v1', join(dir, '..data'));
    await symlink('..data/tls.crt', join(dir, 'tls.crt'));
    await symlink('..data/tls.key', join(dir, 'tls.key'));
    // A long poll interval: the directory watch alone must notice the swap.
    hook = await startTestWebhook({ tls: { kind: 'files', certPath: join(dir, 'tls.crt'), keyPath: join(dir, 'tls.key'), pollIntervalMs: 60_000, debounceMs: 30 } });
    const port = hook.webhook.port;
    expect(await servedFingerprint(port, [a.certPem, b.certPem])).toBe(fingerprintOf(a));

    // What kubelet's AtomicWriter does: write a new version dir, point a temp link at it, rename it over ..data.
    await writeVersion('..v2', b);
    await symlink('..v2', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    await eventually(async () => (await servedFingerprint(port, [a.certPem, b.certPem])) === fingerprintOf(b));
  });
});
