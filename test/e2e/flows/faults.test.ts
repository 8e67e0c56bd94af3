// Flow 6 against a real kube-apiserver: what happens to the running webhook process when its
// serving certificate is replaced mid-stream, when the API server it watches restarts under it,
// and when it is told to stop while Pods are being created.
import { afterAll, beforeAll, describe, expect, jest } from '@jest/globals';
import { describeRecords, startCreationStream, type CreationRecord } from './support/creation-stream.js';
import {
  CHART_SERVE_ARGS,
  container,
  flowTestWithLog,
  INJECTED_ANNOTATION,
  OPT_IN,
  startFlowEnvironment,
  waitFor,
  type FlowEnvironment,
  type StoredPod,
} from './support/flow-environment.js';
import { acceptedConnections, logEntries, openUnusedConnection, sleep } from './support/webhook-process.js';
import { MUTATING_WEBHOOK } from './support/webhook-registration.js';

jest.setTimeout(5 * 60 * 1000);

function policyWithFallback(range: string): string {
  return `apiVersion: secure-defaults.io/v1alpha1
kind: SecureDefaultsPolicy
metadata: { name: e2e-faults }
spec:
  fallback:
    uidRange: "${range}"
`;
}

const STREAM = 'stream'; // opted in, no PodSecurity label: an unhardened Pod would be stored, and seen
let env: FlowEnvironment;
const flowTest = flowTestWithLog(() => env.logFile);

function sameSerial(a: string, b: string): boolean {
  const normal = (s: string): string => s.toUpperCase().replace(/^0+/, '');
  return normal(a) === normal(b);
}

async function dryRunPod(namespace: string): Promise<StoredPod> {
  const created = await env.createPod(namespace, 'dry-run', { containers: [container('app')] }, { dryRun: true });
  if (!created.ok) throw new Error(`dry-run Pod in ${namespace} refused: ${created.message}`);
  return created.pod;
}

beforeAll(async () => {
  env = await startFlowEnvironment(policyWithFallback('100000-165535'));
  await env.createNamespace(STREAM, OPT_IN);
});

afterAll(async () => {
  await env?.teardown();
});

describe('faults under the running webhook', () => {
  flowTest('the serving certificate replaced during a stream of creations: no creation fails, new connections are served the new one', async () => {
    const before = await env.webhook().servedSerialNumber();
    const stream = startCreationStream(env, STREAM, 'tls', 4);
    await stream.whenFinished(10);
    const rotatedAt = Date.now();
    const rotated = await env.rotateCertificate();
    expect(sameSerial(rotated.serialNumber, before)).toBe(false);
    const { elapsedMs } = await waitFor('the new certificate to be served', 30_000, async () => sameSerial(await env.webhook().servedSerialNumber(), rotated.serialNumber), 100);
    // Connections open now may still carry the old certificate; the API server keeps them alive.
    const oldConnections = acceptedConnections(env.port);
    // More concurrent creations than it has connections may make the API server dial new ones
    // (reported, not asserted: its pool decides); the restart below proves it takes the new one.
    const burst = startCreationStream(env, STREAM, 'tls-burst', 12);
    await burst.whenFinished(24);
    const newConnections = [...acceptedConnections(env.port)].filter((inode) => !oldConnections.has(inode));
    const records = [...(await stream.stop()), ...(await burst.stop())];
    console.log(
      `certificate swap served after ${elapsedMs} ms; ${records.length} creations, ${records.filter((r) => r.startedAt >= rotatedAt).length} after the swap, ` +
        `over ${newConnections.length} connections the API server opened after it`,
    );

    const broken = records.filter((r) => !r.ok || !r.hardened);
    expect(describeRecords(broken, rotatedAt)).toBe('');
    expect(logEntries(env.logFile).filter((e) => e['message'] === 'TLS certificate reloaded')).toHaveLength(1);
  });

  flowTest('kube-apiserver restarted under the running webhook: its watches come back, a later policy edit and opt-in label apply, and its new connections accept the swapped certificate', async () => {
    const pid = env.webhook().pid;
    const connectionsBefore = acceptedConnections(env.port);
    await env.createNamespace('late-label');
    const restartedAt = Date.now();
    await env.plane.restartApiServer();
    console.log(`kube-apiserver restarted in ${Date.now() - restartedAt} ms`);

    const editedAt = Date.now();
    expect(await env.applyPolicy(policyWithFallback('300000-309999'))).toMatchObject({ code: 0 });
    const policy = await waitFor('the edited policy to be in force', 90_000, async () => (await dryRunPod(STREAM)).spec?.securityContext?.runAsUser === 300000);
    console.log(`policy edit after the API server restart in force ${((Date.now() - editedAt) / 1000).toFixed(2)} s after kubectl apply (${policy.elapsedMs} ms of polling)`);

    expect(await env.plane.kubectl(['label', 'namespace', 'late-label', 'secure-defaults.io/inject=enabled'])).toMatchObject({ code: 0 });
    // The webhook knew late-label (unlabelled) before the restart: only a working namespace watch
    // tells it about the label.
    const label = await waitFor('the opt-in label to be seen', 90_000, async () => (await dryRunPod('late-label')).metadata?.annotations?.[INJECTED_ANNOTATION] !== undefined);
    console.log(`opt-in label after the API server restart seen in ${label.elapsedMs} ms`);

    expect(await env.kubectlCreatePod('late-label', 'after-restart', { containers: [container('app')] })).toMatchObject({ code: 0 });
    expect((await env.storedPod('late-label', 'after-restart')).spec.securityContext).toMatchObject({ runAsUser: 300000, runAsNonRoot: true });
    expect(env.webhook().pid).toBe(pid);
    expect(env.webhook().hasExited()).toBe(false);
    // The restarted API server reached the webhook over new connections only, which were served
    // the certificate swapped in by the test above: the API server accepts it.
    expect([...acceptedConnections(env.port)].filter((inode) => !connectionsBefore.has(inode)).length).toBeGreaterThan(0);
    expect(sameSerial(await env.webhook().servedSerialNumber(), env.certificate().serialNumber)).toBe(true);
    // The watches really were cut and re-established (not merely never noticed).
    const policyCacheNews = logEntries(env.logFile).filter((e) => typeof e['cache'] === 'string' && (e['cache'] as string).startsWith('configmap') && Date.parse(String(e['timestamp'])) >= restartedAt);
    expect(policyCacheNews.length).toBeGreaterThan(0);
  });

  // Node counts a connection that has not sent a request yet as active and server.close() stops
  // the timer that would expire it; the API server leaves such spare connections routinely.
  flowTest('SIGTERM with nothing in flight closes every connection, even one that never sent a request, without waiting out the drain timeout', async () => {
    await env.webhook().stop('SIGTERM');
    await env.startWebhook(['--fail-closed', '--shutdown-delay', '0', '--drain-timeout', '8']);
    await env.register('Fail');
    const unused = await openUnusedConnection(env.port, env.plane.caPem);
    try {
      const sigtermAt = Date.now();
      const exit = await env.webhook().stop('SIGTERM');
      console.log(`idle webhook exited ${Date.now() - sigtermAt} ms after SIGTERM`);
      expect(exit).toEqual({ code: 0, signal: null });
      const shutdownLines = logEntries(env.logFile).filter((e) => Date.parse(String(e['timestamp'])) >= sigtermAt - 1_000);
      expect(shutdownLines.map((e) => e['message'])).not.toContain('drain timeout reached; closing the remaining connections');
    } finally {
      unused.destroy();
    }
    await env.startWebhook();
    await env.register('Fail');
  });

  flowTest('SIGTERM during a stream of creations (2 s shutdown delay): every creation in flight is answered and hardened, the process exits 0, later ones follow failurePolicy', async () => {
    // A 2 s shutdown delay stands in for the chart's preStop sleep: in a cluster that is the time
    // endpoints take to stop routing to a terminating replica; here it covers every request
    // already sent to the API server when the signal lands.
    const run = await sigtermDuringStream('term', ['--fail-closed', '--shutdown-delay', '2', '--drain-timeout', '20']);
    expect(run.inFlight.length).toBeGreaterThan(0);
    expect(describeRecords(run.startedBefore.filter((r) => !r.ok || !r.hardened), run.sigtermAt)).toBe('');
    expect(run.decidedAfterSignal).toBeGreaterThan(0);
  });

  flowTest('SIGTERM during a stream of creations with the chart\'s own flags (no delay): nothing the webhook took on is lost, nothing slips through unhardened', async () => {
    // Without a delay the listener closes at once, so a creation already sent to the API server
    // but not yet to the webhook is refused (failurePolicy Fail); in a cluster the preStop sleep
    // and the second replica cover that. What the webhook itself received must all be answered.
    const run = await sigtermDuringStream('term-nodelay', CHART_SERVE_ARGS);
    const refusedBefore = run.startedBefore.filter((r) => !r.ok).length;
    console.log(`without a shutdown delay, ${refusedBefore} of ${run.startedBefore.length} creations sent before SIGTERM were refused by failurePolicy`);
  });
});

interface SigtermRun {
  readonly sigtermAt: number;
  readonly inFlight: readonly CreationRecord[];
  readonly startedBefore: readonly CreationRecord[];
  readonly decidedAfterSignal: number;
}

/**
 * Restarts the webhook with these flags, streams creations, sends SIGTERM mid-stream and checks
 * what must hold whatever the flags: exit 0; nothing admitted unhardened; every creation after
 * the exit refused by failurePolicy; what was stored matches what clients were told; every Pod
 * the webhook decided to admit was stored (no answer lost on the way out).
 */
async function sigtermDuringStream(prefix: string, serveArgs: readonly string[]): Promise<SigtermRun> {
  await env.webhook().stop('SIGTERM');
  await env.startWebhook(serveArgs);
  await env.register('Fail');

  const stream = startCreationStream(env, STREAM, prefix, 3);
  await stream.whenFinished(15);
  const sigtermAt = Date.now();
  const exit = await env.webhook().stop('SIGTERM');
  const exitedAt = Date.now();
  await sleep(500);
  const records = await stream.stop();

  const inFlight = records.filter((r) => r.startedAt <= sigtermAt && r.endedAt > sigtermAt);
  const startedBefore = records.filter((r) => r.startedAt <= sigtermAt);
  const afterExit = records.filter((r) => r.startedAt > exitedAt);
  console.log(
    `${serveArgs.join(' ')}: SIGTERM with ${inFlight.length} creations in flight; exit ${JSON.stringify(exit)} after ${exitedAt - sigtermAt} ms; ` +
      `${records.length} creations: ${records.filter((r) => r.ok).length} admitted, ${afterExit.length} after the exit`,
  );
  expect(exit).toEqual({ code: 0, signal: null });
  expect(describeRecords(records.filter((r) => r.ok && !r.hardened), sigtermAt)).toBe('');
  expect(describeRecords(records.filter((r) => !r.ok && !r.message.includes(`failed calling webhook "${MUTATING_WEBHOOK}"`)), sigtermAt)).toBe('');
  expect(afterExit.length).toBeGreaterThan(0);
  expect(describeRecords(afterExit.filter((r) => r.ok), sigtermAt)).toBe('');

  const stored = (await env.kubectlJson(['get', 'pods', '-n', STREAM])).items as StoredPod[];
  const storedHere = stored.filter((pod) => (pod.metadata.name as string).startsWith(`${prefix}-`) && /^\d+$/.test((pod.metadata.name as string).slice(prefix.length + 1)));
  expect(storedHere.map((pod) => pod.metadata.name).sort()).toEqual(records.filter((r) => r.ok).map((r) => r.name).sort());
  expect(storedHere.filter((pod) => pod.metadata.annotations?.[INJECTED_ANNOTATION] === undefined)).toEqual([]);

  const entries = logEntries(env.logFile);
  const signalIndex = entries.findIndex((e) => String(e['message']).startsWith('signal received; shutting down') && Date.parse(String(e['timestamp'])) >= sigtermAt - 1_000);
  expect(signalIndex).toBeGreaterThan(-1);
  const isMine = (e: Record<string, unknown>): boolean => e['message'] === 'admission decision' && e['allowed'] === true && new RegExp(`^${prefix}-\\d+$`).test(String(e['name']));
  const decided = entries.filter(isMine).map((e) => String(e['name']));
  const storedNames = new Set(storedHere.map((pod) => pod.metadata.name as string));
  expect(decided.filter((name) => !storedNames.has(name))).toEqual([]);
  const decidedAfterSignal = entries.slice(signalIndex).filter(isMine).length;
  console.log(`the webhook answered ${decidedAfterSignal} admissions after SIGTERM`);
  return { sigtermAt, inFlight, startedBefore, decidedAfterSignal };
}
