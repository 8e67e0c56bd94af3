// Flow 4 against a real kube-apiserver: with the webhook process stopped, Pod creation in opted-in
// namespaces follows the registration's failurePolicy (Fail: refused with the reason; Ignore:
// admitted unhardened, and then PodSecurity "restricted" is what still refuses root Pods), while
// namespaces that did not opt in never notice.
import { afterAll, beforeAll, describe, expect, jest } from '@jest/globals';
import {
  container,
  ENFORCE_RESTRICTED,
  flowTestWithLog,
  INJECTED_ANNOTATION,
  OPT_IN,
  POLICY_CONFIGMAP,
  startFlowEnvironment,
  SYSTEM_NAMESPACE,
  waitFor,
  type FlowEnvironment,
} from './support/flow-environment.js';
import { MUTATING_WEBHOOK } from './support/webhook-registration.js';

jest.setTimeout(5 * 60 * 1000);

const POLICY = `apiVersion: secure-defaults.io/v1alpha1
kind: SecureDefaultsPolicy
metadata: { name: e2e-failure-policy }
spec:
  fallback:
    uidRange: "100000-165535"
`;

const OPTED = 'opted-in'; // no PodSecurity label
const OPTED_RESTRICTED = 'opted-in-restricted';
const BYSTANDER = 'bystander'; // did not opt in

let env: FlowEnvironment;
const flowTest = flowTestWithLog(() => env.logFile);
const bare = { containers: [container('app')] };

beforeAll(async () => {
  env = await startFlowEnvironment(POLICY);
  await Promise.all([
    env.createNamespace(OPTED, OPT_IN),
    env.createNamespace(OPTED_RESTRICTED, { ...OPT_IN, ...ENFORCE_RESTRICTED }),
    env.createNamespace(BYSTANDER),
  ]);
});

afterAll(async () => {
  await env?.teardown();
});

describe('failure policy with the webhook stopped', () => {
  flowTest('the webhook stops cleanly on SIGTERM', async () => {
    expect(await env.kubectlCreatePod(OPTED, 'while-up', bare)).toMatchObject({ code: 0 });
    expect((await env.storedPod(OPTED, 'while-up')).metadata.annotations[INJECTED_ANNOTATION]).toBeDefined();
    expect(await env.webhook().stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  flowTest('failurePolicy Fail: a Pod in an opted-in namespace is refused, naming the webhook and why', async () => {
    const created = await env.kubectlCreatePod(OPTED, 'while-down', bare);
    expect(created.code).not.toBe(0);
    expect(created.stderr).toContain(`failed calling webhook "${MUTATING_WEBHOOK}"`);
    expect(created.stderr).toContain('connection refused');
    expect((await env.plane.kubectl(['get', 'pod', 'while-down', '-n', OPTED])).stderr).toContain('NotFound');
  });

  flowTest('failurePolicy Fail: namespaces that did not opt in are unaffected', async () => {
    expect(await env.kubectlCreatePod(BYSTANDER, 'while-down', bare)).toMatchObject({ code: 0 });
    const pod = await env.storedPod(BYSTANDER, 'while-down');
    expect(pod.metadata.annotations?.[INJECTED_ANNOTATION]).toBeUndefined();
  });

  flowTest('failurePolicy Ignore: the Pod is admitted unhardened; where "restricted" is enforced PodSecurity still refuses it', async () => {
    await env.register('Ignore');
    const { elapsedMs } = await waitFor('the API server to use failurePolicy Ignore', 15_000, async () => (await env.createPod(OPTED, 'probe', bare, { dryRun: true })).ok);
    console.log(`failurePolicy Ignore in effect ${elapsedMs} ms after kubectl apply`);

    expect(await env.kubectlCreatePod(OPTED, 'ignored', bare)).toMatchObject({ code: 0 });
    const pod = await env.storedPod(OPTED, 'ignored');
    expect(pod.metadata.annotations?.[INJECTED_ANNOTATION]).toBeUndefined();
    expect(pod.spec.securityContext ?? {}).toEqual({});
    expect(pod.spec.containers[0].securityContext).toBeUndefined();

    const restricted = await env.kubectlCreatePod(OPTED_RESTRICTED, 'ignored', bare);
    expect(restricted.code).not.toBe(0);
    expect(restricted.stderr).toContain('violates PodSecurity "restricted:latest"');

    expect(await env.kubectlCreatePod(BYSTANDER, 'while-ignored', bare)).toMatchObject({ code: 0 });
  });

  flowTest('once the webhook is back, Pods are hardened again', async () => {
    await env.startWebhook();
    await env.register('Fail');
    expect(await env.kubectlCreatePod(OPTED_RESTRICTED, 'recovered', bare)).toMatchObject({ code: 0 });
    const pod = await env.storedPod(OPTED_RESTRICTED, 'recovered');
    expect(pod.spec.securityContext).toMatchObject({ runAsUser: 100000, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  });
});

describe('a webhook that starts without a valid policy', () => {
  const BROKEN = POLICY.replace('uidRange', 'uidRnage');

  flowTest('while it is down, policy validation fails open (as the chart chooses), so a broken policy can be stored', async () => {
    expect(await env.webhook().stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(await env.applyPolicy(BROKEN)).toMatchObject({ code: 0 });
  });

  flowTest('it reports not ready, refuses Pods in opted-in namespaces with the reason (--fail-closed), and says why on the ConfigMap', async () => {
    const webhook = await env.startWebhook(undefined, { waitReady: false });
    const { value: readiness } = await waitFor('the webhook to answer /readyz', 60_000, async () => webhook.readyz().catch(() => null));
    expect(readiness.status).toBe(503);
    expect(readiness.body).toContain('no valid policy loaded yet');

    const created = await env.kubectlCreatePod(OPTED_RESTRICTED, 'no-policy', bare);
    expect(created.code).not.toBe(0);
    expect(created.stderr).toContain(`admission webhook "${MUTATING_WEBHOOK}" denied the request`);
    expect(created.stderr).toContain('no valid policy has been loaded yet');
    expect(await env.kubectlCreatePod(BYSTANDER, 'no-policy', bare)).toMatchObject({ code: 0 });

    const { value: event } = await waitFor('a PolicyRejected Event', 20_000, async () => {
      const events = await env.kubectlJson(['get', 'events', '-n', SYSTEM_NAMESPACE, '--field-selector', `involvedObject.name=${POLICY_CONFIGMAP},reason=PolicyRejected`]);
      return events.items[0] as { message: string } | undefined;
    });
    expect(event.message).toContain('spec.fallback.uidRnage: unknown field; did you mean "uidRange"?');
    expect(event.message).toContain('no policy is loaded');
  });

  flowTest('fixing the policy with kubectl apply makes it ready and Pods are hardened', async () => {
    expect(await env.applyPolicy(POLICY)).toMatchObject({ code: 0 });
    await env.webhook().waitReady(30_000);
    expect(await env.kubectlCreatePod(OPTED_RESTRICTED, 'fixed', bare)).toMatchObject({ code: 0 });
    expect((await env.storedPod(OPTED_RESTRICTED, 'fixed')).spec.securityContext).toMatchObject({ runAsUser: 100000, runAsNonRoot: true });
  });
});
