// Which objects the audit reports, and the Pod it judges for each: table-driven.
import { describe, expect, test } from '@jest/globals';
import { podToCreate, reportedThroughOwner } from '../../src/audit/controller-pods.js';

const spec = { containers: [{ name: 'app', image: 'nginx' }] };
const template = { metadata: { name: 'ignored', labels: { app: 'x' }, annotations: { a: 'b' }, finalizers: ['f'], ownerReferences: [{ kind: 'X' }] }, spec };

describe('podToCreate', () => {
  test.each([
    ['Deployment', 'apps/v1', { metadata: { name: 'web' }, spec: { template } }],
    ['StatefulSet', 'apps/v1', { metadata: { name: 'web' }, spec: { template } }],
    ['Job', 'batch/v1', { metadata: { name: 'web' }, spec: { template } }],
    ['CronJob', 'batch/v1', { metadata: { name: 'web' }, spec: { jobTemplate: { spec: { template } } } }],
  ])('%s: the template\'s labels, annotations, finalizers and spec, with generateName and the namespace', (kind, apiVersion, object) => {
    expect(podToCreate(apiVersion, kind, object, 'team-a')).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { labels: { app: 'x' }, annotations: { a: 'b' }, finalizers: ['f'], generateName: 'web-', namespace: 'team-a' },
      spec,
    });
  });

  test('a standing Pod: without status and what the server set', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team-a', uid: 'u', resourceVersion: '3', creationTimestamp: 't', managedFields: [], labels: { a: 'b' } }, spec, status: { phase: 'Running' } };
    expect(podToCreate('v1', 'Pod', pod, 'team-a')).toEqual({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team-a', labels: { a: 'b' } }, spec });
  });

  test('no template: nothing to judge', () => {
    expect(podToCreate('apps/v1', 'Deployment', { metadata: { name: 'x' }, spec: {} }, 'n')).toBeUndefined();
    expect(podToCreate('v1', 'Service', { metadata: { name: 'x' } }, 'n')).toBeUndefined();
  });
});

describe('reportedThroughOwner', () => {
  const ownedBy = (apiVersion: string, kind: string, controller = true) => ({ metadata: { ownerReferences: [{ apiVersion, kind, name: 'o', uid: 'u', controller }] } });
  test.each([
    ['a ReplicaSet of a Deployment', ownedBy('apps/v1', 'Deployment'), true],
    ['a Pod of a ReplicaSet', ownedBy('apps/v1', 'ReplicaSet'), true],
    ['a Job of a CronJob', ownedBy('batch/v1', 'CronJob'), true],
    ['a Pod of a Job', ownedBy('batch/v1', 'Job'), true],
    ['a Pod of an operator\'s custom resource', ownedBy('example.com/v1', 'Database'), false],
    ['a mirror Pod (owned by its Node)', ownedBy('v1', 'Node'), false],
    ['an owner that is not the controller', ownedBy('apps/v1', 'ReplicaSet', false), false],
    ['no owner', { metadata: {} }, false],
  ])('%s: %s', (_name, object, expected) => {
    expect(reportedThroughOwner(object)).toBe(expected);
  });
});
