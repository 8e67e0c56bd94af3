// An in-memory cluster for the audit: namespaces and objects by kind, served in pages of two so
// that every consumer goes through more than one page.
import type { AuditClusterReader, AUDITED_KINDS } from '../../src/cluster/kube-audit-reader.js';
import type { JsonObject } from '../../src/foundation/json-object.js';

export interface FakeCluster {
  readonly namespaces: readonly JsonObject[];
  /** By kind name ("Deployment"), every namespace's objects together (metadata.namespace says where). */
  readonly objects: Readonly<Record<string, readonly JsonObject[]>>;
  readonly configMaps?: Readonly<Record<string, Record<string, string>>>;
  /** By name; an Error is thrown when read (a 403, say). */
  readonly mutatingWebhookConfigurations?: Readonly<Record<string, JsonObject | Error>>;
}

export class FakeClusterReader implements AuditClusterReader {
  readonly listCalls: string[] = [];
  constructor(private readonly cluster: FakeCluster) {}

  async *namespaces(): AsyncIterable<JsonObject> {
    this.listCalls.push('namespaces');
    yield* this.cluster.namespaces;
  }

  async *objects(kind: (typeof AUDITED_KINDS)[number], namespace: string): AsyncIterable<JsonObject> {
    this.listCalls.push(`${kind.kind} ${namespace}`);
    for (const object of this.cluster.objects[kind.kind] ?? []) {
      if ((object['metadata'] as { namespace?: string } | undefined)?.namespace === namespace) yield object;
    }
  }

  async configMapData(namespace: string, name: string): Promise<Record<string, string> | null> {
    return this.cluster.configMaps?.[`${namespace}/${name}`] ?? null;
  }

  async mutatingWebhookConfiguration(name: string): Promise<JsonObject | null> {
    const found = this.cluster.mutatingWebhookConfigurations?.[name];
    if (found instanceof Error) throw found;
    return found ?? null;
  }
}

export function ns(name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): JsonObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels }, annotations } };
}

export function deployment(namespace: string, name: string, podSpec: JsonObject, templateMetadata: JsonObject = {}): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, uid: `uid-${name}` },
    spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name }, ...templateMetadata }, spec: podSpec } },
  };
}

export function owned(object: JsonObject, owner: { apiVersion: string; kind: string; name: string }): JsonObject {
  const metadata = object['metadata'] as JsonObject;
  return { ...object, metadata: { ...metadata, ownerReferences: [{ ...owner, uid: `uid-${owner.name}`, controller: true }] } };
}
