// The AdmissionReview requests every server is loaded with, byte for byte the same for all of them.
import { randomUUID } from 'node:crypto';
import type { BodyName } from '../bench-config.js';
import { hardenedPod, manyContainerPod, typicalPod } from './pod-fixtures.js';

const UID_PLACEHOLDER = '@@BENCH-UID@@';

/**
 * Each connection cycles through this many pre-serialized copies of a body, each with its own
 * request uid. Building them once keeps per-request uid rewriting (autocannon's idReplacement
 * re-serializes the whole request every time) off the load generator's single core; the cap keeps
 * 64 connections x copies of a wide Pod to a few tens of MB.
 */
const VARIANT_BYTES_PER_CONNECTION = 512 * 1024;
const MIN_VARIANTS = 4;
const MAX_VARIANTS = 64;

export interface AdmissionBody {
  readonly name: BodyName;
  readonly description: string;
  /** Whether our webhook must answer it with a JSON patch (false: allowed with nothing to add). */
  readonly expectsPatch: boolean;
  readonly containerCount: number;
  readonly sizeBytes: number;
  /** The request serialized with `uid`. */
  withUid(uid: string): string;
  /** `count` serialized copies, each with a fresh random uid. */
  variants(count: number): string[];
  /** How many copies one connection should cycle through (see VARIANT_BYTES_PER_CONNECTION). */
  readonly variantsPerConnection: number;
}

function admissionReview(pod: Record<string, unknown>): Record<string, unknown> {
  const podKind = { group: '', version: 'v1', kind: 'Pod' };
  const podResource = { group: '', version: 'v1', resource: 'pods' };
  const metadata = pod['metadata'] as Record<string, unknown>;
  return {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid: UID_PLACEHOLDER,
      kind: podKind,
      resource: podResource,
      requestKind: podKind,
      requestResource: podResource,
      // No name: a generateName Pod gets its name only after admission.
      namespace: metadata['namespace'],
      operation: 'CREATE',
      userInfo: {
        username: 'system:serviceaccount:kube-system:replicaset-controller',
        uid: '0f3b8c9e-6a2d-4e71-b5c4-8d9e1f2a3b4c',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
      },
      object: pod,
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  };
}

function admissionBody(name: BodyName, description: string, expectsPatch: boolean, pod: Record<string, unknown>): AdmissionBody {
  const text = JSON.stringify(admissionReview(pod));
  const [prefix, suffix] = text.split(JSON.stringify(UID_PLACEHOLDER)) as [string, string];
  const withUid = (uid: string): string => `${prefix}${JSON.stringify(uid)}${suffix}`;
  const sizeBytes = Buffer.byteLength(withUid(randomUUID()));
  const containers = (pod['spec'] as { containers: unknown[] }).containers.length;
  return {
    name,
    description,
    expectsPatch,
    containerCount: containers,
    sizeBytes,
    withUid,
    variants: (count) => Array.from({ length: count }, () => withUid(randomUUID())),
    variantsPerConnection: Math.max(MIN_VARIANTS, Math.min(MAX_VARIANTS, Math.floor(VARIANT_BYTES_PER_CONNECTION / sizeBytes))),
  };
}

export function buildAdmissionBody(name: BodyName): AdmissionBody {
  switch (name) {
    case 'typical':
      return admissionBody(name, 'Deployment Pod, 3 containers, no securityContext', true, typicalPod());
    case 'fifty-containers':
      return admissionBody(name, 'Pod with 50 containers, no securityContext', true, manyContainerPod(50));
    case 'hardened':
      return admissionBody(name, 'the typical Pod already fully hardened', false, hardenedPod());
  }
}
