// The golden Pod Security cases (golden/*.yaml), shared by the engine's golden test and the e2e
// test that asks a real kube-apiserver's Pod Security Admission for its verdict on the same Pods.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { PodSecurityLevel, PssVersion } from '../../../src/engine/restricted/index.js';

/** A case without a version of its own holds at each of these (Kubernetes 1.35 to 1.37, and latest). */
export const GOLDEN_VERSIONS: readonly PssVersion[] = ['v1.35', 'v1.36', 'v1.37', 'latest'];

export interface GoldenCase {
  readonly name: string;
  /** Only at this policy version (a case about a rule that changed); else at every GOLDEN_VERSIONS. */
  readonly version?: PssVersion;
  readonly pod: unknown;
  readonly pass?: true;
  readonly fail?: { readonly message: string; readonly paths: readonly string[] };
}

export interface GoldenFile {
  readonly file: string;
  readonly check: string;
  readonly level: PodSecurityLevel;
  readonly cases: readonly GoldenCase[];
}

export const GOLDEN_DIR = fileURLToPath(new URL('./golden/', import.meta.url));

export function readGoldenFiles(): GoldenFile[] {
  return readdirSync(GOLDEN_DIR)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => ({ file, ...(parse(readFileSync(GOLDEN_DIR + file, 'utf8')) as Omit<GoldenFile, 'file'>) }));
}

export function versionsOf(goldenCase: GoldenCase): readonly PssVersion[] {
  return goldenCase.version !== undefined ? [goldenCase.version] : GOLDEN_VERSIONS;
}
