// The labels a controller adds to the Pods it creates, and an objectSelector decided on them:
// workload in, sent / not sent / cannot tell out. A value the audit can know (a name, a uid,
// status.updateRevision, the template generation) decides In/NotIn; a hash it would have to
// recompute decides only Exists/DoesNotExist, and In/NotIn on it is "cannot tell", never a guess.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { controllerAddedLabels, type ControllerLabel } from '../../src/audit/controller-labels.js';
import { podToCreate } from '../../src/audit/controller-pods.js';
import { objectScopeOf, podLabels } from '../../src/audit/object-selector.js';
import type { JsonObject } from '../../src/foundation/json-object.js';
import { selectorMatches, type OracleSelector } from './label-selector-oracle.js';

const API: Record<string, string> = { Deployment: 'apps/v1', StatefulSet: 'apps/v1', DaemonSet: 'apps/v1', ReplicaSet: 'apps/v1', ReplicationController: 'v1', Job: 'batch/v1', CronJob: 'batch/v1', Pod: 'v1' };
const spec = { containers: [{ name: 'app', image: 'nginx' }] };
const template = { metadata: { labels: { app: 'web' } }, spec };

function object(kind: string, extra: { metadata?: JsonObject; spec?: JsonObject; status?: JsonObject } = {}): JsonObject {
  const metadata = { name: 'web', namespace: 'team-a', uid: 'uid-web', ...extra.metadata };
  if (kind === 'Pod') return { apiVersion: 'v1', kind, metadata: { ...metadata, labels: { app: 'web' } }, spec };
  if (kind === 'CronJob') return { apiVersion: API[kind], kind, metadata, spec: { schedule: '@daily', jobTemplate: { spec: { template, ...extra.spec } } } };
  return { apiVersion: API[kind], kind, metadata, spec: { template, ...extra.spec }, ...(extra.status ? { status: extra.status } : {}) };
}

type Outcome = 'sent' | 'not sent' | `cannot tell: ${string}`;

function decide(workload: JsonObject, selector: unknown): Outcome {
  const result = objectScopeOf(selector, 'objectSelector', 'test');
  if (!result.ok || result.scope === null) throw new Error('a selector with requirements expected');
  const kind = String(workload['kind']);
  const pod = podToCreate(String(workload['apiVersion']), kind, workload, 'team-a')!;
  const decision = result.scope.decide(podLabels(pod), controllerAddedLabels(kind, workload));
  return decision.sent === true ? 'sent' : decision.sent === false ? 'not sent' : `cannot tell: ${decision.key}`;
}

const exists = (key: string) => ({ matchExpressions: [{ key, operator: 'Exists' }] });
const absent = (key: string) => ({ matchExpressions: [{ key, operator: 'DoesNotExist' }] });
const isIn = (key: string, ...values: string[]) => ({ matchExpressions: [{ key, operator: 'In', values }] });
const notIn = (key: string, ...values: string[]) => ({ matchExpressions: [{ key, operator: 'NotIn', values }] });

const CASES: readonly { name: string; workload: JsonObject; selector: unknown; outcome: Outcome }[] = [
  // Deployment: pod-template-hash, a hash.
  { name: 'Deployment: pod-template-hash Exists', workload: object('Deployment'), selector: exists('pod-template-hash'), outcome: 'sent' },
  { name: 'Deployment: pod-template-hash DoesNotExist', workload: object('Deployment'), selector: absent('pod-template-hash'), outcome: 'not sent' },
  { name: 'Deployment: pod-template-hash In (…): cannot tell', workload: object('Deployment'), selector: isIn('pod-template-hash', '5d9f7c'), outcome: 'cannot tell: pod-template-hash' },
  { name: 'Deployment: pod-template-hash NotIn (…): cannot tell', workload: object('Deployment'), selector: notIn('pod-template-hash', '5d9f7c'), outcome: 'cannot tell: pod-template-hash' },
  { name: 'Deployment: matchLabels on the hash: cannot tell', workload: object('Deployment'), selector: { matchLabels: { 'pod-template-hash': 'x' } }, outcome: 'cannot tell: pod-template-hash' },
  { name: 'Deployment: another requirement fails: not sent, whatever the hash', workload: object('Deployment'), selector: { matchLabels: { app: 'db' }, matchExpressions: [{ key: 'pod-template-hash', operator: 'In', values: ['x'] }] }, outcome: 'not sent' },
  { name: 'Deployment: a template pod-template-hash is overwritten by the controller\'s', workload: object('Deployment', { spec: { template: { metadata: { labels: { app: 'web', 'pod-template-hash': 'x' } }, spec } } }), selector: isIn('pod-template-hash', 'x'), outcome: 'cannot tell: pod-template-hash' },
  // ReplicaSet (standalone or a Deployment's): its template holds the hash, nothing is added.
  { name: 'ReplicaSet: the hash in its own template decides In', workload: object('ReplicaSet', { spec: { template: { metadata: { labels: { app: 'web', 'pod-template-hash': '5d9f7c' } }, spec } } }), selector: isIn('pod-template-hash', '5d9f7c'), outcome: 'sent' },
  { name: 'ReplicaSet: no hash in its template, none added', workload: object('ReplicaSet'), selector: exists('pod-template-hash'), outcome: 'not sent' },
  { name: 'ReplicationController: nothing added', workload: object('ReplicationController'), selector: exists('controller-revision-hash'), outcome: 'not sent' },
  // StatefulSet: revision from status, pod name and index from name, replicas and ordinals.start.
  { name: 'StatefulSet: pod-name of its only replica', workload: object('StatefulSet', { spec: { replicas: 1 } }), selector: isIn('statefulset.kubernetes.io/pod-name', 'web-0'), outcome: 'sent' },
  { name: 'StatefulSet: 0 replicas stands for the first Pod it would create', workload: object('StatefulSet', { spec: { replicas: 0 } }), selector: isIn('statefulset.kubernetes.io/pod-name', 'web-0'), outcome: 'sent' },
  { name: 'StatefulSet: pod-name of one of three: cannot tell', workload: object('StatefulSet', { spec: { replicas: 3 } }), selector: isIn('statefulset.kubernetes.io/pod-name', 'web-0'), outcome: 'cannot tell: statefulset.kubernetes.io/pod-name' },
  { name: 'StatefulSet: pod-name of all three', workload: object('StatefulSet', { spec: { replicas: 3 } }), selector: isIn('statefulset.kubernetes.io/pod-name', 'web-2', 'web-0', 'web-1', 'web-9'), outcome: 'sent' },
  { name: 'StatefulSet: pod-name NotIn names of another set', workload: object('StatefulSet', { spec: { replicas: 3 } }), selector: notIn('statefulset.kubernetes.io/pod-name', 'db-0', 'web-3', 'web-01'), outcome: 'sent' },
  { name: 'StatefulSet: ordinals.start shifts the names', workload: object('StatefulSet', { spec: { replicas: 1, ordinals: { start: 5 } } }), selector: notIn('statefulset.kubernetes.io/pod-name', 'web-5'), outcome: 'not sent' },
  { name: 'StatefulSet: pod-index', workload: object('StatefulSet', { spec: { replicas: 2 } }), selector: isIn('apps.kubernetes.io/pod-index', '0', '1'), outcome: 'sent' },
  { name: 'StatefulSet: a huge replica count is decided without listing names', workload: object('StatefulSet', { spec: { replicas: 2_000_000_000 } }), selector: notIn('apps.kubernetes.io/pod-index', '01', 'x', '2000000000'), outcome: 'sent' },
  { name: 'StatefulSet: a huge replica count, one index listed: cannot tell', workload: object('StatefulSet', { spec: { replicas: 2_000_000_000 } }), selector: notIn('apps.kubernetes.io/pod-index', '1999999999'), outcome: 'cannot tell: apps.kubernetes.io/pod-index' },
  { name: 'StatefulSet: revision known from status.updateRevision', workload: object('StatefulSet', { status: { updateRevision: 'web-7c9', currentRevision: 'web-7c9' } }), selector: isIn('controller-revision-hash', 'web-7c9'), outcome: 'sent' },
  { name: 'StatefulSet: mid-rollout, two revisions: cannot tell', workload: object('StatefulSet', { status: { updateRevision: 'web-7c9', currentRevision: 'web-6b8' } }), selector: isIn('controller-revision-hash', 'web-7c9'), outcome: 'cannot tell: controller-revision-hash' },
  { name: 'StatefulSet: no status yet: revision unknown', workload: object('StatefulSet'), selector: notIn('controller-revision-hash', 'web-7c9'), outcome: 'cannot tell: controller-revision-hash' },
  { name: 'StatefulSet: revision Exists without status', workload: object('StatefulSet'), selector: exists('controller-revision-hash'), outcome: 'sent' },
  // DaemonSet: a hash, and the template generation from its annotation.
  { name: 'DaemonSet: controller-revision-hash In: cannot tell', workload: object('DaemonSet'), selector: isIn('controller-revision-hash', 'abc'), outcome: 'cannot tell: controller-revision-hash' },
  { name: 'DaemonSet: pod-template-generation from the annotation', workload: object('DaemonSet', { metadata: { annotations: { 'deprecated.daemonset.template.generation': '3' } } }), selector: isIn('pod-template-generation', '3'), outcome: 'sent' },
  { name: 'DaemonSet: pod-template-generation other value', workload: object('DaemonSet', { metadata: { annotations: { 'deprecated.daemonset.template.generation': '3' } } }), selector: isIn('pod-template-generation', '2'), outcome: 'not sent' },
  // Job: names and uid the audit knows; completion index for Indexed Jobs.
  { name: 'Job: job-name is its name', workload: object('Job'), selector: isIn('batch.kubernetes.io/job-name', 'web'), outcome: 'sent' },
  { name: 'Job: legacy controller-uid is its uid', workload: object('Job'), selector: notIn('controller-uid', 'uid-web'), outcome: 'not sent' },
  { name: 'Job: manualSelector: none of them', workload: object('Job', { spec: { manualSelector: true } }), selector: exists('job-name'), outcome: 'not sent' },
  { name: 'Job: Indexed, every index listed', workload: object('Job', { spec: { completionMode: 'Indexed', completions: 2 } }), selector: isIn('batch.kubernetes.io/job-completion-index', '0', '1'), outcome: 'sent' },
  { name: 'Job: Indexed, some indexes: cannot tell', workload: object('Job', { spec: { completionMode: 'Indexed', completions: 3 } }), selector: isIn('batch.kubernetes.io/job-completion-index', '0'), outcome: 'cannot tell: batch.kubernetes.io/job-completion-index' },
  { name: 'Job: NonIndexed has no index', workload: object('Job'), selector: exists('batch.kubernetes.io/job-completion-index'), outcome: 'not sent' },
  // CronJob: its Jobs' names and uids are not known yet.
  { name: 'CronJob: job-name Exists', workload: object('CronJob'), selector: exists('batch.kubernetes.io/job-name'), outcome: 'sent' },
  { name: 'CronJob: job-name In: cannot tell', workload: object('CronJob'), selector: isIn('job-name', 'web-29000000'), outcome: 'cannot tell: job-name' },
  // A Pod: its own labels only.
  { name: 'Pod: nothing added', workload: object('Pod'), selector: exists('pod-template-hash'), outcome: 'not sent' },
];

describe('controller-added labels decide the objectSelector as the API server would', () => {
  test.each(CASES)('$name', ({ workload, selector, outcome }) => {
    expect(decide(workload, selector)).toBe(outcome);
  });

  test('the "cannot tell" reason names the selector, the label and why its value is unknown', () => {
    const result = objectScopeOf(isIn('controller-revision-hash', 'a'), 'webhooks[0].objectSelector', 'MutatingWebhookConfiguration sd');
    if (!result.ok || result.scope === null) throw new Error('scope expected');
    const decision = result.scope.decide({}, controllerAddedLabels('StatefulSet', object('StatefulSet', { spec: { replicas: 3 }, status: { updateRevision: 'a', currentRevision: 'b' } })));
    expect(decision.sent === 'cannot-tell' && result.scope.cannotTell(decision.why)).toBe(
      'cannot tell whether the API server sends it to the webhook: objectSelector "controller-revision-hash in (a)" (MutatingWebhookConfiguration sd) depends on a label\'s value: its controller sets controller-revision-hash to one of 2 values ("a", …), and the selector lists only some of them',
    );
  });

  test('property: when the audit decides, every value the controller may give its labels agrees (independent LabelSelector evaluation)', () => {
    const key = fc.constantFrom('app', 'pod-template-hash', 'statefulset.kubernetes.io/pod-name', 'controller-revision-hash', 'apps.kubernetes.io/pod-index');
    const value = fc.constantFrom('web', 'web-0', 'web-1', 'web-2', '0', '1', 'r1', 'r2', 'h');
    const requirement = fc.oneof(
      fc.record({ key, operator: fc.constantFrom('In' as const, 'NotIn' as const), values: fc.uniqueArray(value, { minLength: 1, maxLength: 4 }) }),
      fc.record({ key, operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const) }),
    );
    const selector: fc.Arbitrary<OracleSelector> = fc.record({ matchLabels: fc.dictionary(key, value, { maxKeys: 1 }), matchExpressions: fc.array(requirement, { minLength: 1, maxLength: 3 }) });
    const workload = fc.record({
      kind: fc.constantFrom('Deployment', 'StatefulSet', 'Pod'),
      replicas: fc.integer({ min: 0, max: 3 }),
      revisions: fc.constantFrom([], ['r1'], ['r1', 'r2']),
      // One concrete Pod: which ordinal, which revision, what hash the controller really computed.
      ordinal: fc.integer({ min: 0, max: 2 }),
      revision: fc.integer({ min: 0, max: 1 }),
      hash: value,
    });
    fc.assert(
      fc.property(selector, workload, (s, w) => {
        const status = w.revisions.length === 0 ? undefined : { updateRevision: w.revisions[0], currentRevision: w.revisions[w.revisions.length - 1] };
        const stored = object(w.kind, { spec: { replicas: w.replicas }, ...(status ? { status } : {}) });
        const outcome = decide(stored, s);
        if (outcome.startsWith('cannot tell')) return;
        // A Pod the controller could create: template labels, then the labels it adds, with real values.
        const labels: Record<string, string> = { app: 'web' };
        const ordinal = Math.min(w.ordinal, Math.max(1, w.replicas) - 1);
        if (w.kind === 'Deployment') labels['pod-template-hash'] = w.hash;
        if (w.kind === 'StatefulSet') {
          labels['statefulset.kubernetes.io/pod-name'] = `web-${ordinal}`;
          labels['apps.kubernetes.io/pod-index'] = String(ordinal);
          labels['controller-revision-hash'] = w.revisions.length === 0 ? w.hash : w.revisions[Math.min(w.revision, w.revisions.length - 1)]!;
        }
        expect(outcome).toBe(selectorMatches(s, labels) ? 'sent' : 'not sent');
      }),
      { numRuns: 3000 },
    );
  });

  test('bounded: 10,000 requirements of 100 values on controller-added labels decide 1,000 small and 20 huge StatefulSets within a generous bound', () => {
    const expressions = Array.from({ length: 10_000 }, (_, i) => ({ key: i % 2 === 0 ? 'statefulset.kubernetes.io/pod-name' : 'apps.kubernetes.io/pod-index', operator: 'NotIn', values: Array.from({ length: 100 }, (_, v) => `x-${v}-${i}`) }));
    const result = objectScopeOf({ matchExpressions: expressions }, 'objectSelector', 'test');
    if (!result.ok || result.scope === null) throw new Error('scope expected');
    const small: readonly ControllerLabel[] = controllerAddedLabels('StatefulSet', object('StatefulSet', { spec: { replicas: 3 } }));
    // Too many Pods to list: each of the million values is parsed, once per workload.
    const huge: readonly ControllerLabel[] = controllerAddedLabels('StatefulSet', object('StatefulSet', { spec: { replicas: 1_000_000 } }));
    const started = process.hrtime.bigint();
    let sent = 0;
    for (let i = 0; i < 1_000; i++) if (result.scope.decide({ app: 'web' }, small).sent === true) sent++;
    for (let i = 0; i < 20; i++) if (result.scope.decide({ app: 'web' }, huge).sent === true) sent++;
    expect(sent).toBe(1_020);
    expect(Number(process.hrtime.bigint() - started) / 1e9).toBeLessThan(30);
  });
});
