// One throw-away serving certificate for 127.0.0.1, shared by every server under load so the TLS
// cost is identical for all of them. ECDSA P-256: cheap handshakes and millisecond generation.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

const KEY_ALGORITHM: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING_ALGORITHM: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const DAY_MS = 24 * 60 * 60 * 1000;

export interface ServingCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

export async function createLoopbackCertificate(): Promise<ServingCertificate> {
  // Typed through node's Crypto: the library's own parameter type names the DOM one.
  const provider: { set(value: webcrypto.Crypto): unknown } = x509.cryptoProvider;
  provider.set(webcrypto);
  const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=secure-defaults bench',
    keys,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      // Self-signed and used as its own trust anchor (the sanity check passes it as `ca`), so it
      // must be allowed to sign itself.
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(
        [
          { type: 'ip', value: '127.0.0.1' },
          { type: 'dns', value: 'localhost' },
        ],
        false,
      ),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { certPem: certificate.toString('pem'), keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}
