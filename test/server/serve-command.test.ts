import { describe, expect, it } from '@jest/globals';
import { Command } from 'commander';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigMapRef, registerServeCommand, startServe, type ServeOptions } from '../../src/cli/commands/serve.js';
import { decodePatch, httpsCall, podReview, RecordingLogger, startTestWebhook } from './webhook-harness.js';

const base: ServeOptions = { port: 0, host: '127.0.0.1', failClosed: false, shutdownDelay: 0, drainTimeout: 2 };

describe('secure-defaults serve', () => {
  it('serves the default policy file standalone: every namespace opted in, self-signed TLS', async () => {
    const logger = new RecordingLogger();
    const running = await startServe({ ...base, policy: 'policies/default.yaml' }, logger);
    try {
      const ca = running.webhook.initialCertificatePem;
      const answer = await httpsCall(running.webhook.port, {
        method: 'POST',
        path: '/mutate',
        ca,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(podReview({ uid: 'serve-1', namespace: 'anything' })),
      });
      const response = answer.json().response;
      expect(response).toMatchObject({ uid: 'serve-1', allowed: true, patchType: 'JSONPatch' });
      const patch = decodePatch(response) as Array<{ path: string; value: { runAsUser?: number } }>;
      expect(patch.find((op) => op.path === '/spec/securityContext')?.value.runAsUser).toBe(100000);
      expect((await httpsCall(running.webhook.port, { method: 'GET', path: '/readyz', ca })).status).toBe(200);
      const metrics = (await httpsCall(running.webhook.port, { method: 'GET', path: '/metrics', ca })).text;
      expect(metrics).toContain('process_resident_memory_bytes');
      expect(metrics).toContain('secure_defaults_policy_generation 1');
    } finally {
      await running.stop();
    }
    expect(logger.entries.some((e) => e.message === 'webhook server stopped')).toBe(true);
  });

  it('exports build info, the serving certificate expiry and warnings per reason on /metrics', async () => {
    const running = await startServe({ ...base, policy: 'policies/default.yaml' }, new RecordingLogger());
    try {
      const ca = running.webhook.initialCertificatePem;
      const object = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'app', image: 'busybox', securityContext: { privileged: true } }] } };
      const privileged = podReview({ uid: 'serve-2', namespace: 'anything', object });
      const answer = await httpsCall(running.webhook.port, { method: 'POST', path: '/mutate', ca, headers: { 'content-type': 'application/json' }, body: JSON.stringify(privileged) });
      expect(answer.json().response.warnings).toEqual(expect.arrayContaining([expect.stringContaining('allowPrivilegeEscalation: false not added')]));
      const metrics = (await httpsCall(running.webhook.port, { method: 'GET', path: '/metrics', ca })).text;
      const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
      expect(metrics).toContain(`secure_defaults_build_info{version="${version}",node="${process.version}"} 1`);
      const notAfter = Math.floor(Date.parse(new X509Certificate(ca).validTo) / 1000);
      expect(metrics).toContain(`secure_defaults_tls_certificate_expiry_timestamp_seconds ${notAfter}\n`);
      expect(metrics).toContain('secure_defaults_warnings_total{reason="privileged-container"} 1');
      expect(metrics).toContain('secure_defaults_ready 1\n');
    } finally {
      await running.stop();
    }
  });

  it('exports secure_defaults_ready 0 while /readyz says not ready (no policy loaded)', async () => {
    const hook = await startTestWebhook({ policySource: { current: () => null } });
    try {
      expect((await httpsCall(hook.webhook.port, { method: 'GET', path: '/readyz', ca: hook.ca })).status).toBe(503);
      expect((await httpsCall(hook.webhook.port, { method: 'GET', path: '/metrics', ca: hook.ca })).text).toContain('secure_defaults_ready 0\n');
    } finally {
      await hook.stop();
    }
  });

  it.each([
    [{}, /give exactly one of --policy FILE \(standalone\) or --policy-configmap/],
    [{ policy: 'policies/default.yaml', policyConfigmap: 'a/b' }, /give exactly one of/],
    [{ policy: 'policies/default.yaml', tlsCert: '/tmp/x.crt' }, /--tls-cert and --tls-key go together/],
    [{ policy: '/nonexistent/policy.yaml' }, /--policy \/nonexistent\/policy.yaml: cannot read it \(ENOENT\)/],
    [{ policyConfigmap: 'just-a-name' }, /expected NAMESPACE\/NAME/],
  ])('refuses %j with a clear message', async (flags, message) => {
    await expect(startServe({ ...base, ...flags }, new RecordingLogger())).rejects.toThrow(message);
  });

  it('refuses an invalid policy file, listing its errors with paths', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sd-serve-'));
    try {
      const file = join(dir, 'policy.yaml');
      await writeFile(file, 'apiVersion: secure-defaults.io/v1alpha1\nkind: SecureDefaultsPolicy\nmetadata: {name: x}\nspec:\n  mode: sometimes\n');
      await expect(startServe({ ...base, policy: file }, new RecordingLogger())).rejects.toThrow(/is not a valid policy: spec.mode: /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['secure-defaults/policy', { namespace: 'secure-defaults', name: 'policy' }],
    ['ns/policy.v2', { namespace: 'ns', name: 'policy.v2' }],
  ])('reads --policy-configmap %s', (value, expected) => {
    expect(parseConfigMapRef(value)).toEqual(expected);
  });

  it.each(['Upper/policy', 'ns/', '/name', 'a/b/c', 'ns/bad_name'])('refuses --policy-configmap %s', (value) => {
    expect(() => parseConfigMapRef(value)).toThrow(/--policy-configmap/);
  });

  it('registers the flags with their defaults', () => {
    const program = new Command().exitOverride();
    registerServeCommand(program);
    const serve = program.commands.find((c) => c.name() === 'serve')!;
    const defaults = Object.fromEntries(serve.options.map((o) => [o.long, o.defaultValue]));
    expect(defaults).toMatchObject({ '--port': 8443, '--host': '0.0.0.0', '--log-level': 'info', '--fail-closed': false, '--shutdown-delay': 5, '--drain-timeout': 20 });
    expect(() => program.parse(['serve', '--port', 'http'], { from: 'user' })).toThrow(/--port "http": expected a whole number from 0 to 65535/);
  });
});
