// spec.mode warn, and a mode per namespace rule (spec.namespaces[].mode, spec.fallback.mode)
// overriding spec.mode, in decideAdmission and in the policy parser.
import { describe, expect, it } from '@jest/globals';
import { decideAdmission, parsePolicy, type AdmissionDecision, type CompiledPolicy, type NamespaceInfo } from '../../src/engine/index.js';
import { POLICY_HEADER, applyPatch, namespace, policyWith } from './engine-fixtures.js';

type Json = Record<string, unknown>;

const BAD_POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'agent' },
  spec: { securityContext: { fsGroup: 5 }, containers: [{ name: 'agent', securityContext: { privileged: true } }, { name: 'app', securityContext: { runAsUser: 0 } }] },
};

function decide(policy: CompiledPolicy, ns: NamespaceInfo = namespace('payments'), pod: unknown = BAD_POD): AdmissionDecision {
  return decideAdmission({ policy, namespace: ns, pod, target: 'pod' });
}

describe('spec.mode: warn', () => {
  const warn = policyWith('  mode: warn\n');
  const enforce = policyWith('  mode: enforce\n');
  const fill = policyWith('  mode: fill\n');

  it('admits what enforce refuses, with one warning per violation in the denial\'s wording', () => {
    const refused = decide(enforce);
    const warned = decide(warn);
    if (refused.allowed || !warned.allowed) throw new Error('expected enforce to deny and warn to admit');
    expect(refused.violations.map((v) => v.reason)).toEqual(['gidRange', 'privileged', 'uidRange']);
    for (const violation of refused.violations) {
      expect(refused.message).toContain(violation.message);
      expect(warned.warnings).toContain(`policy "test-policy" (warn mode) would deny this Pod in enforce mode: ${violation.message}`);
    }
    expect(warned.wouldDeny).toEqual(refused.violations);
    expect(warned.mode).toBe('warn');
  });

  it('fills exactly as fill mode does', () => {
    const warned = decide(warn);
    const filled = decide(fill);
    if (!warned.allowed || !filled.allowed) throw new Error('expected both admitted');
    expect(warned.patch).toEqual(filled.patch);
    expect(warned.warnings.filter((w) => !w.includes('(warn mode)'))).toEqual(filled.warnings);
    // Fill mode says nothing of enforce, but the would-deny list is there for `audit`.
    expect(filled.warnings.some((w) => w.includes('would deny'))).toBe(false);
    expect(filled.wouldDeny).toEqual(warned.wouldDeny);
  });

  it('a compliant Pod gets no would-deny warning', () => {
    const decision = decide(warn, namespace('payments'), { metadata: { name: 'ok' }, spec: { containers: [{ name: 'app' }] } });
    expect(decision.allowed && [decision.warnings, decision.wouldDeny]).toEqual([[], []]);
  });

  it('sums up past 20 violations in one warning, however many containers the Pod has', () => {
    const containers = Array.from({ length: 300 }, (_, i) => ({ name: `c${i}`, securityContext: { privileged: true } }));
    const decision = decide(warn, namespace('payments'), { spec: { containers } });
    if (!decision.allowed) throw new Error('warn mode never denies');
    const wouldDeny = decision.warnings.filter((w) => w.includes('(warn mode)'));
    expect(wouldDeny).toHaveLength(21);
    expect(wouldDeny[20]).toMatch(/and 280 more violations$/);
    expect(decision.wouldDeny).toHaveLength(300);
  });
});

describe('a mode per namespace rule', () => {
  const policy = policyWith('', { rules: false });
  const rules = (text: string): CompiledPolicy => {
    const result = parsePolicy(`${POLICY_HEADER}spec:\n${text}`);
    if (!result.ok) throw new Error(result.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
    return result.policy;
  };
  const rollout = rules(
    [
      '  mode: fill',
      '  namespaces:',
      '    - names: ["strict-*"]',
      '      uidRange: "10000-19999"',
      '      mode: enforce',
      '    - selector: {matchLabels: {rollout: warn}}',
      '      uidRange: "20000-29999"',
      '      mode: warn',
      '    - names: ["legacy"]',
      '      mode: warn',
      '    - names: ["plain"]',
      '      uidRange: "30000-39999"',
      '  fallback:',
      '    uidRange: "100000-165535"',
      '    mode: warn',
    ].join('\n') + '\n',
  );

  it.each([
    ['a rule in enforce mode refuses', namespace('strict-a'), false, 'enforce'],
    ['a rule matched by label in warn mode admits', namespace('team', { rollout: 'warn' }), true, 'warn'],
    ['a rule without its own mode follows spec.mode', namespace('plain'), true, 'fill'],
    ['a namespace matching no rule follows spec.fallback.mode', namespace('elsewhere'), true, 'warn'],
  ])('%s', (_label, ns, allowed, mode) => {
    const decision = decide(rollout, ns);
    expect([decision.allowed, decision.mode]).toEqual([allowed, mode]);
  });

  it('a rule with only a mode takes its IDs from the fallback (or the allocated block)', () => {
    const decision = decide(rollout, namespace('legacy'), { spec: { containers: [{ name: 'app' }] } });
    if (!decision.allowed) throw new Error('expected admitted');
    const out = applyPatch({ spec: { containers: [{ name: 'app' }] } }, decision.patch);
    expect(((out.spec as Json)['securityContext'] as Json)['runAsUser']).toBe(100000);
    expect(decision.mode).toBe('warn');
    const allocated = rules('  allocation: {range: "1000000000-1999999999"}\n  namespaces:\n    - names: [legacy]\n      mode: enforce\n');
    expect(allocated.resolveIdDefaultsWithWarnings(namespace('legacy', {}, { 'secure-defaults.io/uid-range': '1000010000-1000019999' }))).toMatchObject({
      defaults: { uidRange: { min: 1000010000 } },
      mode: 'enforce',
      modeSource: 'spec.namespaces[0].mode',
    });
  });

  it('a fallback with only a mode sets the mode of unmatched namespaces and gives them no IDs', () => {
    const modeOnly = rules('  namespaces:\n    - names: [a]\n      uidRange: "10000-19999"\n  fallback: {mode: enforce}\n');
    expect(modeOnly.resolveIdDefaultsWithWarnings(namespace('b'))).toMatchObject({ defaults: null, mode: 'enforce', modeSource: 'spec.fallback.mode' });
    expect(modeOnly.resolveIdDefaultsWithWarnings(namespace('a'))).toMatchObject({ mode: 'fill', modeSource: 'spec.mode' });
  });

  it('spec.mode applies where nothing overrides it', () => {
    expect(decide(policy, namespace('x')).mode).toBe('fill');
  });
});

describe('parsing modes and keepRequestedPrivileges', () => {
  const errorsOf = (spec: string): string[] => {
    const result = parsePolicy(`${POLICY_HEADER}spec:\n${spec}`);
    return result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`);
  };
  it.each([
    ['a typo in a rule\'s mode', '  namespaces:\n    - names: [a]\n      uidRange: "10000-19999"\n      mode: warning\n', 'spec.namespaces[0].mode: the string "warning" is not allowed; did you mean "warn"?'],
    ['a typo in the fallback\'s mode', '  fallback: {uidRange: "10000-19999", mode: enforcing}\n', 'spec.fallback.mode: the string "enforcing" is not allowed; did you mean "enforce"?'],
    ['a mode that is not a string', '  mode: 3\n', 'spec.mode: the number 3 is not allowed; use one of "fill", "warn", "enforce"'],
    ['a rule with neither IDs nor mode', '  namespaces:\n    - names: [a]\n', 'spec.namespaces[0].uidRange: required'],
    ['keepRequestedPrivileges not a boolean', '  defaults: {keepRequestedPrivileges: "yes"}\n', 'spec.defaults.keepRequestedPrivileges: expected true or false'],
  ])('%s', (_label, spec, error) => {
    expect(errorsOf(spec).join('\n')).toContain(error);
  });

  it('keepRequestedPrivileges: false is valid, with a warning that Pods may then fail', () => {
    const result = parsePolicy(`${POLICY_HEADER}spec:\n  defaults: {keepRequestedPrivileges: false}\n`);
    expect(result.ok && result.warnings.join('\n')).toMatch(/keepRequestedPrivileges is false: .* may then fail on the node/);
  });
});
