// A certificate and its private key as PEM, checked to belong together before the server uses
// them: a pair caught half-rotated (new cert, old key) must never replace a working one.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { readFile } from 'node:fs/promises';

export interface TlsPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface TlsPairSummary {
  readonly subject: string;
  readonly subjectAltName: string;
  readonly notAfter: string;
  readonly fingerprint256: string;
}

export type TlsPairCheck = { readonly ok: true; readonly summary: TlsPairSummary } | { readonly ok: false; readonly error: string };

export function checkTlsPair(pair: TlsPair): TlsPairCheck {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pair.certPem);
  } catch (error) {
    return { ok: false, error: `the certificate is not a readable PEM certificate (${(error as Error).message})` };
  }
  let key;
  try {
    key = createPrivateKey(pair.keyPem);
  } catch (error) {
    return { ok: false, error: `the private key is not a readable PEM key (${(error as Error).message})` };
  }
  if (!certificate.checkPrivateKey(key)) {
    return { ok: false, error: `the private key does not match the certificate (subject ${certificate.subject}); the pair may be half-rotated` };
  }
  try {
    createSecureContext({ cert: pair.certPem, key: pair.keyPem });
  } catch (error) {
    return { ok: false, error: `OpenSSL refused the pair (${(error as Error).message})` };
  }
  return {
    ok: true,
    summary: {
      subject: certificate.subject,
      subjectAltName: certificate.subjectAltName ?? '',
      notAfter: certificate.validTo,
      fingerprint256: certificate.fingerprint256,
    },
  };
}

export async function readTlsPair(certPath: string, keyPath: string): Promise<TlsPair> {
  const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  return { certPem, keyPem };
}
