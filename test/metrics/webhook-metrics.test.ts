import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { createWebhookMetrics, injectedFieldLabel, registerBuildInfo } from '../../src/metrics/webhook-metrics.js';

function series(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `)).sort();
}

describe('webhook metrics', () => {
  it.each([
    ['spec.securityContext.runAsUser', 'spec.securityContext.runAsUser'],
    ['spec.containers[app].securityContext.capabilities.drop', 'spec.containers[].securityContext.capabilities.drop'],
    ['spec.template.spec.initContainers[0].securityContext.runAsNonRoot', 'spec.template.spec.initContainers[].securityContext.runAsNonRoot'],
  ])('labels %s as %s', (path, label) => {
    expect(injectedFieldLabel(path)).toBe(label);
  });

  it('counts requests by endpoint, operation and result, and scraping twice counts nothing twice', async () => {
    const registry = new Registry();
    const metrics = createWebhookMetrics(registry);
    for (let i = 0; i < 3; i++) metrics.observeAdmission('mutate', 'CREATE', 'patched', 0.001);
    metrics.observeAdmission('mutate', 'CREATE', 'skipped', 0.002);
    metrics.observeAdmission('mutate', '', 'invalid', 0);
    metrics.observeAdmission('validate-policy', 'UPDATE', 'allowed', 0.01);
    const expected = [
      'secure_defaults_admission_requests_total{webhook_endpoint="mutate",operation="CREATE",result="patched"} 3',
      'secure_defaults_admission_requests_total{webhook_endpoint="mutate",operation="CREATE",result="skipped"} 1',
      'secure_defaults_admission_requests_total{webhook_endpoint="mutate",operation="unknown",result="invalid"} 1',
      'secure_defaults_admission_requests_total{webhook_endpoint="validate-policy",operation="UPDATE",result="allowed"} 1',
    ];
    expect(series(await registry.metrics(), 'secure_defaults_admission_requests_total')).toEqual(expected);
    expect(series(await registry.metrics(), 'secure_defaults_admission_requests_total')).toEqual(expected);
    metrics.observeAdmission('mutate', 'CREATE', 'patched', 0.001);
    expect(series(await registry.metrics(), 'secure_defaults_admission_requests_total')).toContain(
      'secure_defaults_admission_requests_total{webhook_endpoint="mutate",operation="CREATE",result="patched"} 4',
    );
    expect(await registry.metrics()).toContain('secure_defaults_admission_duration_seconds_count{webhook_endpoint="mutate",operation="CREATE"} 5');
  });

  it('sums injected fields across containers and Pods, container names elided', async () => {
    const registry = new Registry();
    const metrics = createWebhookMetrics(registry);
    const pod = (names: string[]) => [
      'spec.securityContext.runAsUser',
      ...names.map((name) => `spec.containers[${name}].securityContext.allowPrivilegeEscalation`),
    ];
    metrics.countInjected(pod(['app', 'envoy']));
    metrics.countInjected(pod(['web']));
    metrics.countInjected([]);
    expect(series(await registry.metrics(), 'secure_defaults_injected_fields_total')).toEqual([
      'secure_defaults_injected_fields_total{field="spec.containers[].securityContext.allowPrivilegeEscalation"} 3',
      'secure_defaults_injected_fields_total{field="spec.securityContext.runAsUser"} 2',
    ]);
  });

  it('keeps counting right past the label cache limit (many distinct container names)', async () => {
    const registry = new Registry();
    const metrics = createWebhookMetrics(registry);
    const paths = Array.from({ length: 10_000 }, (_, i) => `spec.containers[c${i}].securityContext.runAsNonRoot`);
    metrics.countInjected(paths);
    metrics.countInjected(paths.slice(0, 10));
    expect(series(await registry.metrics(), 'secure_defaults_injected_fields_total')).toEqual([
      'secure_defaults_injected_fields_total{field="spec.containers[].securityContext.runAsNonRoot"} 10010',
    ]);
  });

  it.each([[''], ['PATCH'], ['create'], ['x'.repeat(10_000)]])('labels the operation %j as "unknown", so made-up operations cannot add series', async (operation) => {
    const registry = new Registry();
    const metrics = createWebhookMetrics(registry);
    metrics.observeAdmission('mutate', operation.slice(0, 10_000), 'invalid', 0);
    metrics.observeAdmission('mutate', 'DELETE', 'skipped', 0);
    expect(series(await registry.metrics(), 'secure_defaults_admission_requests_total')).toEqual([
      'secure_defaults_admission_requests_total{webhook_endpoint="mutate",operation="DELETE",result="skipped"} 1',
      'secure_defaults_admission_requests_total{webhook_endpoint="mutate",operation="unknown",result="invalid"} 1',
    ]);
  });

  it('counts warnings per reason', async () => {
    const registry = new Registry();
    const metrics = createWebhookMetrics(registry);
    metrics.countWarnings(['privileged-container', 'other', 'privileged-container']);
    metrics.countWarnings([]);
    expect(series(await registry.metrics(), 'secure_defaults_warnings_total')).toEqual([
      'secure_defaults_warnings_total{reason="other"} 1',
      'secure_defaults_warnings_total{reason="privileged-container"} 2',
    ]);
  });

  it('exports the certificate expiry (0 until set) and build info', async () => {
    const registry = new Registry();
    const metrics = createWebhookMetrics(registry);
    registerBuildInfo(registry, { version: '1.2.3', node: 'v24.0.0' });
    expect(series(await registry.metrics(), 'secure_defaults_tls_certificate_expiry_timestamp_seconds')).toEqual(['secure_defaults_tls_certificate_expiry_timestamp_seconds 0']);
    metrics.setCertificateExpiry(1_900_000_000);
    expect(series(await registry.metrics(), 'secure_defaults_tls_certificate_expiry_timestamp_seconds')).toEqual(['secure_defaults_tls_certificate_expiry_timestamp_seconds 1900000000']);
    expect(series(await registry.metrics(), 'secure_defaults_build_info')).toEqual(['secure_defaults_build_info{version="1.2.3",node="v24.0.0"} 1']);
  });

  it('counts would-deny violations by namespace and reason, a reason once per violation', async () => {
    const registry = new Registry();
    const metrics = createWebhookMetrics(registry);
    metrics.countWouldDeny('team-a', ['privileged', 'uidRange', 'privileged']);
    metrics.countWouldDeny('team-b', ['runAsNonRoot']);
    metrics.countWouldDeny('team-a', []);
    expect(series(await registry.metrics(), 'secure_defaults_would_deny_total')).toEqual([
      'secure_defaults_would_deny_total{resource_namespace="team-a",reason="privileged"} 2',
      'secure_defaults_would_deny_total{resource_namespace="team-a",reason="uidRange"} 1',
      'secure_defaults_would_deny_total{resource_namespace="team-b",reason="runAsNonRoot"} 1',
    ]);
  });
});
