// Flow 3 against a real kube-apiserver: cluster admins edit the policy ConfigMap with kubectl.
// A valid edit is in force within seconds without a restart; a broken one is refused by the
// validating webhook with every error's field path; a broken one stored anyway (validation
// bypassed) leaves the last good policy in force and says why in an Event on the ConfigMap.
import { afterAll, beforeAll, describe, expect, jest } from '@jest/globals';
import {
  container,
  flowTestWithLog,
  INJECTED_ANNOTATION,
  OPT_IN,
  POLICY_CONFIGMAP,
  policyConfigMapManifest,
  startFlowEnvironment,
  SYSTEM_NAMESPACE,
  waitFor,
  type FlowEnvironment,
} from './support/flow-environment.js';
import { logEntries } from './support/webhook-process.js';
import { VALIDATING_WEBHOOK } from './support/webhook-registration.js';

jest.setTimeout(5 * 60 * 1000);

function policyWithTeamRange(teamRange: string, fallback = 'uidRange: "100000-165535"'): string {
  return `apiVersion: secure-defaults.io/v1alpha1
kind: SecureDefaultsPolicy
metadata: { name: e2e-policy-edits }
spec:
  mode: fill
  defaults:
    runAsNonRoot: true
    seccompProfile: RuntimeDefault
    dropCapabilities: [ALL]
    allowPrivilegeEscalation: false
  namespaces:
    - names: ["team-*"]
      uidRange: "${teamRange}"
  fallback:
    ${fallback}
`;
}

/** Two mistakes: a reversed range and a misspelt field (which also leaves uidRange missing). */
const BROKEN_POLICY = policyWithTeamRange('20000-1999', 'uidRnage: "100000-165535"');
const TEAM = 'team-edits';
const SKIP_ANNOTATION = 'secure-defaults.io/skip';

let env: FlowEnvironment;
const flowTest = flowTestWithLog(() => env.logFile);

/** The runAsUser the webhook gives a Pod in the team namespace right now (dry run: nothing stored). */
async function currentTeamUid(): Promise<number | undefined> {
  const created = await env.createPod(TEAM, 'uid-probe', { containers: [container('app')] }, { dryRun: true });
  if (!created.ok) throw new Error(`dry-run Pod refused: ${created.message}`);
  return created.pod.spec?.securityContext?.runAsUser;
}

async function storedPolicyText(): Promise<string> {
  const configMap = await env.kubectlJson(['get', 'configmap', POLICY_CONFIGMAP, '-n', SYSTEM_NAMESPACE]);
  return configMap.data['policy.yaml'];
}

interface CoreEvent {
  reason: string;
  type: string;
  message: string;
}

async function policyEvents(): Promise<CoreEvent[]> {
  const list = await env.kubectlJson(['get', 'events', '-n', SYSTEM_NAMESPACE, '--field-selector', `involvedObject.name=${POLICY_CONFIGMAP}`]);
  return list.items as CoreEvent[];
}

beforeAll(async () => {
  env = await startFlowEnvironment(policyWithTeamRange('200000-209999'));
  await env.createNamespace(TEAM, OPT_IN);
});

afterAll(async () => {
  await env?.teardown();
});

describe('policy ConfigMap edits', () => {
  flowTest('the starting policy is in force', async () => {
    expect(await env.kubectlCreatePod(TEAM, 'first', { containers: [container('app')] })).toMatchObject({ code: 0 });
    const pod = await env.storedPod(TEAM, 'first');
    expect(pod.spec.securityContext).toMatchObject({ runAsUser: 200000, runAsGroup: 200000 });
  });

  flowTest('a Pod annotated to opt out is hardened anyway while the policy does not allow opting out, and kubectl says why', async () => {
    const created = await env.kubectlCreatePod(TEAM, 'wants-out', { containers: [container('app')] }, { [SKIP_ANNOTATION]: 'true' });
    expect(created).toMatchObject({ code: 0 });
    expect(created.stderr).toContain(`annotation ${SKIP_ANNOTATION}: "true" is ignored`);
    expect((await env.storedPod(TEAM, 'wants-out')).spec.securityContext).toMatchObject({ runAsUser: 200000, runAsNonRoot: true });
  });

  flowTest('kubectl apply of a new range: the next Pods get it within seconds, with no restart', async () => {
    const pid = env.webhook().pid;
    const applied = await env.applyPolicy(policyWithTeamRange('300000-309999'));
    expect(applied).toMatchObject({ code: 0 });
    const { elapsedMs } = await waitFor('the new range to be in force', 20_000, async () => (await currentTeamUid()) === 300000, 100);
    console.log(`policy edit in force ${(elapsedMs / 1000).toFixed(2)} s after kubectl apply returned`);

    expect(await env.kubectlCreatePod(TEAM, 'after-edit', { containers: [container('app')] })).toMatchObject({ code: 0 });
    const pod = await env.storedPod(TEAM, 'after-edit');
    expect(pod.spec.securityContext).toMatchObject({ runAsUser: 300000, runAsGroup: 300000 });
    expect(env.webhook().pid).toBe(pid);
    expect(env.webhook().hasExited()).toBe(false);
    const loaded = logEntries(env.logFile).filter((entry) => entry['message'] === 'policy loaded');
    expect(loaded.map((entry) => entry['generation'])).toEqual([1, 2]);
  });

  flowTest('kubectl apply of a broken policy fails with every error and its field path; the stored policy is unchanged', async () => {
    const before = await storedPolicyText();
    const applied = await env.applyPolicy(BROKEN_POLICY);
    expect(applied.code).not.toBe(0);
    expect(applied.stderr).toContain(`admission webhook "${VALIDATING_WEBHOOK}" denied the request`);
    expect(applied.stderr).toContain('spec.namespaces[0].uidRange: "20000-1999": min is greater than max');
    expect(applied.stderr).toContain('spec.fallback.uidRnage: unknown field; did you mean "uidRange"?');
    expect(applied.stderr).toContain('spec.fallback.uidRange: required');
    expect(await storedPolicyText()).toBe(before);
    expect(await currentTeamUid()).toBe(300000);
  });

  flowTest('a broken policy stored anyway leaves the last good one in force and records why in an Event on the ConfigMap', async () => {
    // What an admin with validation switched off (or the webhook down: the chart's policy
    // webhook fails open on purpose) can do.
    await env.removePolicyValidation();
    await waitFor('the validating webhook to be gone from the API server', 15_000, async () => {
      const dryRun = await env.plane.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: policyConfigMapManifest(BROKEN_POLICY) });
      return dryRun.code === 0;
    });
    expect(await env.applyPolicy(BROKEN_POLICY)).toMatchObject({ code: 0 });
    expect(await storedPolicyText()).toBe(BROKEN_POLICY);

    const { value: rejected, elapsedMs } = await waitFor('a PolicyRejected Event on the ConfigMap', 20_000, async () =>
      (await policyEvents()).find((event) => event.reason === 'PolicyRejected'),
    );
    console.log(`PolicyRejected Event recorded ${(elapsedMs / 1000).toFixed(2)} s after the broken policy was stored`);
    expect(rejected.type).toBe('Warning');
    expect(rejected.message).toContain('spec.namespaces[0].uidRange');
    expect(rejected.message).toContain('spec.fallback.uidRnage');
    expect(rejected.message).toContain('keeping policy "e2e-policy-edits" (generation 2)');

    expect(await env.kubectlCreatePod(TEAM, 'after-broken', { containers: [container('app')] })).toMatchObject({ code: 0 });
    const pod = await env.storedPod(TEAM, 'after-broken');
    expect(pod.spec.securityContext).toMatchObject({ runAsUser: 300000, runAsNonRoot: true });
    expect(await env.webhook().readyz()).toEqual({ status: 200, body: 'ok' });
  });

  flowTest('fixing the policy afterwards puts the fix in force', async () => {
    await env.register('Fail');
    expect(await env.applyPolicy(policyWithTeamRange('400000-409999'))).toMatchObject({ code: 0 });
    await waitFor('the fixed policy to be in force', 20_000, async () => (await currentTeamUid()) === 400000, 100);
    const loaded = await waitFor('a PolicyLoaded Event for generation 3', 20_000, async () =>
      (await policyEvents()).find((event) => event.reason === 'PolicyLoaded' && event.message.includes('generation 3')),
    );
    expect(loaded.value.type).toBe('Normal');
  });

  flowTest('switching the policy to enforce mode: a Pod running outside its range is refused with every violation named', async () => {
    const enforce = policyWithTeamRange('400000-409999').replace('mode: fill', 'mode: enforce');
    expect(await env.applyPolicy(enforce)).toMatchObject({ code: 0 });
    const offending = {
      containers: [container('app', { runAsUser: 1000 }), container('root', { runAsUser: 0, allowPrivilegeEscalation: true })],
    };
    await waitFor('enforce mode to be in force', 20_000, async () => !(await env.createPod(TEAM, 'enforce-probe', offending, { dryRun: true })).ok, 100);

    const refused = await env.kubectlCreatePod(TEAM, 'offending', offending);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('admission webhook "pods.secure-defaults.io" denied the request');
    expect(refused.stderr).toContain('container "app": securityContext.runAsUser 1000 is outside the range 400000-409999');
    expect(refused.stderr).toContain('container "root": securityContext.runAsUser 0 is outside the range 400000-409999');
    expect(refused.stderr).toContain('container "root": securityContext.allowPrivilegeEscalation true');
    expect((await env.plane.kubectl(['get', 'pod', 'offending', '-n', TEAM])).stderr).toContain('NotFound');

    // Enforce still fills in: a Pod that sets nothing is admitted with the range's IDs.
    expect(await env.kubectlCreatePod(TEAM, 'compliant', { containers: [container('app')] })).toMatchObject({ code: 0 });
    expect((await env.storedPod(TEAM, 'compliant')).spec.securityContext).toMatchObject({ runAsUser: 400000, runAsNonRoot: true });
  });

  flowTest('a namespace rule in warn mode admits what enforce refuses, and kubectl prints the denial as a warning', async () => {
    // spec.mode enforce for the cluster; the team-* rule alone is still in warn mode.
    const rollout = policyWithTeamRange('600000-609999')
      .replace('mode: fill', 'mode: enforce')
      .replace('      uidRange: "600000-609999"', '      uidRange: "600000-609999"\n      mode: warn');
    expect(await env.applyPolicy(rollout)).toMatchObject({ code: 0 });
    await waitFor('the warn-mode rule to be in force', 20_000, async () => (await currentTeamUid()) === 600000, 100);
    const ENFORCED = 'enforced-edits'; // opted in, matches no rule: spec.mode (enforce)
    await env.createNamespace(ENFORCED, OPT_IN);
    const offending = { containers: [container('app', { runAsUser: 1000 })] };

    const refused = await env.kubectlCreatePod(ENFORCED, 'offending', offending);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('policy "e2e-policy-edits" (enforce mode) denies Pod "offending" in namespace "enforced-edits": container "app": securityContext.runAsUser 1000 is outside the range 100000-165535');

    const warned = await env.kubectlCreatePod(TEAM, 'warned', offending);
    expect(warned.code).toBe(0);
    expect(warned.stderr).toContain(
      'Warning: policy "e2e-policy-edits" (warn mode) would deny this Pod in enforce mode: container "app": securityContext.runAsUser 1000 is outside the range 600000-609999 allowed in namespace "team-edits" (spec.namespaces[0])',
    );
    const stored = await env.storedPod(TEAM, 'warned');
    expect(stored.spec.containers[0].securityContext).toMatchObject({ runAsUser: 1000, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    const line = logEntries(env.logFile).find((e) => e['message'] === 'admission decision' && e['namespace'] === TEAM && e['name'] === 'warned');
    expect(line).toMatchObject({ allowed: true, mode: 'warn', wouldDeny: ['spec.containers[0].securityContext.runAsUser'] });
  });

  flowTest('a policy that allows opting out leaves annotated Pods exactly as submitted, and still hardens the others', async () => {
    const optOut = policyWithTeamRange('500000-509999').replace('  fallback:', '  allowPodOptOut: true\n  fallback:');
    expect(await env.applyPolicy(optOut)).toMatchObject({ code: 0 });
    await waitFor('the opt-out policy to be in force', 20_000, async () => (await currentTeamUid()) === 500000, 100);

    expect(await env.kubectlCreatePod(TEAM, 'opted-out', { containers: [container('app')] }, { [SKIP_ANNOTATION]: 'true' })).toMatchObject({ code: 0 });
    const skipped = await env.storedPod(TEAM, 'opted-out');
    expect(skipped.metadata.annotations[INJECTED_ANNOTATION]).toBeUndefined();
    expect(skipped.spec.securityContext ?? {}).toEqual({});
    expect(skipped.spec.containers[0].securityContext).toBeUndefined();

    expect(await env.kubectlCreatePod(TEAM, 'not-opted-out', { containers: [container('app')] })).toMatchObject({ code: 0 });
    expect((await env.storedPod(TEAM, 'not-opted-out')).spec.securityContext).toMatchObject({ runAsUser: 500000 });
  });
});
