// The pure parts of `npm run bench:apiserver`: its numbers, its configuration, the trivial
// webhook's answer and the check of what each admission setup did to a created Pod.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import jsonPatch from 'fast-json-patch';
import { createdPodProblems, mutatingAdmissionPolicy, namespaceLabels, SETUP_LABEL, webhookConfiguration, type SetupName } from '../../bench/apiserver/admission-setups.js';
import { readApiServerBenchConfig } from '../../bench/apiserver/apiserver-bench-config.js';
import { admissionTimes, parsePrometheusText, sumOf } from '../../bench/apiserver/apiserver-metrics.js';
import { clientPortsOf } from '../../bench/apiserver/connection-sampler.js';
import { percentile, ratioOf, runFigures, withinTarget } from '../../bench/apiserver/create-summary.js';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { checkLoopbackTarget, runInterleavedCreates } from '../../bench/apiserver/pod-create-load.js';
import { createLoopbackCertificate } from '../../bench/self-signed-certificate.js';
import { answerSuffix, fixedPatchReply, readRecordedAnswer } from '../../bench/servers/fixed-patch-reply.js';

type Json = Record<string, unknown>;

describe('percentile (nearest rank)', () => {
  test.each([
    ['one value', [5], 50, 5],
    ['one value', [5], 99, 5],
    ['1..4', [1, 2, 3, 4], 50, 2],
    ['4..1, unsorted', [4, 3, 2, 1], 99, 4],
    ['1..100', Array.from({ length: 100 }, (_, i) => i + 1), 99, 99],
    ['1000..1, unsorted', Array.from({ length: 1000 }, (_, i) => 1000 - i), 99, 990],
  ])('%s at p%d is %d', (_name, values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });

  test('of nothing is NaN, and p outside (0, 100] is refused', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 0)).toThrow('(0, 100]');
    expect(() => percentile([1], 101)).toThrow('(0, 100]');
  });

  test('is always one of the values, and p50 ≤ p99', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 }), (values) => {
        const p50 = percentile(values, 50);
        const p99 = percentile(values, 99);
        return values.includes(p50) && values.includes(p99) && p50 <= p99;
      }),
    );
  });
});

describe('run figures and ratios', () => {
  test('creates/s counts successes over the elapsed time; latencies go from µs to ms', () => {
    const figures = runFigures([1000, 2000, 3000, 4000], 1, 2000);
    expect(figures).toEqual({ createsPerSecond: 2, p50Ms: 2, p99Ms: 4, created: 4, failed: 1 });
  });

  test('the 5% target holds on throughput and p99 alike', () => {
    const trivial = runFigures([10_000, 20_000], 0, 1000);
    expect(withinTarget(ratioOf(runFigures([10_000, 20_000], 0, 1040), trivial))).toBe(true);
    expect(withinTarget(ratioOf(runFigures([10_000, 20_000], 0, 1100), trivial))).toBe(false);
    expect(withinTarget(ratioOf(runFigures([10_000, 22_000], 0, 1000), trivial))).toBe(false);
    expect(ratioOf(runFigures([10_000, 22_000], 0, 1000), trivial).p99).toBeCloseTo(1.1);
  });
});

describe('configuration', () => {
  test('defaults: every setup, 1/8/32 clients, bounded runs', () => {
    const result = readApiServerBenchConfig({});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config).toMatchObject({ setups: ['none', 'trivial', 'secure-defaults', 'policy'], concurrency: [1, 8, 32], dryRun: false, pinCpus: false, logLevel: 'info' });
    expect(result.config.durationSeconds).toBeLessThanOrEqual(300);
    expect(result.config.maxCreates).toBeLessThanOrEqual(50_000);
  });

  test('interleaving and the API server profile are off unless asked for; a profile needs whole seconds', () => {
    const defaults = readApiServerBenchConfig({});
    expect(defaults.ok && [defaults.config.interleave, defaults.config.profileDir]).toEqual([false, null]);
    const asked = readApiServerBenchConfig({ BENCH_APISERVER_INTERLEAVE: '1', BENCH_APISERVER_PROFILE: 'profiles' });
    expect(asked.ok && [asked.config.interleave, asked.config.profileDir]).toEqual([true, 'profiles']);
    const tooShort = readApiServerBenchConfig({ BENCH_APISERVER_PROFILE: 'profiles', BENCH_APISERVER_DURATION: '0.5' });
    expect(tooShort.ok ? [] : tooShort.errors).toEqual([expect.stringContaining('BENCH_APISERVER_PROFILE: the API server profiles whole seconds')]);
  });

  test('replay without secure-defaults is refused: there would be no answer to replay', () => {
    const result = readApiServerBenchConfig({ BENCH_APISERVER_SETUPS: 'trivial,replay' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toContain('replay repeats the answer of secure-defaults');
    expect(readApiServerBenchConfig({ BENCH_APISERVER_SETUPS: 'trivial,secure-defaults,replay' }).ok).toBe(true);
  });

  test('every bad value is reported at once, with its variable and an example', () => {
    const result = readApiServerBenchConfig({
      BENCH_APISERVER_SETUPS: 'none,kyverno',
      BENCH_APISERVER_CONCURRENCY: '1,1000',
      BENCH_APISERVER_DURATION: '3600',
      BENCH_APISERVER_MAX_CREATES: '-3',
      BENCH_LOG_LEVEL: 'loud',
      BENCH_APISERVER_PIN: 'yes',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.errors.join('\n');
    for (const fragment of ['BENCH_APISERVER_SETUPS: unknown "kyverno"', 'BENCH_APISERVER_CONCURRENCY: at most 256', 'BENCH_APISERVER_DURATION: 3600 s', 'BENCH_APISERVER_MAX_CREATES: "-3"', 'BENCH_LOG_LEVEL: "loud"', 'BENCH_APISERVER_PIN: "yes" is not a switch']) {
      expect(text).toContain(fragment);
    }
  });
});

describe("the API server's metrics", () => {
  const scrape = (stepSum: number, stepCount: number, callSum: number, calls: number): Map<string, number> =>
    parsePrometheusText(
      [
        '# HELP apiserver_admission_step_admission_duration_seconds [STABLE] Admission sub-step latency',
        `apiserver_admission_step_admission_duration_seconds_sum{operation="CREATE",rejected="false",type="admit"} ${stepSum}`,
        `apiserver_admission_step_admission_duration_seconds_count{operation="CREATE",rejected="false",type="admit"} ${stepCount}`,
        'apiserver_admission_step_admission_duration_seconds_sum{operation="CREATE",rejected="false",type="validate"} 99',
        `apiserver_admission_webhook_admission_duration_seconds_sum{name="pods.ours",operation="CREATE",rejected="false",type="admit"} ${callSum}`,
        `apiserver_admission_webhook_admission_duration_seconds_count{name="pods.ours",operation="CREATE",rejected="false",type="admit"} ${calls}`,
        'apiserver_admission_webhook_admission_duration_seconds_count{name="pods.other",operation="CREATE",rejected="false",type="admit"} 1000',
        'a line without a value',
      ].join('\n'),
    );

  test('samples are summed over the series whose labels match', () => {
    const samples = scrape(1, 10, 0.5, 10);
    expect(sumOf(samples, 'apiserver_admission_step_admission_duration_seconds_sum', { operation: 'CREATE' })).toBe(100);
    expect(sumOf(samples, 'apiserver_admission_step_admission_duration_seconds_sum', { type: 'admit' })).toBe(1);
    expect(sumOf(samples, 'apiserver_admission_webhook_admission_duration_seconds_count', { name: 'pods.other' })).toBe(1000);
    expect(sumOf(samples, 'no_such_metric')).toBe(0);
  });

  test("a run's share is the difference of two scrapes, per create and per call", () => {
    const times = admissionTimes(scrape(1, 10, 0.5, 10), scrape(3, 110, 1.5, 210), 100, 'pods.ours');
    expect(times.mutatingStepMs).toBeCloseTo(20);
    expect(times.webhookCallMs).toBeCloseTo(5);
    expect(times.webhookCallsPerCreate).toBe(2);
    expect(admissionTimes(scrape(1, 10, 0.5, 10), scrape(3, 110, 1.5, 210), 100, undefined).webhookCallMs).toBeNaN();
  });
});

describe('connections to a webhook, from /proc/net/tcp', () => {
  const table = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:20FB 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 1 1 0 20 4 30 10 -1',
    '   1: 0100007F:20FB 0100007F:C351 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1',
    '   2: 0100007F:20FB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0 20 4 30 10 -1',
    '   3: 0100007F:C350 0100007F:20FB 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0 20 4 30 10 -1',
  ].join('\n');
  test('counts established connections whose server side is the port, by client port', () => {
    expect(clientPortsOf(table, 0x20fb)).toEqual([0xc350, 0xc351]);
    expect(clientPortsOf(table, 9443)).toEqual([]);
  });
});

describe('load target', () => {
  test.each(['https://localhost:6443/api', 'https://10.0.0.1/api', 'http://127.0.0.1:6443/api', 'https://127.0.0.2/api'])('%s is refused', (url) => {
    expect(() => checkLoopbackTarget(new URL(url))).toThrow('only https://127.0.0.1 is allowed');
  });
  test('https://127.0.0.1 is allowed', () => {
    expect(() => checkLoopbackTarget(new URL('https://127.0.0.1:6443/api/v1/namespaces/x/pods'))).not.toThrow();
  });
});

describe('interleaved one-client creates', () => {
  test('take the setups in turn, reversed every other pass, one request at a time; each tallied on its own', async () => {
    const certificate = await createLoopbackCertificate();
    const seen: string[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    const server = createServer({ cert: certificate.certPem, key: certificate.keyPem }, (req, res) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      seen.push(req.url ?? '');
      req.resume();
      req.on('end', () => {
        // The third namespace refuses its second create: a failure counts against it alone.
        const refused = req.url === '/c' && seen.filter((url) => url === '/c').length === 2;
        setTimeout(() => {
          inFlight -= 1;
          res.writeHead(refused ? 409 : 201).end(refused ? 'conflict' : '{}');
        }, req.url === '/b' ? 100 : 1);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const urls = ['/a', '/b', '/c'].map((path) => new URL(`https://127.0.0.1:${port}${path}`));
      const credentials = { caPem: certificate.certPem, certPem: certificate.certPem, keyPem: certificate.keyPem };
      const results = await runInterleavedCreates({ urls, body: Buffer.from('{}'), credentials, maxRequestsPerUrl: 3, maxDurationMs: 30_000, requestTimeoutMs: 5_000 });
      expect(seen).toEqual(['/a', '/b', '/c', '/c', '/b', '/a', '/a', '/b', '/c']);
      expect(mostInFlight).toBe(1);
      expect(results.map((result) => [result.created, result.failed])).toEqual([[3, 0], [3, 0], [2, 1]]);
      expect(results[2]!.firstFailure).toContain('HTTP 409');
      // Each setup's time is its own requests': the slow one is slower, whatever came around it.
      expect(results[1]!.elapsedMs).toBeGreaterThanOrEqual(295);
      expect(results[1]!.elapsedMs).toBeGreaterThan(results[0]!.elapsedMs);
      expect(results[0]!.connectionsOpened).toBe(1);
    } finally {
      server.close();
    }
  });
});

describe('the trivial webhook', () => {
  test('echoes the uid and answers one patch that applies to a defaulted Pod', () => {
    const review = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'a"b', object: {} } };
    const answer = JSON.parse(fixedPatchReply(Buffer.from(JSON.stringify(review)))) as { response: { uid: string; allowed: boolean; patchType: string; patch: string } };
    expect(answer.response).toMatchObject({ uid: 'a"b', allowed: true, patchType: 'JSONPatch' });
    const patch = JSON.parse(Buffer.from(answer.response.patch, 'base64').toString('utf8')) as jsonPatch.Operation[];
    const pod = { spec: { securityContext: {}, containers: [{ name: 'app' }] } };
    expect(jsonPatch.applyPatch(pod, patch, true, false).newDocument).toEqual({ spec: { securityContext: { runAsNonRoot: true }, containers: [{ name: 'app' }] } });
  });

  test('refuses a body that is not JSON', () => {
    expect(() => fixedPatchReply(Buffer.from('{"request":'))).toThrow();
  });

  test('replays a recorded answer verbatim: its patch and audit annotations', () => {
    const recorded = readRecordedAnswer(JSON.stringify({ patch: 'W10=', auditAnnotations: { policy: 'cluster-defaults@1' } }));
    const answer = JSON.parse(fixedPatchReply(Buffer.from('{"request":{"uid":"u1"}}'), answerSuffix(recorded))) as { response: Json };
    expect(answer.response).toEqual({ uid: 'u1', allowed: true, patchType: 'JSONPatch', patch: 'W10=', auditAnnotations: { policy: 'cluster-defaults@1' } });
  });

  test.each([
    ['{}', '"patch" must be the base64 JSONPatch'],
    ['{"patch":""}', '"patch" must be the base64 JSONPatch'],
    ['{"patch":"W10=","auditAnnotations":{"a":1}}', '"auditAnnotations" must map names to strings'],
  ])('a reply file %s is refused: %s', (text, message) => {
    expect(() => readRecordedAnswer(text)).toThrow(message);
  });
});

describe('admission setups', () => {
  const container = (securityContext?: Json): Json => ({ name: 'app', ...(securityContext ? { securityContext } : {}) });
  const pod = (podContext: Json, containers: Json[], annotations: Json = {}): Json => ({ metadata: { annotations }, spec: { securityContext: podContext, containers } });
  const hardenedContainer = container({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  const hardenedContext = { runAsNonRoot: true, runAsUser: 100000, seccompProfile: { type: 'RuntimeDefault' } };
  const fixtures: Record<string, Json> = {
    untouched: pod({}, [container(), container()]),
    trivial: pod({ runAsNonRoot: true }, [container(), container()]),
    ours: pod({ ...hardenedContext, runAsUser: 100007 }, [hardenedContainer, hardenedContainer], { 'secure-defaults.io/injected': 'runAsNonRoot,…' }),
    policy: pod(hardenedContext, [hardenedContainer, hardenedContainer]),
    'policy, one container left out': pod(hardenedContext, [hardenedContainer, container({ allowPrivilegeEscalation: false })]),
    'ours without its annotation': pod(hardenedContext, [hardenedContainer]),
  };
  const accepts: Record<string, SetupName | undefined> = {
    untouched: 'none',
    trivial: 'trivial',
    ours: 'secure-defaults',
    policy: 'policy',
    'policy, one container left out': undefined,
    'ours without its annotation': 'policy',
  };
  test.each(Object.keys(fixtures))('%s passes only its own setup\'s check', (name) => {
    for (const setup of ['none', 'trivial', 'secure-defaults', 'policy'] as const) {
      const problems = createdPodProblems(setup, fixtures[name]!);
      if (accepts[name] === setup) expect(problems).toEqual([]);
      else expect(problems.length).toBeGreaterThan(0);
    }
  });

  test('a problem names the setup, the field path and what was expected', () => {
    expect(createdPodProblems('policy', fixtures['policy, one container left out']!)).toEqual([
      'policy (namespace bench-policy): spec.containers[1].securityContext.capabilities.drop is undefined, expected ["ALL"]',
    ]);
  });

  test('each webhook and the policy binding select their own namespace only', () => {
    for (const setup of ['trivial', 'secure-defaults'] as const) {
      const config = webhookConfiguration(setup, 'https://127.0.0.1:1/mutate', 'ca') as { webhooks: { namespaceSelector: unknown; clientConfig: { url: string } }[] };
      expect(config.webhooks[0]!.namespaceSelector).toEqual({ matchLabels: { [SETUP_LABEL]: setup } });
      expect(namespaceLabels(setup)[SETUP_LABEL]).toBe(setup);
    }
    const binding = mutatingAdmissionPolicy('admissionregistration.k8s.io/v1')[1] as { spec: { matchResources: unknown } };
    expect(binding.spec.matchResources).toEqual({ namespaceSelector: { matchLabels: { [SETUP_LABEL]: 'policy' } } });
    expect(namespaceLabels('none')).toEqual({ [SETUP_LABEL]: 'none' });
  });
});
