// Runs the real helm binary (built once by ensure-helm.sh) against charts/secure-defaults and
// parses what it renders. No helm means a failed test with the reason, never a skipped one.
import { execFile, execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(HERE, '..', '..');
export const CHART_DIR = join(REPO_ROOT, 'charts', 'secure-defaults');
const ENSURE_HELM = join(HERE, 'ensure-helm.sh');
/** Helm built with `go install` reports Kubernetes v1.20 unless told; the chart needs >= 1.35 (the oldest supported release). */
export const KUBE_VERSION = '1.35.0';

export type Manifest = Record<string, any>;

let helmPath: string | undefined;

/** The helm binary, building it on first use (a few minutes; CI can run ensure-helm.sh first). */
export function locateHelm(): string {
  if (helmPath !== undefined) return helmPath;
  try {
    const out = execFileSync('bash', [ENSURE_HELM], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30 * 60 * 1000 });
    helmPath = out.trim().split('\n').pop() ?? '';
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(
      `helm is needed to test the chart and could not be built by ${ENSURE_HELM} (needs Go and the Go module proxy): ${(error as Error).message}\n${stderr.slice(-3000)}`,
    );
  }
  return helmPath;
}

export interface HelmResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runHelm(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<HelmResult> {
  const helm = locateHelm();
  return new Promise((resolvePromise) => {
    execFile(helm, [...args], { env: { ...process.env, ...env }, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** `--set`-style overrides as a flat list: ['replicas=3', 'certManager.enabled=true']. */
export async function renderChart(options: { namespace?: string; release?: string; set?: readonly string[]; values?: string } = {}): Promise<Manifest[]> {
  const result = await renderChartRaw(options);
  if (result.code !== 0) throw new Error(`helm template failed (${result.code}): ${result.stderr}`);
  return parseManifests(result.stdout);
}

export function renderChartRaw(
  options: { namespace?: string; release?: string; set?: readonly string[]; values?: string; kubeVersion?: string } = {},
): Promise<HelmResult> {
  const args = ['template', options.release ?? 'sd', CHART_DIR, '--namespace', options.namespace ?? 'secure-defaults', '--kube-version', options.kubeVersion ?? KUBE_VERSION];
  for (const pair of options.set ?? []) args.push('--set', pair);
  if (options.values !== undefined) args.push('--values', options.values);
  return runHelm(args);
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${document.errors[0]?.message}`);
      return document.toJS() as Manifest | null;
    })
    .filter((manifest): manifest is Manifest => manifest !== null && typeof manifest === 'object');
}

export function findOne(manifests: readonly Manifest[], kind: string): Manifest {
  const found = manifests.filter((manifest) => manifest['kind'] === kind);
  if (found.length !== 1) throw new Error(`expected exactly one ${kind}, rendered ${found.length}`);
  return found[0]!;
}
