// Golden pass/fail cases, one YAML file per check (golden/<check>[-<level>].yaml): each case is a
// small Pod that either passes the check or fails it with exactly the given message and paths.
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { checkPodSecurity } from '../../../src/engine/restricted/index.js';
import type { PodSecurityLevel } from '../../../src/engine/restricted/index.js';

interface GoldenCase {
  name: string;
  pod: unknown;
  pass?: true;
  fail?: { message: string; paths: string[] };
}
interface GoldenFile {
  check: string;
  level: PodSecurityLevel;
  cases: GoldenCase[];
}

const goldenDir = fileURLToPath(new URL('./golden/', import.meta.url));
const files = readdirSync(goldenDir).filter((f) => f.endsWith('.yaml')).sort();

describe.each(files)('golden %s', (file) => {
  const golden = parse(readFileSync(goldenDir + file, 'utf8')) as GoldenFile;

  it('has at least one passing and one failing case', () => {
    expect(golden.cases.some((c) => c.pass === true)).toBe(true);
    expect(golden.cases.some((c) => c.fail !== undefined)).toBe(true);
  });

  it.each(golden.cases.map((c) => [c.name, c] as const))('%s', (_name, goldenCase) => {
    const findings = checkPodSecurity(goldenCase.pod, golden.level).filter((f) => f.check === golden.check);
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
