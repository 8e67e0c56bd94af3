// The webhook configuration's objectSelector as the audit evaluates it: Kubernetes LabelSelector
// semantics (matchLabels and matchExpressions ANDed, an empty selector matches every Pod, NotIn
// and DoesNotExist hold when the key is absent), the API server's validation with field paths,
// and work bounded by the selector's size, not multiplied by the Pod's labels.
import { describe, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { objectScopeOf, podLabels, podWebhookSelector, POD_WEBHOOK_NAME } from '../../src/audit/object-selector.js';

type Labels = Record<string, string>;

function scope(selector: unknown) {
  const result = objectScopeOf(selector, 'objectSelector', 'test');
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.scope;
}

/** Whether the API server sends a Pod with these labels; no scope sends every Pod. */
function sends(selector: unknown, labels: Labels): boolean {
  const s = scope(selector);
  return s === null || s.sends(labels);
}

const CASES: readonly { name: string; selector: unknown; labels: Labels; sent: boolean }[] = [
  { name: 'absent selector: every Pod', selector: undefined, labels: {}, sent: true },
  { name: 'null selector (the API server defaults it to {}): every Pod', selector: null, labels: {}, sent: true },
  { name: 'empty selector: every Pod', selector: {}, labels: { a: 'b' }, sent: true },
  { name: 'empty lists: every Pod', selector: { matchLabels: {}, matchExpressions: [] }, labels: {}, sent: true },
  { name: 'matchLabels equal', selector: { matchLabels: { team: 'a' } }, labels: { team: 'a', x: 'y' }, sent: true },
  { name: 'matchLabels other value', selector: { matchLabels: { team: 'a' } }, labels: { team: 'b' }, sent: false },
  { name: 'matchLabels key absent', selector: { matchLabels: { team: 'a' } }, labels: {}, sent: false },
  { name: 'matchLabels empty value matches an empty label', selector: { matchLabels: { team: '' } }, labels: { team: '' }, sent: true },
  { name: 'matchLabels empty value: absent key does not match', selector: { matchLabels: { team: '' } }, labels: {}, sent: false },
  { name: 'matchLabels: every pair must hold', selector: { matchLabels: { team: 'a', tier: 'web' } }, labels: { team: 'a' }, sent: false },
  { name: 'In: value listed', selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] }, labels: { tier: 'api' }, sent: true },
  { name: 'In: value not listed', selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] }, labels: { tier: 'db' }, sent: false },
  { name: 'In: key absent', selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] }, labels: {}, sent: false },
  { name: 'In [""]: an empty label value', selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: [''] }] }, labels: { tier: '' }, sent: true },
  { name: 'In [""]: key absent', selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: [''] }] }, labels: {}, sent: false },
  { name: 'NotIn: value listed', selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, labels: { tier: 'web' }, sent: false },
  { name: 'NotIn: other value', selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, labels: { tier: 'api' }, sent: true },
  { name: 'NotIn: key absent matches', selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, labels: {}, sent: true },
  { name: 'Exists: present with an empty value', selector: { matchExpressions: [{ key: 'inject', operator: 'Exists' }] }, labels: { inject: '' }, sent: true },
  { name: 'Exists: absent', selector: { matchExpressions: [{ key: 'inject', operator: 'Exists' }] }, labels: { other: 'x' }, sent: false },
  { name: 'Exists with values: null', selector: { matchExpressions: [{ key: 'inject', operator: 'Exists', values: null }] }, labels: { inject: 'x' }, sent: true },
  { name: 'DoesNotExist: absent', selector: { matchExpressions: [{ key: 'legacy', operator: 'DoesNotExist' }] }, labels: { team: 'a' }, sent: true },
  { name: 'DoesNotExist: present with an empty value', selector: { matchExpressions: [{ key: 'legacy', operator: 'DoesNotExist' }] }, labels: { legacy: '' }, sent: false },
  { name: 'keys with a prefix', selector: { matchLabels: { 'example.com/team': 'a' } }, labels: { 'example.com/team': 'a', team: 'b' }, sent: true },
  { name: 'keys are case-sensitive', selector: { matchLabels: { Team: 'a' } }, labels: { team: 'a' }, sent: false },
  { name: 'values are case-sensitive', selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['Web'] }] }, labels: { tier: 'web' }, sent: false },
  {
    name: 'matchLabels and matchExpressions ANDed: all hold',
    selector: { matchLabels: { team: 'a' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }, { key: 'legacy', operator: 'DoesNotExist' }] },
    labels: { team: 'a', tier: 'web' },
    sent: true,
  },
  {
    name: 'matchLabels and matchExpressions ANDed: one fails',
    selector: { matchLabels: { team: 'a' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }, { key: 'legacy', operator: 'DoesNotExist' }] },
    labels: { team: 'a', tier: 'web', legacy: 'true' },
    sent: false,
  },
  { name: 'labels named like Object.prototype members are plain labels', selector: { matchExpressions: [{ key: 'constructor', operator: 'DoesNotExist' }, { key: 'toString', operator: 'NotIn', values: ['x'] }] }, labels: {}, sent: true },
];

describe('objectSelector semantics (metav1.LabelSelector)', () => {
  test.each(CASES)('$name', ({ selector, labels, sent }) => {
    expect(sends(selector, labels)).toBe(sent);
  });

  test('a matchLabels pair is the In requirement with one value (the API\'s own definition)', () => {
    const key = fc.constantFrom('team', 'tier', 'app');
    const value = fc.constantFrom('', 'a', 'b');
    fc.assert(
      fc.property(key, value, fc.dictionary(key, value), (k, v, labels) => {
        expect(sends({ matchLabels: { [k]: v } }, labels)).toBe(sends({ matchExpressions: [{ key: k, operator: 'In', values: [v] }] }, labels));
      }),
    );
  });

  test('NotIn is the negation of In, DoesNotExist of Exists, for any labels', () => {
    const key = fc.constantFrom('team', 'tier');
    const value = fc.constantFrom('', 'a', 'b', 'c');
    fc.assert(
      fc.property(key, fc.array(value, { minLength: 1, maxLength: 3 }), fc.dictionary(key, value), (k, values, labels) => {
        expect(sends({ matchExpressions: [{ key: k, operator: 'NotIn', values }] }, labels)).toBe(!sends({ matchExpressions: [{ key: k, operator: 'In', values }] }, labels));
        expect(sends({ matchExpressions: [{ key: k, operator: 'DoesNotExist' }] }, labels)).toBe(!sends({ matchExpressions: [{ key: k, operator: 'Exists' }] }, labels));
      }),
    );
  });

  test('the reason names the selector as kubectl writes it and where it came from', () => {
    const s = objectScopeOf(
      { matchLabels: { team: 'a' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }, { key: 'env', operator: 'NotIn', values: ['dev'] }, { key: 'gpu', operator: 'Exists' }, { key: 'legacy', operator: 'DoesNotExist' }] },
      'webhooks[0].objectSelector',
      'MutatingWebhookConfiguration secure-defaults',
    );
    expect(s.ok && s.scope?.text).toBe('team=a,tier in (web,api),env notin (dev),gpu,!legacy');
    expect(s.ok && s.scope?.reason).toBe('not sent to the webhook: objectSelector "team=a,tier in (web,api),env notin (dev),gpu,!legacy" (MutatingWebhookConfiguration secure-defaults) does not match the Pod\'s labels');
  });
});

describe('objectSelector validation: the API server\'s rules, each error at its field path', () => {
  const INVALID: readonly { name: string; selector: unknown; path: string; says: RegExp }[] = [
    { name: 'not a map', selector: 'team=a', path: 'objectSelector', says: /expected a map/ },
    { name: 'unknown operator', selector: { matchExpressions: [{ key: 'a', operator: 'Matches', values: ['x'] }] }, path: 'objectSelector.matchExpressions[0].operator', says: /In.*NotIn.*Exists.*DoesNotExist/ },
    { name: 'operator missing', selector: { matchExpressions: [{ key: 'a', values: ['x'] }] }, path: 'objectSelector.matchExpressions[0].operator', says: /required/ },
    { name: 'key missing', selector: { matchExpressions: [{ operator: 'Exists' }] }, path: 'objectSelector.matchExpressions[0].key', says: /required/ },
    { name: 'In without values', selector: { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, path: 'objectSelector.matchExpressions[0].values', says: /non-empty with operator In/ },
    { name: 'NotIn without values', selector: { matchExpressions: [{ key: 'a', operator: 'NotIn' }] }, path: 'objectSelector.matchExpressions[0].values', says: /non-empty with operator NotIn/ },
    { name: 'Exists with values', selector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, path: 'objectSelector.matchExpressions[0].values', says: /must be empty with operator Exists/ },
    { name: 'DoesNotExist with values', selector: { matchExpressions: [{ key: 'ok', operator: 'Exists' }, { key: 'a', operator: 'DoesNotExist', values: ['x'] }] }, path: 'objectSelector.matchExpressions[1].values', says: /must be empty/ },
    { name: 'invalid key', selector: { matchLabels: { 'bad key': 'x' } }, path: 'objectSelector.matchLabels.bad key', says: /not a valid label key/ },
    { name: 'invalid value', selector: { matchLabels: { team: 'a b' } }, path: 'objectSelector.matchLabels.team', says: /not a valid label value/ },
    { name: 'value too long', selector: { matchExpressions: [{ key: 'a', operator: 'In', values: ['ok', 'x'.repeat(64)] }] }, path: 'objectSelector.matchExpressions[0].values[1]', says: /at most 63/ },
    { name: 'non-string value', selector: { matchLabels: { team: 3 } }, path: 'objectSelector.matchLabels.team', says: /expected a string label value/ },
    { name: 'matchExpressions not a list', selector: { matchExpressions: { key: 'a' } }, path: 'objectSelector.matchExpressions', says: /expected a list/ },
    { name: 'unknown field', selector: { matchLabel: { team: 'a' } }, path: 'objectSelector.matchLabel', says: /did you mean "matchLabels"/ },
  ];
  test.each(INVALID)('$name', ({ selector, path, says }) => {
    const result = objectScopeOf(selector, 'objectSelector', 'test');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const error = result.errors.find((e) => e.path === path);
    expect({ paths: result.errors.map((e) => e.path), message: error?.message }).toEqual({ paths: expect.arrayContaining([path]), message: expect.stringMatching(says) });
  });
});

describe('where the audit finds the selector', () => {
  test('the pod webhook of a configuration, with its index in the field path', () => {
    const configuration = { webhooks: [{ name: 'other.example.com', objectSelector: { matchLabels: { a: 'b' } } }, { name: POD_WEBHOOK_NAME, objectSelector: { matchLabels: { team: 'a' } } }] };
    expect(podWebhookSelector(configuration)).toEqual({ found: true, value: { matchLabels: { team: 'a' } }, path: 'webhooks[1].objectSelector' });
    expect(podWebhookSelector({ webhooks: [{ name: 'other.example.com' }] })).toEqual({ found: false, names: ['other.example.com'] });
    expect(podWebhookSelector({})).toEqual({ found: false, names: [] });
  });

  test('a Pod\'s labels: string values only, no prototype', () => {
    const labels = podLabels({ metadata: { labels: { team: 'a', odd: 3, constructor: 'x' } } });
    expect({ ...labels }).toEqual({ team: 'a', constructor: 'x' });
    expect(podLabels({ metadata: {} })).toEqual({});
    expect(podLabels({ metadata: { labels: ['x'] } })).toEqual({});
  });
});

describe('bounded work (an attacker-sized selector and Pods with many labels)', () => {
  test('10,000 requirements of 100 values each compile once; 2,000 Pods with 1,000 labels each are matched within a generous bound', () => {
    const expressions = Array.from({ length: 10_000 }, (_, i) => ({ key: `k${i % 500}`, operator: i % 2 === 0 ? 'NotIn' : 'In', values: Array.from({ length: 100 }, (_, v) => `v${v}-${i}`) }));
    const started = process.hrtime.bigint();
    const s = scope({ matchExpressions: expressions });
    expect(s).not.toBeNull();
    // Every odd requirement is In with values the Pod never has: not sent, after one failing check at most per requirement.
    const labels: Labels = Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`k${i}`, `x${i}`]));
    let sent = 0;
    for (let pod = 0; pod < 2_000; pod++) if (s!.sends(labels)) sent++;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    expect(sent).toBe(0);
    expect(s!.text.length).toBeLessThanOrEqual(201);
    expect(seconds).toBeLessThan(20);
  });

  test('a Pod that passes every one of 10,000 requirements costs one lookup each, not one per label', () => {
    const expressions = Array.from({ length: 10_000 }, (_, i) => ({ key: `k${i % 500}`, operator: 'NotIn', values: Array.from({ length: 100 }, (_, v) => `v${v}`) }));
    const s = scope({ matchExpressions: expressions });
    const labels: Labels = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'other']));
    const started = process.hrtime.bigint();
    let sent = 0;
    for (let pod = 0; pod < 200; pod++) if (s!.sends(labels)) sent++;
    expect(sent).toBe(200);
    expect(Number(process.hrtime.bigint() - started) / 1e9).toBeLessThan(10);
  });
});
