import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { checkBaseline, checkRestricted } from '../../../src/engine/restricted/index.js';

const compliantPod = {
  metadata: { name: 'web' },
  spec: {
    securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: 'app',
        image: 'nginx',
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      },
    ],
    volumes: [{ name: 'tmp', emptyDir: {} }],
  },
};

const bareLinuxPod = { spec: { containers: [{ name: 'app', image: 'nginx' }] } };

describe('checkRestricted', () => {
  it('passes a Pod that sets everything the restricted profile asks for', () => {
    expect(checkRestricted(compliantPod)).toEqual([]);
  });

  it('names the four restricted defaults a bare Pod lacks, in PSA order (its check ids sorted: capabilities_restricted before runAsNonRoot)', () => {
    const findings = checkRestricted(bareLinuxPod);
    expect(findings.map((f) => f.check)).toEqual([
      'allowPrivilegeEscalation',
      'capabilities',
      'runAsNonRoot',
      'seccompProfile',
    ]);
    expect(findings.every((f) => f.level === 'restricted')).toBe(true);
  });

  it('skips the Linux-only checks for a Windows Pod but still requires runAsNonRoot', () => {
    const windowsPod = { spec: { os: { name: 'windows' }, containers: [{ name: 'app' }] } };
    expect(checkRestricted(windowsPod).map((f) => f.check)).toEqual(['runAsNonRoot']);
  });

  it('reports a hostPath volume through restrictedVolumes only (it overrides hostPathVolumes)', () => {
    const pod = { ...compliantPod, spec: { ...compliantPod.spec, volumes: [{ name: 'h', hostPath: { path: '/' } }] } };
    expect(checkRestricted(pod).map((f) => f.check)).toEqual(['restrictedVolumes']);
    expect(checkBaseline(pod).map((f) => f.check)).toEqual(['hostPathVolumes']);
  });

  it('includes baseline findings, tagged with their level', () => {
    const pod = { ...compliantPod, spec: { ...compliantPod.spec, hostNetwork: true } };
    expect(checkRestricted(pod)).toEqual([
      {
        check: 'hostNamespaces',
        level: 'baseline',
        reason: 'host namespaces',
        path: 'spec.hostNetwork',
        paths: ['spec.hostNetwork'],
        message: 'pod must not set hostNetwork=true',
      },
    ]);
  });

  it('checks a Deployment Pod template the same as a Pod', () => {
    const template = { metadata: { labels: { app: 'web' } }, spec: compliantPod.spec };
    expect(checkRestricted(template)).toEqual([]);
  });

  it.each([
    ['null', null],
    ['a string', 'kind: Pod'],
    ['an array', [compliantPod]],
    ['an object without spec', { metadata: {} }],
    ['a spec that is a list', { spec: [] }],
  ])('reports one podSpec finding for %s instead of throwing', (_label, input) => {
    expect(checkRestricted(input)).toEqual([
      expect.objectContaining({ check: 'podSpec', path: 'spec' }),
    ]);
  });

  it('reads fields of the wrong type as unset rather than crashing', () => {
    const pod = { spec: { containers: 'app', initContainers: [null, 7], securityContext: 'x', volumes: {} } };
    expect(checkRestricted(pod)).toEqual([]);
  });

  it('names unnamed containers by their position', () => {
    const findings = checkRestricted({ spec: { containers: [{ securityContext: { privileged: true } }] } });
    expect(findings.find((f) => f.check === 'privileged')?.message).toBe(
      'container "containers[0]" must not set securityContext.privileged=true',
    );
  });
});

describe('checkBaseline', () => {
  it('does not apply restricted checks', () => {
    expect(checkBaseline(bareLinuxPod)).toEqual([]);
  });
});

describe('invariants', () => {
  const podLike = fc.record(
    {
      metadata: fc.anything(),
      spec: fc.oneof(
        fc.anything(),
        fc.record({
          containers: fc.array(fc.oneof(fc.anything(), fc.record({ name: fc.string(), securityContext: fc.anything() }))),
          initContainers: fc.anything(),
          securityContext: fc.anything(),
          volumes: fc.array(fc.anything()),
          hostUsers: fc.anything(),
          os: fc.anything(),
        }),
      ),
    },
    { requiredKeys: [] },
  );

  it('never throws, and every finding has a check, a path and a message', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything({ withNullPrototype: true, withObjectString: true }), podLike), (input) => {
        for (const finding of [...checkRestricted(input), ...checkBaseline(input)]) {
          expect(finding.check.length).toBeGreaterThan(0);
          expect(finding.path.length).toBeGreaterThan(0);
          expect(finding.message.length).toBeGreaterThan(0);
          expect(finding.paths).toContain(finding.path);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never modifies its input', () => {
    fc.assert(
      fc.property(podLike, (input) => {
        const before = JSON.stringify(input);
        checkRestricted(input);
        expect(JSON.stringify(input)).toBe(before);
      }),
    );
  });

  it('finds everything under restricted that baseline finds, except where a restricted check overrides it', () => {
    fc.assert(
      fc.property(podLike, (input) => {
        const restricted = new Set(checkRestricted(input).map((f) => f.check));
        for (const finding of checkBaseline(input)) {
          const overridden = finding.check === 'hostPathVolumes' ? 'restrictedVolumes' : finding.check;
          // A Windows Pod skips the restricted capabilities/seccomp checks, which replace the baseline ones.
          const windowsExempt = ['capabilities', 'seccompProfile'].includes(finding.check);
          if (!windowsExempt) {
            expect(restricted.has(overridden)).toBe(true);
          }
        }
      }),
    );
  });
});
