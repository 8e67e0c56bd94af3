// Warn mode through the real webhook (real TLS, real engine): the Pod is admitted and hardened,
// the answer carries the would-deny warnings, secure_defaults_would_deny_total counts them by
// the Pod's namespace (resource_namespace) and reason, and the decision's log line says what was left out and why.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decideAdmission, parsePolicy, type CompiledPolicy } from '../../src/engine/index.js';
import { staticPolicySource } from '../../src/ports/standalone-ports.js';
import { decodePatch, OPTED_IN, podReview, startTestWebhook, type TestWebhook } from './webhook-harness.js';

function policy(mode: string): CompiledPolicy {
  const parsed = parsePolicy(
    `apiVersion: secure-defaults.io/v1alpha1\nkind: SecureDefaultsPolicy\nmetadata: {name: rollout}\nspec:\n  namespaces:\n    - names: ["${OPTED_IN.name}"]\n      uidRange: "10000-19999"\n      mode: ${mode}\n`,
  );
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join('\n'));
  return parsed.policy;
}

const agentPod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'agent', namespace: OPTED_IN.name },
  spec: { initContainers: [{ name: 'sysctl', image: 'busybox', securityContext: { privileged: true } }], containers: [{ name: 'app', image: 'nginx', securityContext: { runAsUser: 5 } }] },
};

describe('warn mode through the webhook', () => {
  let warn: TestWebhook;
  let enforce: TestWebhook;
  beforeAll(async () => {
    warn = await startTestWebhook({ decideAdmission, policySource: staticPolicySource(policy('warn')) });
    enforce = await startTestWebhook({ decideAdmission, policySource: staticPolicySource(policy('enforce')) });
  });
  afterAll(async () => {
    await warn.stop();
    await enforce.stop();
  });

  it('admits and hardens what enforce refuses, warning in the denial\'s words', async () => {
    const refused = (await enforce.post('/mutate', podReview({ object: agentPod }))).json().response;
    expect(refused.allowed).toBe(false);
    const admitted = (await warn.post('/mutate', podReview({ object: agentPod }))).json().response;
    expect(admitted.allowed).toBe(true);
    expect((decodePatch(admitted) as { path: string }[]).map((op) => op.path)).toContain('/spec/containers/0/securityContext/capabilities');
    const sentences = ['container "sysctl": securityContext.privileged true', 'container "app": securityContext.runAsUser 5 is outside the range 10000-19999'];
    for (const sentence of sentences) {
      expect(refused.status.message).toContain(sentence);
      expect(admitted.warnings).toEqual(expect.arrayContaining([expect.stringContaining(`(warn mode) would deny this Pod in enforce mode: ${sentence}`)]));
    }
    expect(admitted.warnings).toEqual(expect.arrayContaining([expect.stringContaining('container "sysctl" is privileged and keeps the user, group and capabilities it asks for')]));
    expect(admitted.auditAnnotations).toMatchObject({
      wouldDeny: 'spec.initContainers[0].securityContext.privileged,spec.containers[0].securityContext.runAsUser',
      leftOut: 'spec.initContainers[0]:privileged',
    });
  });

  it('counts what it would have denied by namespace and reason, and logs it with what was left out', async () => {
    const before = warn.logger.decisions().length;
    await warn.post('/mutate', podReview({ uid: 'warned', object: agentPod }));
    const metrics = (await warn.get('/metrics')).text;
    expect(metrics).toMatch(new RegExp(`secure_defaults_would_deny_total\\{resource_namespace="${OPTED_IN.name}",reason="privileged"\\} [1-9]`));
    expect(metrics).toMatch(new RegExp(`secure_defaults_would_deny_total\\{resource_namespace="${OPTED_IN.name}",reason="uidRange"\\} [1-9]`));
    const [line] = warn.logger.decisions().slice(before);
    expect(line?.fields).toMatchObject({
      uid: 'warned',
      allowed: true,
      mode: 'warn',
      wouldDeny: ['spec.initContainers[0].securityContext.privileged', 'spec.containers[0].securityContext.runAsUser'],
      leftOut: ['spec.initContainers[0] (sysctl): runAsUser,runAsGroup,runAsNonRoot,capabilities.drop left out: privileged'],
    });
  });

  it('enforce mode counts nothing as would-deny: it denies', async () => {
    await enforce.post('/mutate', podReview({ object: agentPod }));
    expect((await enforce.get('/metrics')).text).not.toMatch(/secure_defaults_would_deny_total\{/);
  });
});
