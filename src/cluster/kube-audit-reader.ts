// The audit's only contact with the API server: paged GETs of raw JSON (namespaces, the workload
// kinds of one namespace, the policy ConfigMap, the webhook configuration). Raw JSON rather than client-node's typed models:
// the models drop fields they do not know (a newer API server's), and the audit must hand the
// engine exactly what the webhook would see. Only connection and authentication come from the
// client library (KubeConfig.applyToHTTPSOptions), so a client upgrade touches this file alone.
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { type JsonObject } from '../foundation/json-object.js';


/** The workload kinds the audit lists in each namespace, with where the API serves them. */
export const AUDITED_KINDS = [
  { kind: 'Deployment', apiVersion: 'apps/v1', path: 'apis/apps/v1', resource: 'deployments' },
  { kind: 'StatefulSet', apiVersion: 'apps/v1', path: 'apis/apps/v1', resource: 'statefulsets' },
  { kind: 'DaemonSet', apiVersion: 'apps/v1', path: 'apis/apps/v1', resource: 'daemonsets' },
  { kind: 'ReplicaSet', apiVersion: 'apps/v1', path: 'apis/apps/v1', resource: 'replicasets' },
  { kind: 'ReplicationController', apiVersion: 'v1', path: 'api/v1', resource: 'replicationcontrollers' },
  { kind: 'CronJob', apiVersion: 'batch/v1', path: 'apis/batch/v1', resource: 'cronjobs' },
  { kind: 'Job', apiVersion: 'batch/v1', path: 'apis/batch/v1', resource: 'jobs' },
  { kind: 'Pod', apiVersion: 'v1', path: 'api/v1', resource: 'pods' },
] as const;

/** An API answer other than 2xx, with its HTTP status (403, 404, …) and the server's message. */
export class ApiStatusError extends Error {
  override readonly name = 'ApiStatusError';
  constructor(
    readonly status: number,
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the audit reads from a cluster, as a port: the command takes it, tests pass fakes. */
export interface AuditClusterReader {
  /** Every namespace, page by page. */
  namespaces(): AsyncIterable<JsonObject>;
  /** Every object of one kind in one namespace, page by page. */
  objects(kind: (typeof AUDITED_KINDS)[number], namespace: string): AsyncIterable<JsonObject>;
  /** The ConfigMap's data, or null when it does not exist. */
  configMapData(namespace: string, name: string): Promise<Record<string, string> | null>;
  /** The MutatingWebhookConfiguration, or null when it does not exist. */
  mutatingWebhookConfiguration(name: string): Promise<JsonObject | null>;
}

export const DEFAULT_PAGE_SIZE = 250;
/** A list page is a few MB at most at our page size; a longer body is not an API server talking. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export class KubeAuditReader implements AuditClusterReader {
  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly pageSize = DEFAULT_PAGE_SIZE,
  ) {}

  namespaces(): AsyncIterable<JsonObject> {
    return this.pages('api/v1/namespaces');
  }

  objects(kind: (typeof AUDITED_KINDS)[number], namespace: string): AsyncIterable<JsonObject> {
    return this.pages(`${kind.path}/namespaces/${encodeURIComponent(namespace)}/${kind.resource}`);
  }

  async configMapData(namespace: string, name: string): Promise<Record<string, string> | null> {
    try {
      const configMap = await this.getJson(`api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(name)}`);
      const data = configMap['data'];
      return typeof data === 'object' && data !== null ? (data as Record<string, string>) : {};
    } catch (error) {
      if (error instanceof ApiStatusError && error.status === 404) return null;
      throw error;
    }
  }

  async mutatingWebhookConfiguration(name: string): Promise<JsonObject | null> {
    try {
      return await this.getJson(`apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${encodeURIComponent(name)}`);
    } catch (error) {
      if (error instanceof ApiStatusError && error.status === 404) return null;
      throw error;
    }
  }

  private async *pages(path: string): AsyncIterable<JsonObject> {
    let continueToken = '';
    do {
      const query = new URLSearchParams({ limit: String(this.pageSize) });
      if (continueToken !== '') query.set('continue', continueToken);
      const list = await this.getJson(`${path}?${query.toString()}`);
      const items = Array.isArray(list['items']) ? (list['items'] as unknown[]) : [];
      for (const item of items) if (typeof item === 'object' && item !== null) yield item as JsonObject;
      const metadata = list['metadata'] as { continue?: unknown } | undefined;
      continueToken = typeof metadata?.continue === 'string' ? metadata.continue : '';
    } while (continueToken !== '');
  }

  private async getJson(path: string): Promise<JsonObject> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (cluster === null) throw new Error('no current cluster in the kubeconfig');
    const url = new URL(`${cluster.server.replace(/\/+$/, '')}/${path}`);
    const options: RequestOptions & Record<string, unknown> = { method: 'GET', headers: { Accept: 'application/json' } };
    await this.kubeConfig.applyToHTTPSOptions(options);
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = send(url, options, resolve);
      request.on('error', reject);
      request.end();
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) {
        response.destroy();
        throw new Error(`GET /${path}: answer longer than ${MAX_BODY_BYTES} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const status = response.statusCode ?? 0;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (status < 200 || status >= 300) {
      const message = typeof (body as { message?: unknown } | undefined)?.message === 'string' ? (body as { message: string }).message : text.slice(0, 200);
      throw new ApiStatusError(status, `/${path}`, `GET /${path.split('?')[0]}: HTTP ${status}: ${message}`);
    }
    if (typeof body !== 'object' || body === null) throw new Error(`GET /${path.split('?')[0]}: the answer is not a JSON object`);
    return body as JsonObject;
  }
}
