// The reader against a real HTTP server speaking the API's list protocol: every page is asked
// for with limit and the previous page's continue token, and every item of every page arrives.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { AUDITED_KINDS, ApiStatusError, KubeAuditReader } from '../../src/cluster/kube-audit-reader.js';
import { connectAuditReader } from '../../src/cli/commands/audit.js';
import { UserError } from '../../src/cli/user-error.js';

const NAMESPACES = Array.from({ length: 7 }, (_, i) => ({ metadata: { name: `ns-${i}` } }));
const requests: string[] = [];
let server: Server;
let kubeConfig: KubeConfig;

beforeAll(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    requests.push(`${url.pathname}?${url.searchParams.toString()}`);
    response.setHeader('content-type', 'application/json');
    if (url.pathname === '/api/v1/namespaces') {
      const limit = Number(url.searchParams.get('limit'));
      const start = Number(url.searchParams.get('continue') ?? '0');
      const next = start + limit;
      response.end(JSON.stringify({ kind: 'NamespaceList', metadata: next < NAMESPACES.length ? { continue: String(next) } : {}, items: NAMESPACES.slice(start, next) }));
    } else if (url.pathname === '/api/v1/namespaces/ops/configmaps/policy') {
      response.end(JSON.stringify({ data: { 'policy.yaml': 'text' } }));
    } else if (url.pathname.startsWith('/apis/apps/v1/namespaces/locked/')) {
      response.statusCode = 403;
      response.end(JSON.stringify({ kind: 'Status', message: 'deployments.apps is forbidden: User "auditor" cannot list resource' }));
    } else {
      response.statusCode = 404;
      response.end(JSON.stringify({ kind: 'Status', message: 'not found' }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('lists page by page with limit and continue, yielding every item once', async () => {
  requests.length = 0;
  const names: string[] = [];
  for await (const item of new KubeAuditReader(kubeConfig, 3).namespaces()) names.push((item['metadata'] as { name: string }).name);
  expect(names).toEqual(NAMESPACES.map((n) => n.metadata.name));
  expect(requests).toEqual(['/api/v1/namespaces?limit=3', '/api/v1/namespaces?limit=3&continue=3', '/api/v1/namespaces?limit=3&continue=6']);
});

test('a ConfigMap is read by name; a missing one is null; a refused list is an error with its status', async () => {
  const reader = new KubeAuditReader(kubeConfig);
  expect(await reader.configMapData('ops', 'policy')).toEqual({ 'policy.yaml': 'text' });
  expect(await reader.configMapData('ops', 'gone')).toBeNull();
  const deployments = AUDITED_KINDS.find((k) => k.kind === 'Deployment')!;
  const listing = (async () => {
    for await (const _ of reader.objects(deployments, 'locked')) void _;
  })();
  await expect(listing).rejects.toBeInstanceOf(ApiStatusError);
  await expect(listing).rejects.toMatchObject({ status: 403, message: expect.stringContaining('cannot list resource') });
});

test('--kubeconfig and --context choose the cluster; an unknown context is one clear error', async () => {
  const port = (server.address() as AddressInfo).port;
  const file = join(mkdtempSync(join(tmpdir(), 'audit-kubeconfig-')), 'config');
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'nowhere', cluster: { server: 'http://127.0.0.1:1' } },
        { name: 'here', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } },
      ],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [
        { name: 'prod', context: { cluster: 'nowhere', user: 'u' } },
        { name: 'test', context: { cluster: 'here', user: 'u' } },
      ],
      'current-context': 'prod',
    }),
  );
  const flags = { kubeconfig: file, policyConfigmap: 'ops/policy', output: 'json' as const, failOn: 'deny' as const, chunkSize: 100 };
  const reader = connectAuditReader({ ...flags, context: 'test' });
  const names: string[] = [];
  for await (const item of reader.namespaces()) names.push((item['metadata'] as { name: string }).name);
  expect(names).toHaveLength(NAMESPACES.length);
  expect(() => connectAuditReader({ ...flags, context: 'staging' })).toThrow(UserError);
  expect(() => connectAuditReader({ ...flags, context: 'staging' })).toThrow(/staging/);
});
