// The pod webhook's namespaceSelector as the audit evaluates it: namespace labels in, excluded
// (with the selector named) or sent out, with kubernetes.io/metadata.name always the namespace's
// name, as the API server keeps it; the same answer as an independent LabelSelector evaluation.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { namespaceLabels, namespaceScopeOf } from '../../src/audit/namespace-scope.js';
import type { NamespaceInfo } from '../../src/engine/model.js';
import { selectorMatches, type OracleSelector } from './label-selector-oracle.js';

const namespace = (name: string, labels: Record<string, string> = {}): NamespaceInfo => ({ name, labels, annotations: {} });
const CHART = { matchLabels: { 'secure-defaults.io/inject': 'enabled' }, matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'secure-defaults'] }] };

function exclusion(selector: unknown, ns: NamespaceInfo): string | null {
  const result = namespaceScopeOf(selector, 'webhooks[0].namespaceSelector', 'MutatingWebhookConfiguration x');
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.scope === null ? null : result.scope.exclusion(ns);
}

const OPT_IN = { 'secure-defaults.io/inject': 'enabled' };
const CASES: readonly { name: string; selector: unknown; ns: NamespaceInfo; sent: boolean }[] = [
  { name: 'absent: every namespace', selector: undefined, ns: namespace('kube-system'), sent: true },
  { name: '{}: every namespace', selector: {}, ns: namespace('kube-system'), sent: true },
  { name: 'chart: an opted-in namespace', selector: CHART, ns: namespace('team-a', OPT_IN), sent: true },
  { name: 'chart: not opted in', selector: CHART, ns: namespace('team-a'), sent: false },
  { name: 'chart: kube-system even when labelled', selector: CHART, ns: namespace('kube-system', OPT_IN), sent: false },
  { name: 'chart: its own namespace even when labelled', selector: CHART, ns: namespace('secure-defaults', OPT_IN), sent: false },
  { name: 'name label matched although the listed labels lack it', selector: { matchLabels: { 'kubernetes.io/metadata.name': 'team-a' } }, ns: namespace('team-a'), sent: true },
  { name: 'name label is the name, whatever the listed labels say', selector: { matchLabels: { 'kubernetes.io/metadata.name': 'other' } }, ns: namespace('team-a', { 'kubernetes.io/metadata.name': 'other' }), sent: false },
  { name: 'environment NotIn (prod): no environment label is sent', selector: { matchExpressions: [{ key: 'environment', operator: 'NotIn', values: ['prod'] }] }, ns: namespace('a'), sent: true },
  { name: 'environment NotIn (prod): prod is not', selector: { matchExpressions: [{ key: 'environment', operator: 'NotIn', values: ['prod'] }] }, ns: namespace('a', { environment: 'prod' }), sent: false },
  { name: 'Exists on an empty value', selector: { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, ns: namespace('a', { team: '' }), sent: true },
];

describe('namespaceSelector: namespace labels in, sent or excluded out', () => {
  test.each(CASES)('$name', ({ selector, ns, sent }) => {
    expect(exclusion(selector, ns) === null).toBe(sent);
  });

  test('the reason names the selector as kubectl writes it and where it came from, cut when long', () => {
    expect(exclusion(CHART, namespace('kube-system'))).toBe(
      'never sent to the webhook: namespaceSelector "secure-defaults.io/inject=enabled,kubernetes.io/metadata.name notin (kube-system,secure-defaults)" (MutatingWebhookConfiguration x) does not match the namespace\'s labels',
    );
    const long = { matchExpressions: Array.from({ length: 500 }, (_, i) => ({ key: `k${i}`, operator: 'In', values: Array.from({ length: 50 }, (_, v) => `value-${v}`) })) };
    const reason = exclusion(long, namespace('a'))!;
    expect(reason.length).toBeLessThan(400);
    expect(reason).toContain('…');
  });

  test('invalid: each error at its field path', () => {
    const result = namespaceScopeOf({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, 'webhooks[2].namespaceSelector', 'x');
    expect(result.ok ? [] : result.errors.map((e) => e.path)).toEqual(['webhooks[2].namespaceSelector.matchExpressions[0].values']);
  });

  test('property: the audit sends a namespace exactly when an independent LabelSelector evaluation matches its labels (name label included)', () => {
    const key = fc.constantFrom('team', 'environment', 'secure-defaults.io/inject', 'kubernetes.io/metadata.name');
    const value = fc.constantFrom('', 'a', 'prod', 'enabled', 'kube-system');
    const requirement = fc.oneof(
      fc.record({ key, operator: fc.constantFrom('In' as const, 'NotIn' as const), values: fc.uniqueArray(value, { minLength: 1, maxLength: 3 }) }),
      fc.record({ key, operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const) }),
    );
    const selector: fc.Arbitrary<OracleSelector> = fc.record({ matchLabels: fc.dictionary(key, value, { maxKeys: 2 }), matchExpressions: fc.array(requirement, { maxLength: 4 }) });
    fc.assert(
      fc.property(selector, fc.constantFrom('a', 'kube-system', 'prod'), fc.dictionary(key, value, { maxKeys: 4 }), (s, name, labels) => {
        const ns = namespace(name, labels);
        expect(exclusion(s, ns) === null).toBe(selectorMatches(s, { ...labels, 'kubernetes.io/metadata.name': name }));
      }),
      { numRuns: 2000 },
    );
  });

  test('namespaceLabels: a copy with the name label set, the listed labels untouched', () => {
    const listed = namespace('a', { team: 'x', 'kubernetes.io/metadata.name': 'b' });
    expect(namespaceLabels(listed)).toEqual({ team: 'x', 'kubernetes.io/metadata.name': 'a' });
    expect(listed.labels['kubernetes.io/metadata.name']).toBe('b');
  });
});
