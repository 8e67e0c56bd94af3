// Regression corpus: ~100 Pod templates from real public manifests (../shared/corpus relative to
// the project root), hardened with policies/default.yaml. In CI its absence fails the suite;
// elsewhere the test is skipped with a note.
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { checkRestricted, hardenManifest, INJECTED_ANNOTATION, parsePolicy, type CompiledPolicy } from '../../src/engine/index.js';
import { refusedCombinations } from './api-server-rules.js';
import { applyPatch, namespace } from './engine-fixtures.js';
import { changedLeaves, valueAt } from './json-leaves.js';
import { brokenPromises } from './never-break.js';

type Json = Record<string, unknown>;

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CORPUS = fileURLToPath(new URL('../shared/corpus/', `file://${PROJECT_ROOT}`));
const TEMPLATE_POINTERS: Record<string, string> = { Pod: '', CronJob: '/spec/jobTemplate/spec/template' };
const CHECKS_THE_ENGINE_FILLS = ['runAsNonRoot', 'seccompProfile', 'allowPrivilegeEscalation', 'capabilities', 'runAsUser'];

interface CorpusManifest {
  readonly file: string;
  readonly index: number;
  readonly object: Json;
}

function loadCorpus(): CorpusManifest[] {
  return readdirSync(CORPUS)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(`${CORPUS}${file}`, 'utf8'))
        .map((document, index) => ({ file, index, object: document.toJS() as unknown }))
        .filter((entry): entry is CorpusManifest => typeof entry.object === 'object' && entry.object !== null && !Array.isArray(entry.object)),
    );
}

function templatePointer(kind: unknown): string {
  return TEMPLATE_POINTERS[String(kind)] ?? '/spec/template';
}

function mentionsSecurityContext(template: unknown): boolean {
  return JSON.stringify(template).includes('"securityContext"');
}

/** Host namespaces or hostPath volumes: such a template can never pass even "baseline". */
function usesNode(template: Json): boolean {
  const spec = (template['spec'] ?? {}) as Json;
  const volumes = Array.isArray(spec['volumes']) ? (spec['volumes'] as Json[]) : [];
  return spec['hostNetwork'] === true || spec['hostPID'] === true || spec['hostIPC'] === true || volumes.some((v) => v['hostPath'] !== undefined);
}

const corpusPresent = existsSync(CORPUS);
const MISSING = 'the regression corpus (../shared/corpus, beside the project folder) is missing';
const inCi = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false';
if (!corpusPresent && !inCi) console.warn(`engine corpus test skipped: ${MISSING}; put the corpus there to run it`);
const describeCorpus = corpusPresent ? describe : describe.skip;

describe('regression corpus', () => {
  // A CI job that lost its checkout of the corpus must not go green with none of it tested.
  (inCi ? it : it.skip)('is present when running in CI', () => {
    if (!corpusPresent) throw new Error(`${MISSING}; CI must check it out (CI is set)`);
  });
});

describeCorpus('regression corpus hardened with policies/default.yaml', () => {
  const parsed = parsePolicy(readFileSync(`${PROJECT_ROOT}policies/default.yaml`, 'utf8'));
  if (!parsed.ok) throw new Error('policies/default.yaml does not parse');
  const policy: CompiledPolicy = parsed.policy;
  const ns = namespace('corpus');
  const manifests = corpusPresent ? loadCorpus() : [];
  const hardened = manifests
    .map((manifest) => ({ ...manifest, result: hardenManifest(policy, ns, manifest.object) }))
    .filter((entry) => !(entry.result.ok === false && entry.result.error.startsWith('unsupported kind')));
  const cases = hardened.map((entry) => [`${entry.file}#${entry.index} ${String(entry.object['kind'])}`, entry] as const);

  it('holds about 100 Pod templates', () => {
    expect(hardened.length).toBeGreaterThanOrEqual(90);
  });

  it.each(cases)('%s', (_name, { object, result }) => {
    if (!result.ok) throw new Error(result.error);
    const out = result.object as Json;
    // The patch, applied to the manifest as written, gives exactly the hardened copy.
    expect(applyPatch(object, result.patch)).toEqual(out);
    // Idempotent.
    const again = hardenManifest(policy, ns, out);
    expect(again.ok && again.patch).toEqual([]);
    // Explicit values untouched.
    const pointer = templatePointer(object['kind']);
    expect(changedLeaves(object, out, (p) => p === `${pointer}/metadata/annotations/${INJECTED_ANNOTATION.replace('/', '~1')}`)).toEqual([]);
    // Nothing the API server would refuse that was not there already.
    const before = valueAt(object, pointer) as Json;
    const after = valueAt(out, pointer) as Json;
    const annotations = (t: Json) => (t['metadata'] as Json | undefined)?.['annotations'];
    const introduced = refusedCombinations(after['spec'], annotations(after)).filter((p) => !refusedCombinations(before['spec'], annotations(before)).includes(p));
    expect(introduced).toEqual([]);
    // Privileged, root and node-using containers keep what they asked for.
    expect(brokenPromises(before['spec'], after['spec'])).toEqual([]);
    // A template that set no securityContext at all and does not use the node now passes every
    // check the engine fills in (one that uses the node keeps its image's user; see policies/README.md).
    if (!mentionsSecurityContext(before) && !usesNode(before) && result.skipped === undefined) {
      const findings = checkRestricted(after).filter((finding) => CHECKS_THE_ENGINE_FILLS.includes(finding.check));
      expect(findings).toEqual([]);
    }
  });

  it('leaves out identity and capability defaults only where a container asked for privilege, root or the node', () => {
    const leftOut = hardened.flatMap((entry) => (entry.result.ok ? entry.result.leftOut.map((l) => `${entry.file} ${l.path} ${l.reason}`) : []));
    // kube-router (privileged) and its install-cni init container (hostPath) among them.
    expect(leftOut.filter((l) => l.includes('kube-router'))).toEqual(
      expect.arrayContaining([expect.stringMatching(/initContainers\[0\] usesNode$/), expect.stringMatching(/\.containers\[0\] privileged$/)]),
    );
    const ordinary = hardened.filter((entry) => entry.result.ok && entry.result.leftOut.length === 0);
    expect(ordinary.length).toBeGreaterThan(hardened.length / 2);
  });

  it('skips the Windows HostProcess DaemonSets', () => {
    const windows = hardened.filter((entry) => entry.file.includes('sig-windows-tools__hostprocess'));
    expect(windows.length).toBeGreaterThan(0);
    for (const entry of windows) expect(entry.result.ok && entry.result.skipped).toMatch(/^Windows Pod/);
  });
});
