import { describe, expect, it } from '@jest/globals';
import { hardenManifest, type ManifestResult } from '../../src/engine/index.js';
import { applyPatch, deepClone, namespace, policyWith } from './engine-fixtures.js';

type Json = Record<string, unknown>;

const template = (): Json => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } });

function ok(result: ManifestResult): Extract<ManifestResult, { ok: true }> {
  if (!result.ok) throw new Error(result.error);
  return result;
}

describe('hardenManifest', () => {
  it.each([
    ['apps/v1', 'Deployment', { spec: { replicas: 2, template: template() } }, '/spec/template'],
    ['apps/v1', 'StatefulSet', { spec: { serviceName: 's', template: template() } }, '/spec/template'],
    ['apps/v1', 'DaemonSet', { spec: { template: template() } }, '/spec/template'],
    ['apps/v1', 'ReplicaSet', { spec: { template: template() } }, '/spec/template'],
    ['v1', 'ReplicationController', { spec: { template: template() } }, '/spec/template'],
    ['batch/v1', 'Job', { spec: { template: template() } }, '/spec/template'],
    ['batch/v1', 'CronJob', { spec: { schedule: '* * * * *', jobTemplate: { spec: { template: template() } } } }, '/spec/jobTemplate/spec/template'],
    ['v1', 'Pod', template(), ''],
  ])('%s %s: hardens the Pod template, patch paths point into it', (apiVersion, kind, body, pointer) => {
    const manifest: Json = { apiVersion, kind, metadata: { name: 'x' }, ...deepClone(body) };
    const before = deepClone(manifest);
    const result = ok(hardenManifest(policyWith(), namespace(), manifest));
    expect(manifest).toEqual(before);
    expect(result.patch.length).toBeGreaterThan(0);
    expect(result.patch.every((op) => op.path.startsWith(`${pointer}/`))).toBe(true);
    expect(applyPatch(manifest, result.patch)).toEqual(result.object);
    const prefix = pointer === '' ? 'spec' : `${pointer.slice(1).replace(/\//g, '.')}.spec`;
    expect(result.injected).toContain(`${prefix}.securityContext.runAsUser`);
    expect(result.injected).toContain(`${prefix}.containers[0].securityContext.allowPrivilegeEscalation`);
    expect(ok(hardenManifest(policyWith(), namespace(), result.object)).patch).toEqual([]);
  });

  it('refuses other kinds, naming what is supported', () => {
    const result = hardenManifest(policyWith(), namespace(), { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } });
    expect(result).toEqual({
      ok: false,
      error:
        'unsupported kind "Service" (apiVersion v1): secure-defaults hardens Pods and the Pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs and CronJobs',
    });
  });

  it.each([
    ['a Deployment without a template', { apiVersion: 'apps/v1', kind: 'Deployment', spec: {} }, 'Deployment has no spec.template object to harden'],
    ['a Deployment of an unknown group', { apiVersion: 'example.com/v1', kind: 'Deployment' }, 'unsupported kind "Deployment" (apiVersion example.com/v1)'],
    ['not an object', 'kind: Pod', 'expected a Kubernetes object'],
  ])('explains %s', (_label, manifest, error) => {
    const result = hardenManifest(policyWith(), namespace(), manifest);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(error);
  });

  it('in enforce mode hardens anyway and reports what the webhook would deny', () => {
    const manifest = { apiVersion: 'apps/v1', kind: 'Deployment', spec: { template: { spec: { containers: [{ name: 'web', securityContext: { privileged: true } }] } } } };
    const result = ok(hardenManifest(policyWith('  mode: enforce\n'), namespace(), manifest));
    expect(result.warnings).toContain('enforce mode would deny: container "web": securityContext.privileged true: policy "test-policy" does not allow it; remove it or set false');
    expect(result.injected).toContain('spec.template.spec.securityContext.fsGroup');
    expect(result.leftOut).toEqual([{ container: 'web', path: 'spec.template.spec.containers[0]', fields: ['runAsUser', 'runAsGroup', 'runAsNonRoot', 'capabilities.drop'], reason: 'privileged' }]);
    expect(result.wouldDeny.map((v) => [v.path, v.reason])).toEqual([['spec.template.spec.containers[0].securityContext.privileged', 'privileged']]);
  });

  it('skips a Windows template and says why', () => {
    const manifest = { apiVersion: 'apps/v1', kind: 'DaemonSet', spec: { template: { spec: { nodeSelector: { 'kubernetes.io/os': 'windows' }, containers: [{ name: 'w' }] } } } };
    const result = ok(hardenManifest(policyWith(), namespace(), manifest));
    expect(result.patch).toEqual([]);
    expect(result.object).toBe(manifest);
    expect(result.skipped).toMatch(/^Windows Pod \(nodeSelector kubernetes.io\/os: windows\)/);
  });
});
