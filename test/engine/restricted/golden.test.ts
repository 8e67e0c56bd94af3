// Golden pass/fail cases, one YAML file per check (golden/<check>[-<level>].yaml): each case is a
// small Pod that either passes the check or fails it with exactly the given message and paths, at
// the policy version the case names, or else at every version of the supported Kubernetes releases
// (GOLDEN_VERSIONS). test/e2e/pss-oracle.test.ts asks a real kube-apiserver the same questions.
import { describe, expect, it } from '@jest/globals';
import { checkPodSecurity } from '../../../src/engine/restricted/index.js';
import { readGoldenFiles, versionsOf } from './golden-files.js';

describe.each(readGoldenFiles().map((golden) => [golden.file, golden] as const))('golden %s', (_file, golden) => {
  it('has at least one passing and one failing case', () => {
    expect(golden.cases.some((c) => c.pass === true)).toBe(true);
    expect(golden.cases.some((c) => c.fail !== undefined)).toBe(true);
  });

  it.each(golden.cases.flatMap((c) => versionsOf(c).map((version) => [c.name, version, c] as const)))('%s (%s)', (_name, version, goldenCase) => {
    const findings = checkPodSecurity(goldenCase.pod, golden.level, version).filter((f) => f.check === golden.check);
    if (goldenCase.pass === true) {
      expect(findings).toEqual([]);
      return;
    }
    expect(goldenCase.fail).toBeDefined();
    expect(findings).toHaveLength(1);
    const [finding] = findings;
    expect(finding?.message).toBe(goldenCase.fail?.message);
    expect(finding?.paths).toEqual(goldenCase.fail?.paths);
    expect(finding?.path).toBe(goldenCase.fail?.paths[0]);
  });
});
