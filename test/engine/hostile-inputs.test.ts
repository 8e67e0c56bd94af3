// Attacks on the engine, each with a bound: what a Pod's author or a policy's author can grow
// (an annotation, a glob, a YAML map, a list of rules, an anchored scalar) must cost time linear
// in its size and produce messages of bounded size. The time budgets are far above what the
// fixed code needs and far below what the quadratic code took (seconds to minutes): they bound a
// hang, they do not measure speed.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decideAdmission, parsePolicy, type PolicyParseResult } from '../../src/engine/index.js';
import { INJECTED_ANNOTATION } from '../../src/engine/model.js';
import { compileNamePatterns } from '../../src/engine/namespace-matcher.js';
import { MAX_POLICY_BYTES } from '../../src/engine/policy-document.js';
import { MAX_LISTED_ERRORS } from '../../src/engine/policy-reader.js';
import { POLICY_HEADER, namespace, policyWith } from './engine-fixtures.js';

type Json = Record<string, unknown>;

function timed<T>(run: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = run();
  return { value, ms: performance.now() - started };
}

/** Distinct letter-only names: a, b, …, z, ba, bb, … */
function letterName(index: number, alphabet = 'abcdefghijklmnopqrstuvwxyz'): string {
  let name = '';
  let n = index;
  do {
    name = alphabet[n % alphabet.length] + name;
    n = Math.floor(n / alphabet.length);
  } while (n > 0);
  return name;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

function errorText(result: PolicyParseResult): string {
  return result.ok ? '' : result.errors.map((e) => `${e.path}: ${e.message}`).join('\n');
}

describe('the secure-defaults.io/injected annotation a Pod brings along', () => {
  const policy = policyWith();
  const podWith = (annotation: string): Json => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', annotations: { [INJECTED_ANNOTATION]: annotation } },
    spec: { containers: [{ name: 'app' }] },
  });
  // Up to the API server's 256 KiB limit on all of a Pod's annotations.
  const names = (count: number, prefix = '', alphabet?: string) => Array.from({ length: count }, (_, i) => `${prefix}${letterName(i, alphabet)}`);
  it.each([
    ['64,000 distinct short pod fields', `pod: ${names(64_000, '', LETTERS).join(',')}`],
    ['25,000 dotted pod fields', `pod: ${names(25_000, 'x.', 'abcdefgh.').join(', ')}`],
    ['the same field 20,000 times', `pod: ${Array(20_000).fill('runAsUser').join(', ')}`],
    ['20,000 counted container fields', `containers: ${names(20_000, '', LETTERS).map((n) => `${n} (7)`).join(', ')}`],
    ['both sections, many times', Array.from({ length: 4000 }, (_, i) => `pod: ${names(8, letterName(i))}; containers: ${letterName(i)} (1)`).join('; ')],
    ['an unreadable value of 250 KB', `pod: ${names(40_000).join(', ')}, 1nope`],
  ])('is merged in well under a second: %s', (_label, annotation) => {
    expect(annotation.length).toBeLessThan(262_144);
    const { value: decision, ms } = timed(() => decideAdmission({ policy, namespace: namespace(), pod: podWith(annotation), target: 'pod' }));
    expect(decision.allowed).toBe(true);
    expect(ms).toBeLessThan(1000);
  });

  it('keeps what an earlier webhook recorded and adds this one', () => {
    const decision = decideAdmission({ policy, namespace: namespace(), pod: podWith('pod: zzz, runAsUser; containers: foo (2)'), target: 'pod' });
    if (!decision.allowed) throw new Error('denied');
    const annotation = decision.patch.find((op) => op.path.includes('injected'));
    expect(annotation).toBeDefined();
    const text = String((annotation as { value: unknown }).value);
    expect(text).toMatch(/^pod: zzz, runAsUser, runAsGroup, fsGroup/);
    expect(text).toMatch(/containers: foo \(2\), allowPrivilegeEscalation \(1\), capabilities\.drop \(1\)$/);
  });
});

/** The regular expression the matcher used to compile globs to: the reference for what a glob means. */
function globRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/\*/g, '[a-z0-9-]*').replace(/\?/g, '[a-z0-9-]')}$`);
}

describe('namespace globs', () => {
  const ns = (name: string) => ({ name, labels: {}, annotations: {} });

  it('match exactly what the glob means (against the anchored regular expression, on short inputs)', () => {
    const chars = fc.constantFrom('a', 'b', '-', '0');
    const pattern = fc.array(fc.constantFrom('a', 'b', '-', '0', '*', '?'), { minLength: 1, maxLength: 10 }).map((parts) => parts.join(''));
    const name = fc.array(chars, { maxLength: 12 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(pattern, name, (glob, namespaceName) => {
        const predicate = compileNamePatterns([glob]);
        expect(predicate(ns(namespaceName))).toBe(globRegExp(glob).test(namespaceName));
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    ['team-*', 'team-payments', true],
    ['team-*', 'team-', true],
    ['team-*', 'team', false],
    ['*-prod', 'payments-prod', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'acb', false],
    ['a*a', 'a', false],
    ['?', 'x', true],
    ['?', '', false],
    ['*', 'anything-at-all', true],
    ['***', 'x', true],
    ['team-?', 'team-ab', false],
    ['t*m', 'Team', false],
    ['*', 'not_a_name', false],
  ])('%j on %j is %s', (glob, name, expected) => {
    expect(compileNamePatterns([glob])(ns(name))).toBe(expected);
  });

  // Each of these made the regular expression backtrack for seconds on a name that almost matches.
  const hostile = [
    '*********x',
    '*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b',
    `${'*?'.repeat(31)}x`,
    `${'*-'.repeat(31)}z`,
    '*a*-*0*a*-*0*a*-*0*a*-*0*a*-*0*a*-*0*a*-*0*a*-*0*a*-*0*a*-*0*q',
    `${'*'.repeat(62)}y`,
  ];
  const names = ['a'.repeat(63), 'team-payments-production-eu-west-1', `${'a-'.repeat(31)}a`, '-'.repeat(42), `${'a-0'.repeat(21)}`];

  it.each(hostile)('%s is refused by nobody and matched in bounded time', (glob) => {
    expect(glob.length).toBeLessThanOrEqual(63);
    const policy = parsePolicy(`${POLICY_HEADER}spec:\n  namespaces:\n    - names: [${JSON.stringify(glob)}]\n      uidRange: "10000-19999"\n`);
    expect(errorText(policy)).toBe('');
    const predicate = compileNamePatterns([glob]);
    const { ms } = timed(() => {
      for (let round = 0; round < 200; round++) for (const name of names) predicate(ns(name));
    });
    // 1,000 matches; the regular expression took over a second for one.
    expect(ms).toBeLessThan(1000);
  });

  it('refuses more than 1000 globs in one policy, naming the first one over', () => {
    const rules = Array.from({ length: 1001 }, (_, i) => `    - names: ["t${i}-*"]\n      uidRange: "${10000 + i * 10}-${10000 + i * 10 + 9}"\n`).join('');
    const result = parsePolicy(`${POLICY_HEADER}spec:\n  namespaces:\n${rules}`);
    expect(errorText(result)).toBe('spec.namespaces[1000].names[0]: is glob number 1001; a policy may have at most 1000 globs (names with * or ?): list exact names, which cost nothing to match, or use a label selector');
    const exact = Array.from({ length: 3000 }, (_, i) => `    - names: ["t${i}"]\n      uidRange: "${10000 + i * 10}-${10000 + i * 10 + 9}"\n`).join('');
    expect(errorText(parsePolicy(`${POLICY_HEADER}spec:\n  namespaces:\n${exact}`))).toBe('');
  });
});

describe('policy parsing of hostile documents', () => {
  const bounded = (result: PolicyParseResult) => {
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.length).toBeLessThanOrEqual(MAX_LISTED_ERRORS + 1);
    expect(errorText(result).length).toBeLessThan(64 * 1024);
  };

  it.each([
    ['40,000 unknown keys under spec', `spec:\n${Array.from({ length: 40_000 }, (_, i) => `  k${i}: 1\n`).join('')}`],
    ['20,000 unknown keys under spec.defaults, in flow style', `spec:\n  defaults: {${Array.from({ length: 20_000 }, (_, i) => `x${i}: 1`).join(', ')}}\n`],
    ['20,000 unknown keys with long names', `spec:\n${Array.from({ length: 20_000 }, (_, i) => `  ${letterName(i)}${'q'.repeat(20)}: 1\n`).join('')}`],
    ['20,000 unknown keys at the top', Array.from({ length: 20_000 }, (_, i) => `z${i}: 1\n`).join('')],
  ])('answers in bounded time, with a bounded list of errors: %s', (_label, body) => {
    const text = `${POLICY_HEADER}${body}`;
    expect(text.length).toBeLessThan(MAX_POLICY_BYTES);
    const { value, ms } = timed(() => parsePolicy(text));
    bounded(value);
    if (!value.ok) expect(value.errors.at(-1)?.message).toMatch(/^and \d+ more errors; fix the ones above first$/);
    expect(ms).toBeLessThan(10_000);
 }, 30_000);

  it.each([
    ['a duplicate at the end of 40,000 keys', `${Array.from({ length: 40_000 }, (_, i) => `    l${i}: v\n`).join('')}    l7: v\n`, /line \d+, column 9: YAML syntax error: Map keys must be unique; "l7" appears again here/],
    ['20,000 keys, each twice', `${Array.from({ length: 20_000 }, (_, i) => `    l${i % 10_000}: v\n`).join('')}`, /and 9980 more duplicate keys/],
  ])('finds duplicate keys in linear time: %s', (_label, labels, expected) => {
    const text = `${POLICY_HEADER}spec:\n  namespaces:\n  - selector:\n      matchLabels:\n${labels.replace(/^ {4}/gm, '        ')}    uidRange: "10000-19999"\n`;
    const { value, ms } = timed(() => parsePolicy(text));
    bounded(value);
    expect(errorText(value)).toMatch(expected);
    expect(ms).toBeLessThan(10_000);
 }, 30_000);

  it('still tells 1 from "1" as keys, like YAML does', () => {
    const result = parsePolicy(`${POLICY_HEADER}spec:\n  namespaces:\n    - selector:\n        matchLabels: {1: a, "1": b}\n      uidRange: "10000-19999"\n`);
    expect(errorText(result)).not.toMatch(/unique/);
  });

  it('refuses a policy over 1 MiB, saying so', () => {
    const text = `${POLICY_HEADER}spec:\n  mode: fill\n# ${'x'.repeat(MAX_POLICY_BYTES)}\n`;
    const { value, ms } = timed(() => parsePolicy(text));
    expect(errorText(value)).toMatch(/^\(document\): the policy is \d+ bytes, over the 1048576-byte limit \(a ConfigMap holds at most 1 MiB\)/);
    expect(ms).toBeLessThan(1000);
  });

  it.each([
    ['10,000 disjoint rules', (i: number) => `${10000 + i * 10}-${10000 + i * 10 + 9}`, true],
    ['10,000 rules in reverse order', (i: number) => `${400000 - i * 10}-${400000 - i * 10 + 9}`, true],
    ['10,000 rules all overlapping', (i: number) => `${100000 + i}-${200000 + i}`, false],
  ])('checks overlaps of %s in bounded time', (_label, range, valid) => {
    const rules = Array.from({ length: 10_000 }, (_, i) => `  - {names: [n${i}], uidRange: "${range(i)}"}\n`).join('');
    const text = `${POLICY_HEADER}spec:\n  namespaces:\n${rules}`;
    expect(text.length).toBeLessThan(MAX_POLICY_BYTES);
    const { value, ms } = timed(() => parsePolicy(text));
    expect(errorText(value).slice(0, 300)).toEqual(valid ? '' : expect.stringMatching(/overlaps/));
    if (!valid) bounded(value);
    expect(ms).toBeLessThan(10_000);
 }, 30_000);

  it('reports overlaps exactly where comparing every pair would (one error per later range, property)', () => {
    const range = fc.tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 15 })).map(([min, width]) => ({ min, max: min + width }));
    fc.assert(
      fc.property(fc.array(range, { minLength: 1, maxLength: 8 }), (ranges) => {
        const rules = ranges.map((r, i) => `  - {names: [n${i}], uidRange: "${r.min}-${r.max}"}\n`).join('');
        const result = parsePolicy(`${POLICY_HEADER}spec:\n  namespaces:\n${rules}`);
        const overlapsAnEarlier = ranges.map((r, i) => ranges.slice(0, i).some((e) => e.min <= r.max && r.min <= e.max));
        const overlapsALater = ranges.map((r, i) => ranges.slice(i + 1).some((e) => e.min <= r.max && r.min <= e.max));
        const flagged = new Set(result.ok ? [] : result.errors.map((e) => e.path));
        // Every range in a clash is either flagged or named by a flagged one; a range that overlaps nothing is never flagged.
        ranges.forEach((_r, i) => {
          const path = `spec.namespaces[${i}].uidRange`;
          if (!overlapsAnEarlier[i] && !overlapsALater[i]) expect(flagged.has(path)).toBe(false);
          if (flagged.has(path)) expect(overlapsAnEarlier[i] || overlapsALater[i]).toBe(true);
        });
        expect(result.ok).toBe(!overlapsAnEarlier.some(Boolean));
        if (!result.ok) {
          for (const error of result.errors) {
            const named = /overlaps (spec\.namespaces\[(\d+)\]\.uidRange)/.exec(error.message);
            const on = /\[(\d+)\]/.exec(error.path);
            expect(Number(named?.[2])).toBeLessThan(Number(on?.[1]));
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['a 900 KB scalar aliased as a name in 99 rules', (big: string) => `x: &a ${big}\n`, (i: number) => `names: [*a]`],
    ['a 900 KB scalar aliased as a label value', (big: string) => `x: &a ${big}\n`, (_i: number) => `selector: {matchLabels: {team: *a}}`],
    ['a 900 KB label key', (big: string) => `x: &a ${big}\n`, (_i: number) => `selector: {matchLabels: {*a : v}}`],
    ['a 900 KB capability', (big: string) => `x: &a ${big}\n`, (_i: number) => `names: [a]`],
  ])('keeps messages short when %s', (label, anchor, ruleBody) => {
    const big = 'a'.repeat(900_000);
    const rules = Array.from({ length: 99 }, (_, i) => `    - {${ruleBody(i)}, uidRange: "${10000 + i * 10}-${10000 + i * 10 + 9}"}\n`).join('');
    const defaults = label.includes('capability') ? '  defaults:\n    dropCapabilities: [*a, *a, *a]\n' : '';
    const text = `${POLICY_HEADER}${anchor(big)}spec:\n${defaults}  namespaces:\n${rules}`;
    const { value, ms } = timed(() => parsePolicy(text));
    bounded(value);
    expect(errorText(value)).toMatch(/"a{120}…" \(899880 more characters\)/);
    expect(JSON.stringify(value.ok ? null : value.errors).length).toBeLessThan(64 * 1024);
    expect(ms).toBeLessThan(5000);
 }, 30_000);

  it.each([
    ['101 aliases of one anchor', `x: &a v\ny: [${Array(101).fill('*a').join(', ')}]\n`],
    ['5,000 anchors each aliased once', `x: [${Array.from({ length: 5000 }, (_, i) => `&a${i} v`).join(', ')}]\ny: [${Array.from({ length: 5000 }, (_, i) => `*a${i}`).join(', ')}]\n`],
    ['an alias bomb', `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n`],
  ])('refuses too many aliases at once: %s', (_label, body) => {
    const { value, ms } = timed(() => parsePolicy(`${POLICY_HEADER}${body}spec: {}\n`));
    bounded(value);
    expect(errorText(value)).toMatch(/aliases|alias count/);
    expect(ms).toBeLessThan(3000);
 }, 30_000);
});
