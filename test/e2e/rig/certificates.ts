// Certificates for the test control plane and for webhook servers under test: a throw-away CA
// and leaf certificates it signs, all as PEM text. ECDSA P-256 keeps generation to milliseconds.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

const crypto = webcrypto;
// Explicit because jest's module sandbox may not expose the global the library looks for.
const provider: { set(value: webcrypto.Crypto): unknown } = x509.cryptoProvider;
provider.set(crypto);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const KEY_ALGORITHM: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING_ALGORITHM: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const DAY_MS = 24 * 60 * 60 * 1000;

export interface PemKeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CertificateAuthority extends PemKeyPair {
  readonly certificate: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
}

export interface LeafRequest {
  readonly commonName: string;
  /** Become the certificate's O= entries; Kubernetes reads them as the client's groups. */
  readonly organizations?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly usage: 'server' | 'client' | 'server-and-client';
  readonly validDays?: number;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
}

/** X.500 attribute values must not carry DN syntax characters unescaped. */
function escapeDnValue(value: string): string {
  return value.replace(/[,+"\\<>;=]/g, (c) => `\\${c}`);
}

function distinguishedName(commonName: string, organizations: readonly string[] = []): string {
  return [...organizations.map((o) => `O=${escapeDnValue(o)}`), `CN=${escapeDnValue(commonName)}`].join(', ');
}

export async function createCertificateAuthority(commonName = 'secure-defaults test CA'): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: distinguishedName(commonName),
    keys,
    // Backdated so a clock a little behind on the verifying side still accepts it.
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 365 * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate, keys, certPem: certificate.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

export async function issueCertificate(ca: CertificateAuthority, request: LeafRequest): Promise<PemKeyPair> {
  const keys = await generateKeys();
  const now = Date.now();
  const extendedUsages = {
    server: [x509.ExtendedKeyUsage.serverAuth],
    client: [x509.ExtendedKeyUsage.clientAuth],
    'server-and-client': [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
  }[request.usage];
  const altNames: x509.JsonGeneralName[] = [
    ...(request.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(request.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(extendedUsages, false),
    await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
  ];
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames, false));
  const certificate = await x509.X509CertificateGenerator.create({
    subject: distinguishedName(request.commonName, request.organizations),
    issuer: ca.certificate.subject,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + (request.validDays ?? 30) * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions,
  });
  return { certPem: certificate.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

/** The key pair kube-apiserver signs and verifies ServiceAccount tokens with (ES256). */
export async function createServiceAccountKeys(): Promise<{ readonly publicKeyPem: string; readonly privateKeyPem: string }> {
  const keys = await generateKeys();
  const spki = await crypto.subtle.exportKey('spki', keys.publicKey);
  return { publicKeyPem: x509.PemConverter.encode(spki, 'PUBLIC KEY'), privateKeyPem: await privateKeyPem(keys.privateKey) };
}
