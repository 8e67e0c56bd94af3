// A second mutating webhook that adds a container after ours has run, as a service mesh's
// sidecar injector does: a real HTTPS admission webhook in the API server's chain (served from the
// test process), so the API server's reinvocation of our webhook is what is tested.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { issueCertificate, type CertificateAuthority } from '../../rig/certificates.js';

/** Sorted after "secure-defaults", so the API server calls it after our webhook. */
export const SIDECAR_CONFIGURATION = 'zz-sidecar-injector';
export const SIDECAR_NAMESPACE_LABEL = { 'mesh-injection': 'enabled' } as const;

export interface SidecarInjector {
  readonly port: number;
  /** The MutatingWebhookConfiguration that sends Pods of labelled namespaces to it. */
  configuration(caPem: string): Record<string, unknown>;
  close(): Promise<void>;
}

interface Review {
  request?: { uid?: string; object?: { spec?: { containers?: Array<{ name?: string }> } } };
}

export async function startSidecarInjector(ca: CertificateAuthority, sidecar: Record<string, unknown>): Promise<SidecarInjector> {
  const pair = await issueCertificate(ca, { commonName: 'sidecar-injector', ipAddresses: ['127.0.0.1'], usage: 'server' });
  const server: Server = createServer({ cert: pair.certPem, key: pair.keyPem }, (req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const review = JSON.parse(body) as Review;
      const containers = review.request?.object?.spec?.containers ?? [];
      const patch = containers.some((c) => c.name === sidecar['name']) ? [] : [{ op: 'add', path: '/spec/containers/-', value: sidecar }];
      const response = {
        uid: review.request?.uid ?? '',
        allowed: true,
        ...(patch.length > 0 ? { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') } : {}),
      };
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    configuration: (caPem) => ({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: SIDECAR_CONFIGURATION },
      webhooks: [
        {
          name: 'sidecar.e2e.secure-defaults.io',
          admissionReviewVersions: ['v1'],
          sideEffects: 'None',
          reinvocationPolicy: 'Never',
          failurePolicy: 'Fail',
          timeoutSeconds: 10,
          clientConfig: { url: `https://127.0.0.1:${port}/inject`, caBundle: Buffer.from(caPem).toString('base64') },
          rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }],
          namespaceSelector: { matchLabels: SIDECAR_NAMESPACE_LABEL },
        },
      ],
    }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
