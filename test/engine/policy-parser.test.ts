import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parsePolicy, type CompiledPolicy, type NamespaceInfo, type PolicyParseResult } from '../../src/engine/index.js';

const HEADER = 'apiVersion: secure-defaults.io/v1alpha1\nkind: SecureDefaultsPolicy\n';

function ns(name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): NamespaceInfo {
  return { name, labels, annotations };
}

function errorsOf(result: PolicyParseResult): string[] {
  return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`);
}

function compiled(yamlText: string): CompiledPolicy {
  const result = parsePolicy(yamlText);
  if (!result.ok) throw new Error(`expected a valid policy, got:\n${errorsOf(result).join('\n')}`);
  return result.policy;
}

describe('parsePolicy: the default policy', () => {
  it('compiles policies/default.yaml with the documented defaults', () => {
    const policy = compiled(readFileSync(new URL('../../policies/default.yaml', import.meta.url), 'utf8'));
    expect(policy.name).toBe('cluster-defaults');
    expect(policy.mode).toBe('fill');
    expect(policy.defaults).toEqual({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
      dropCapabilities: ['ALL'],
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: false,
      fsGroupChangePolicy: 'OnRootMismatch',
      keepRequestedPrivileges: true,
    });
    expect(policy.resolveIdDefaults(ns('anything'))).toEqual({
      uidRange: { min: 100000, max: 165535 },
      gidRange: { min: 100000, max: 165535 },
      fsGroup: 100000,
      origin: 'fallback',
      source: 'spec.fallback',
    });
  });

  it('fills every optional field with its default when spec is nearly empty', () => {
    const policy = compiled(`${HEADER}spec:\n  mode: fill\n`);
    expect(policy.name).toBe('unnamed');
    expect(policy.allowPodOptOut).toBe(false);
    expect(policy.allocation).toBeNull();
    expect(policy.defaults.dropCapabilities).toEqual(['ALL']);
    expect(policy.resolveIdDefaults(ns('x'))).toBeNull();
  });
});

describe('parsePolicy: namespace rules', () => {
  const policy = compiled(`${HEADER}spec:
  namespaces:
    - names: ["payments", "team-*"]
      uidRange: "10000-19999"
      gidRange: "30000-30999"
      fsGroup: 30005
    - selector:
        matchLabels: { tier: batch }
      uidRange: "20000-29999"
    - selector:
        matchExpressions:
          - { key: env, operator: In, values: [prod, staging] }
          - { key: legacy, operator: DoesNotExist }
      uidRange: "40000-49999"
  fallback:
    uidRange: "100000-165535"
`);

  it.each([
    ['payments', {}, 'spec.namespaces[0]', 10000, 30000, 30005],
    ['team-blue', {}, 'spec.namespaces[0]', 10000, 30000, 30005],
    ['batch-jobs', { tier: 'batch' }, 'spec.namespaces[1]', 20000, 20000, 20000],
    ['web', { env: 'prod' }, 'spec.namespaces[2]', 40000, 40000, 40000],
    ['web-old', { env: 'prod', legacy: 'yes' }, 'spec.fallback', 100000, 100000, 100000],
    ['teamless', {}, 'spec.fallback', 100000, 100000, 100000],
  ] as const)('namespace %s with labels %j resolves to %s', (name, labels, source, uid, gid, fsGroup) => {
    const ids = policy.resolveIdDefaults(ns(name, labels));
    expect(ids?.source).toBe(source);
    expect(ids?.uidRange.min).toBe(uid);
    expect(ids?.gidRange.min).toBe(gid);
    expect(ids?.fsGroup).toBe(fsGroup);
  });

  it('the first matching rule wins', () => {
    expect(policy.resolveIdDefaults(ns('team-x', { tier: 'batch' }))?.source).toBe('spec.namespaces[0]');
  });
});

describe('parsePolicy: mistakes are refused with path and fix', () => {
  it.each([
    ['a misspelled field', 'spec:\n  defaults:\n    runAsNonroot: true\n', 'spec.defaults.runAsNonroot: unknown field; did you mean "runAsNonRoot"?'],
    ['an unknown field far from any name', 'spec:\n  zzzzzzzzzz: 1\n', 'spec.zzzzzzzzzz: unknown field; known fields here: mode, defaults'],
    ['min above max', 'spec:\n  namespaces:\n    - names: [a]\n      uidRange: "20000-1999"\n', 'spec.namespaces[0].uidRange: "20000-1999": min is greater than max'],
    ['a range with root', 'spec:\n  fallback: {uidRange: "0-100"}\n', 'spec.fallback.uidRange: "0-100": includes 0 (root)'],
    ['bad range syntax', 'spec:\n  fallback: {uidRange: "10000..19999"}\n', 'spec.fallback.uidRange: "10000..19999": expected "MIN-MAX"'],
    ['a range given as a number', 'spec:\n  fallback: {uidRange: 10000}\n', 'spec.fallback.uidRange: expected a string "MIN-MAX" such as "10000-19999", got the number 10000'],
    ['an ID above int32', 'spec:\n  fallback: {uidRange: "100000-2147483648"}\n', 'spec.fallback.uidRange: "100000-2147483648": 2147483648 is above the highest ID Kubernetes accepts (2147483647)'],
    ['fsGroup above int32', 'spec:\n  fallback: {uidRange: "1-10", fsGroup: 2147483648}\n', 'spec.fallback.fsGroup: 2147483648 is above the highest ID'],
    ['a missing uidRange', 'spec:\n  fallback: {gidRange: "1-10"}\n', 'spec.fallback.uidRange: required'],
    ['fsGroup outside gidRange', 'spec:\n  fallback: {uidRange: "10000-19999", gidRange: "30000-30009", fsGroup: 10000}\n', 'spec.fallback.fsGroup: 10000 is outside the gidRange 30000-30009'],
    ['fsGroup as a string', 'spec:\n  fallback: {uidRange: "10000-19999", fsGroup: "10000"}\n', 'spec.fallback.fsGroup: expected a whole number'],
    ['an unknown mode', 'spec:\n  mode: enforcing\n', 'spec.mode: the string "enforcing" is not allowed; did you mean "enforce"?'],
    ['a wrong type', 'spec:\n  allowPodOptOut: "yes"\n', 'spec.allowPodOptOut: expected true or false, got the string "yes"'],
    ['a rule with both names and selector', 'spec:\n  namespaces:\n    - names: [a]\n      selector: {matchLabels: {x: y}}\n      uidRange: "1-10"\n', 'spec.namespaces[0]: has both names and selector'],
    ['a rule with neither', 'spec:\n  namespaces:\n    - uidRange: "1-10"\n', 'spec.namespaces[0]: has neither names nor selector'],
    ['a bad glob', 'spec:\n  namespaces:\n    - names: ["team/[a-z]"]\n      uidRange: "1-10"\n', 'spec.namespaces[0].names[0]: "team/[a-z]" is not a valid name or glob'],
    ['an empty names list', 'spec:\n  namespaces:\n    - names: []\n      uidRange: "1-10"\n', 'spec.namespaces[0].names: is empty'],
    ['a bad operator', 'spec:\n  namespaces:\n    - selector: {matchExpressions: [{key: a, operator: Equals, values: [b]}]}\n      uidRange: "1-10"\n', 'spec.namespaces[0].selector.matchExpressions[0].operator: the string "Equals" is not allowed'],
    ['In without values', 'spec:\n  namespaces:\n    - selector: {matchExpressions: [{key: a, operator: In}]}\n      uidRange: "1-10"\n', 'spec.namespaces[0].selector.matchExpressions[0].values: required and non-empty with operator In'],
    ['Exists with values', 'spec:\n  namespaces:\n    - selector: {matchExpressions: [{key: a, operator: Exists, values: [b]}]}\n      uidRange: "1-10"\n', 'spec.namespaces[0].selector.matchExpressions[0].values: must be empty with operator Exists'],
    ['a boolean label value', 'spec:\n  namespaces:\n    - selector: {matchLabels: {batch: true}}\n      uidRange: "1-10"\n', 'spec.namespaces[0].selector.matchLabels.batch: expected a string label value, got the boolean true'],
    ['a bad label key', 'spec:\n  namespaces:\n    - selector: {matchLabels: {"-bad": x}}\n      uidRange: "1-10"\n', 'spec.namespaces[0].selector.matchLabels.-bad: "-bad" is not a valid label key'],
    ['overlapping rules', 'spec:\n  namespaces:\n    - names: [a]\n      uidRange: "10000-19999"\n    - names: [b]\n      uidRange: "15000-25000"\n', 'spec.namespaces[1].uidRange: "15000-25000" overlaps spec.namespaces[0].uidRange ("10000-19999")'],
    ['a rule overlapping the fallback', 'spec:\n  namespaces:\n    - names: [a]\n      uidRange: "10000-19999"\n  fallback: {uidRange: "19999-30000"}\n', 'spec.fallback.uidRange: "19999-30000" overlaps spec.namespaces[0].uidRange'],
    ['a rule overlapping the allocation pool', 'spec:\n  namespaces:\n    - names: [a]\n      uidRange: "1000000000-1000000005"\n  allocation: {}\n', 'spec.allocation.range: "1000000000-1999999999" overlaps spec.namespaces[0].uidRange'],
    ['an explicit gidRange overlapping another rule', 'spec:\n  namespaces:\n    - names: [a]\n      uidRange: "10000-19999"\n    - names: [b]\n      uidRange: "20000-29999"\n      gidRange: "19000-19500"\n', 'spec.namespaces[1].gidRange: "19000-19500" overlaps spec.namespaces[0].gidRange ("10000-19999")'],
    ['a blockSize larger than the pool', 'spec:\n  allocation: {range: "1000-1999", blockSize: 5000}\n', 'spec.allocation.blockSize: 5000 is larger than the whole pool 1000-1999'],
    ['a zero blockSize', 'spec:\n  allocation: {blockSize: 0}\n', 'spec.allocation.blockSize: expected a positive whole number'],
    ['a bad releaseAfter beside a bad blockSize', 'spec:\n  allocation: {blockSize: 0, releaseAfter: 30d}\n', 'spec.allocation.blockSize: expected a positive whole number'],
    ['Unconfined seccomp', 'spec:\n  defaults: {seccompProfile: Unconfined}\n', 'spec.defaults.seccompProfile: "Unconfined" turns seccomp off'],
    ['Localhost without a profile', 'spec:\n  defaults: {seccompProfile: {type: Localhost}}\n', 'spec.defaults.seccompProfile.localhostProfile: required with type: Localhost'],
    ['an absolute Localhost profile', 'spec:\n  defaults: {seccompProfile: {type: Localhost, localhostProfile: /etc/x.json}}\n', 'spec.defaults.seccompProfile.localhostProfile: "/etc/x.json" must be a relative path'],
    ['allowPrivilegeEscalation true', 'spec:\n  defaults: {allowPrivilegeEscalation: true}\n', 'spec.defaults.allowPrivilegeEscalation: true would let setuid binaries gain privileges'],
    ['a lowercase capability', 'spec:\n  defaults: {dropCapabilities: [all]}\n', 'spec.defaults.dropCapabilities[0]: "all" is not a capability name'],
    ['a bad fsGroupChangePolicy', 'spec:\n  defaults: {fsGroupChangePolicy: onRootMismatch}\n', 'spec.defaults.fsGroupChangePolicy: the string "onRootMismatch" is not allowed; did you mean "OnRootMismatch"?'],
    ['a missing spec', '', 'spec: required'],
    ['spec as a list', 'spec: [1]\n', 'spec: expected a map'],
  ])('%s', (_label, body, expected) => {
    const errors = errorsOf(parsePolicy(`${HEADER}${body}`));
    expect(errors.find((error) => error.startsWith(expected)) ?? errors).toEqual(expect.stringContaining(expected));
  });

  it.each([
    ['a wrong apiVersion', 'apiVersion: v1\nkind: SecureDefaultsPolicy\nspec: {}\n', 'apiVersion: the string "v1" is not supported; use apiVersion: secure-defaults.io/v1alpha1'],
    ['a wrong kind', 'apiVersion: secure-defaults.io/v1alpha1\nkind: ConfigMap\nspec: {}\n', 'kind: the string "ConfigMap" is not supported; use kind: SecureDefaultsPolicy'],
    ['a YAML syntax error', `${HEADER}spec:\n  mode: [fill\n`, 'line 5, column 1: YAML syntax error: Flow sequence'],
    ['a duplicate key', `${HEADER}spec: {}\nspec: {}\n`, 'line 4, column 1: YAML syntax error: Map keys must be unique'],
    ['multiple documents', `${HEADER}spec: {}\n---\n${HEADER}spec: {}\n`, '(document): found 2 YAML documents'],
    ['an empty text', '', '(document): the policy is empty'],
    ['a scalar document', '42', '(document): expected a map with apiVersion, kind and spec, got the number 42'],
    ['an unresolved alias', `${HEADER}spec: *nothing\n`, '(document): YAML could not be read'],
  ])('%s', (_label, text, expected) => {
    const errors = errorsOf(parsePolicy(text));
    expect(errors.find((error) => error.startsWith(expected)) ?? errors).toEqual(expect.stringContaining(expected));
  });

  it('lists every error of a policy at once', () => {
    const errors = errorsOf(
      parsePolicy(`apiVersion: v2
kind: SecureDefaultsPolicy
spec:
  mode: fil
  defaults:
    runAsNonroot: true
  namespaces:
    - names: [a]
      uidRange: "20000-1999"
    - selector: {matchExpressions: [{key: a, operator: in, values: [b]}]}
      uidRange: "0-10"
`),
    );
    expect(errors.map((error) => error.slice(0, error.indexOf(':')))).toEqual([
      'apiVersion',
      'spec.mode',
      'spec.defaults.runAsNonroot',
      'spec.namespaces[0].uidRange',
      'spec.namespaces[1].selector.matchExpressions[0].operator',
      'spec.namespaces[1].uidRange',
    ]);
  });
});

describe('parsePolicy: warnings for a policy that weakens "restricted"', () => {
  it('warns for each weakened default but accepts the policy', () => {
    const result = parsePolicy(
      `${HEADER}spec:\n  defaults:\n    runAsNonRoot: false\n    seccompProfile: None\n    dropCapabilities: [NET_RAW]\n    allowPrivilegeEscalation: None\n`,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.warnings).toHaveLength(4);
    expect(result.policy.defaults).toMatchObject({ runAsNonRoot: false, seccompProfile: null, allowPrivilegeEscalation: null, dropCapabilities: ['NET_RAW'] });
  });
});

describe('resolveIdDefaults with allocated blocks', () => {
  const policy = compiled(`${HEADER}spec:
  namespaces:
    - names: [payments]
      uidRange: "10000-19999"
  fallback: {uidRange: "100000-165535"}
  allocation: {range: "1000000000-1999999999", blockSize: 10000}
`);
  const annotated = (annotations: Record<string, string>) => policy.resolveIdDefaultsWithWarnings(ns('tenant', {}, annotations));

  it('uses the uid-range annotation, with gid-range when present', () => {
    expect(annotated({ 'secure-defaults.io/uid-range': '1000010000-1000019999' }).defaults).toEqual({
      uidRange: { min: 1000010000, max: 1000019999 },
      gidRange: { min: 1000010000, max: 1000019999 },
      fsGroup: 1000010000,
      origin: 'namespace-annotation',
      source: 'namespace annotation secure-defaults.io/uid-range',
    });
    expect(
      annotated({ 'secure-defaults.io/uid-range': '1000010000-1000019999', 'secure-defaults.io/gid-range': '1000020000-1000029999' }).defaults?.fsGroup,
    ).toBe(1000020000);
  });

  it('rules still come first', () => {
    const resolution = policy.resolveIdDefaultsWithWarnings(ns('payments', {}, { 'secure-defaults.io/uid-range': '1000010000-1000019999' }));
    expect(resolution.defaults?.source).toBe('spec.namespaces[0]');
  });

  it.each([
    ['malformed', { 'secure-defaults.io/uid-range': 'abc' }, /uid-range ignored: "abc": expected "MIN-MAX"/],
    ['including root', { 'secure-defaults.io/uid-range': '0-10' }, /includes 0 \(root\)/],
    ['a malformed gid-range', { 'secure-defaults.io/uid-range': '1000010000-1000019999', 'secure-defaults.io/gid-range': '5-1' }, /gid-range ignored/],
    ['overlapping a rule', { 'secure-defaults.io/uid-range': '15000-25000' }, /overlaps the uid range 10000-19999 of spec.namespaces\[0\]/],
  ])('falls back with a warning when the annotation is %s', (_label, annotations, warning) => {
    const resolution = annotated(annotations);
    expect(resolution.defaults?.source).toBe('spec.fallback');
    expect(resolution.warnings.join('\n')).toMatch(warning);
    expect(policy.resolveIdDefaults(ns('tenant', {}, annotations))?.source).toBe('spec.fallback');
  });

  it('ignores the annotation with a warning when allocation is off', () => {
    const noAllocation = compiled(`${HEADER}spec:\n  fallback: {uidRange: "100000-165535"}\n`);
    const resolution = noAllocation.resolveIdDefaultsWithWarnings(ns('t', {}, { 'secure-defaults.io/uid-range': '1000010000-1000019999' }));
    expect(resolution.defaults?.source).toBe('spec.fallback');
    expect(resolution.warnings.join('\n')).toMatch(/has no spec.allocation/);
  });
});
