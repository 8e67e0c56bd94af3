// The webhook tells a Pod's author what the namespace's Pod Security Admission will still refuse
// after hardening, at the profile and policy version the namespace's enforce labels select.
import { describe, expect, it } from '@jest/globals';
import { decideAdmission, type AdmissionDecision } from '../../src/engine/index.js';
import { enforcedProfile, podSecurityWarnings } from '../../src/engine/pod-security-warnings.js';
import { namespace, policyWith } from './engine-fixtures.js';

type Json = Record<string, unknown>;

const ENFORCE = 'pod-security.kubernetes.io/enforce';
const VERSION = 'pod-security.kubernetes.io/enforce-version';

function warningsFor(spec: Json, labels: Record<string, string>): readonly string[] {
  const decision: AdmissionDecision = decideAdmission({
    policy: policyWith(),
    namespace: namespace('payments', labels),
    pod: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec },
    target: 'pod',
  });
  if (!decision.allowed) throw new Error(decision.message);
  return decision.warnings.filter((warning) => warning.includes('Pod Security'));
}

// Root in its own user namespace: the hardener keeps UID 0 and, root by its own settings, the
// capabilities it has (never break a workload), so this one drops them itself; whether PSA accepts
// it depends on the policy version.
const USERNS_ROOT = {
  hostUsers: false,
  securityContext: { runAsUser: 0 },
  containers: [{ name: 'app', image: 'nginx', securityContext: { capabilities: { drop: ['ALL'] } } }],
};

describe('Pod Security warnings after hardening', () => {
  it.each([
    ['no enforce label: nothing to predict', {}, []],
    ['privileged: nothing enforced', { [ENFORCE]: 'privileged' }, []],
    ['restricted latest exempts root in a user namespace', { [ENFORCE]: 'restricted' }, []],
    ['restricted v1.35 exempts it too', { [ENFORCE]: 'restricted', [VERSION]: 'v1.35' }, []],
    [
      'restricted v1.34 refuses it',
      { [ENFORCE]: 'restricted', [VERSION]: 'v1.34' },
      [
        'Pod Security "restricted:v1.34" (namespace "payments") will refuse this Pod: runAsNonRoot != true at spec.containers[0].securityContext.runAsNonRoot: pod or container "app" must set securityContext.runAsNonRoot=true',
        'Pod Security "restricted:v1.34" (namespace "payments") will refuse this Pod: runAsUser=0 at spec.securityContext.runAsUser: pod must not set runAsUser=0',
      ],
    ],
    ['baseline v1.34 does not check runAsUser', { [ENFORCE]: 'baseline', [VERSION]: 'v1.34' }, []],
  ])('%s', (_name, labels, expected) => {
    expect(warningsFor(USERNS_ROOT, labels)).toEqual(expected);
  });

  it('root in a user namespace keeps the capabilities it has, which restricted refuses at any version', () => {
    expect(warningsFor({ ...USERNS_ROOT, containers: [{ name: 'app', image: 'nginx' }] }, { [ENFORCE]: 'restricted' })).toEqual([
      'Pod Security "restricted:latest" (namespace "payments") will refuse this Pod: unrestricted capabilities at spec.containers[0].securityContext.capabilities.drop: container "app" must set securityContext.capabilities.drop=["ALL"]',
    ]);
  });

  it('a fully hardened Pod gets no warning in a restricted namespace', () => {
    expect(warningsFor({ containers: [{ name: 'app', image: 'nginx' }] }, { [ENFORCE]: 'restricted' })).toEqual([]);
  });

  it('what hardening must leave (host network, privilege) is named, with the path', () => {
    const warnings = warningsFor(
      { hostNetwork: true, containers: [{ name: 'app', image: 'nginx', securityContext: { privileged: true } }] },
      { [ENFORCE]: 'baseline' },
    );
    expect(warnings).toEqual([
      'Pod Security "baseline:latest" (namespace "payments") will refuse this Pod: host namespaces at spec.hostNetwork: pod must not set hostNetwork=true',
      'Pod Security "baseline:latest" (namespace "payments") will refuse this Pod: privileged at spec.containers[0].securityContext.privileged: container "app" must not set securityContext.privileged=true',
    ]);
  });

  it('unreadable labels are read as PSA reads them: level restricted, version latest, and said so', () => {
    expect(enforcedProfile(namespace('n', { [ENFORCE]: 'strict', [VERSION]: 'one-point-35' }))).toEqual({
      level: 'restricted',
      version: 'latest',
      notes: [
        'label pod-security.kubernetes.io/enforce: "strict" is not privileged, baseline or restricted; Pod Security Admission enforces restricted',
        'label pod-security.kubernetes.io/enforce-version: "one-point-35" is not a Pod Security Standards version: use "latest" or "v1.<minor>", e.g. "v1.35"; Pod Security Admission enforces latest',
      ],
    });
  });

  it('warnings stay short and few however many containers fail (the API server cuts long ones)', () => {
    const containers = Array.from({ length: 2_000 }, (_, i) => ({
      name: `c${i}`,
      image: 'nginx',
      securityContext: { privileged: true, procMount: 'Unmasked', seLinuxOptions: { type: 'spc_t' }, capabilities: { add: ['NET_ADMIN'] } },
    }));
    const spec = { hostNetwork: true, hostPID: true, volumes: [{ name: 'h', hostPath: { path: '/' } }], containers };
    const { texts: warnings, reasons } = podSecurityWarnings(namespace('n', { [ENFORCE]: 'restricted' }), { spec });
    expect(warnings.length).toBe(6);
    expect(reasons).toEqual(Array.from({ length: 6 }, () => 'pod-security-will-refuse'));
    for (const warning of warnings) expect(warning.length).toBeLessThanOrEqual(256);
    expect(warnings.at(-1)).toMatch(/will also refuse it for \d+ more reasons \(secure-defaults check --pss-version latest lists them all\)$/);
  });
});
