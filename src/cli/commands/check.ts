// `secure-defaults check`: what the Pod Security "restricted" profile (at --pss-version, default
// latest) would refuse in each Pod template, before and after hardening, and what the webhook
// itself would refuse where the namespace's rule is in enforce mode. Exit status 1 when something
// remains after hardening or the webhook would refuse the workload.
import { Option } from 'commander';
import type { Command } from 'commander';
import type { LeftOutDefault, PolicyMode, Violation } from '../../engine/model.js';
import { parsePssVersion, type PssVersion, type RestrictedFinding } from '../../engine/restricted/index.js';
import type { CommandDeps, ExitCodeSink } from '../command-deps.js';
import { hardenStream } from '../harden-stream.js';
import { addHardeningOptions } from '../hardening-options.js';
import type { HardeningOptions } from '../hardening-options.js';
import type { ManifestItem } from '../manifest-stream.js';
import { EXIT_FINDINGS, EXIT_OK, UserError } from '../user-error.js';
import { podTemplateOf } from '../../engine/index.js';

export const CHECK_OUTPUTS = ['text', 'json'] as const;
export type CheckOutput = (typeof CHECK_OUTPUTS)[number];

export interface CheckOptions extends HardeningOptions {
  readonly output: CheckOutput;
  /** "latest" or "v1.<minor>", as the pod-security.kubernetes.io/enforce-version label takes. */
  readonly pssVersion?: string;
}

export interface WorkloadReport {
  readonly item: ManifestItem;
  readonly namespace: string;
  /** Findings with paths from the object's root, e.g. "spec.template.spec.hostNetwork". */
  readonly before: readonly RestrictedFinding[];
  readonly after: readonly RestrictedFinding[];
  readonly injected: readonly string[];
  readonly warnings: readonly string[];
  /** The mode of the policy rule that matched the namespace. */
  readonly mode: PolicyMode;
  /** What enforce mode refuses (in enforce mode the webhook refuses the workload's Pods). */
  readonly wouldDeny: readonly Violation[];
  readonly leftOut: readonly LeftOutDefault[];
  /** Why the engine left the Pod template alone, when it did. */
  readonly skipped: string | undefined;
}

function refused(report: WorkloadReport): boolean {
  return report.mode === 'enforce' && report.wouldDeny.length > 0;
}

function fails(report: WorkloadReport): boolean {
  return report.after.length > 0 || refused(report);
}

function findingsAt(deps: CommandDeps, item: ManifestItem, object: unknown, version: PssVersion): RestrictedFinding[] {
  const template = podTemplateOf(item.apiVersion, item.kind, object);
  if (template === undefined) {
    return [];
  }
  return deps.engine.checkRestricted(template.podLike, version).map((finding) => ({
    ...finding,
    path: template.pathPrefix + finding.path,
    paths: finding.paths.map((path) => template.pathPrefix + path),
  }));
}

function renderText(reports: readonly WorkloadReport[], skipped: readonly ManifestItem[], version: PssVersion): string {
  // PSA names a pinned profile "restricted:v1.35"; latest stays plain "restricted".
  const profile = version === 'latest' ? 'restricted' : `restricted:${version}`;
  const lines: string[] = [];
  for (const report of reports) {
    lines.push(`${report.item.label}  (namespace ${report.namespace}, mode ${report.mode})`);
    const width = Math.max(0, ...[...report.before, ...report.after].map((f) => f.check.length));
    for (const finding of report.before) {
      lines.push(`  before  ${finding.check.padEnd(width)}  ${finding.message}`);
    }
    if (report.before.length === 0) {
      lines.push(`  before  passes ${profile}`);
    }
    for (const finding of report.after) {
      lines.push(`  after   ${finding.check.padEnd(width)}  ${finding.message}  [${finding.path}]`);
    }
    if (report.after.length === 0) {
      lines.push(`  after   passes ${profile}`);
    }
    if (refused(report)) {
      lines.push(`  denied  the webhook refuses its Pods (enforce mode): fix the ${report.wouldDeny.length === 1 ? 'violation' : `${report.wouldDeny.length} violations`} in the warnings below`);
    }
    if (report.skipped !== undefined) {
      lines.push(`  note    left unchanged: ${report.skipped}`);
    }
    for (const warning of report.warnings) {
      lines.push(`  warning ${warning}`);
    }
    lines.push('');
  }
  const failing = reports.filter((report) => report.after.length > 0).length;
  const denied = reports.filter(refused).length;
  const skippedNote = skipped.length > 0 ? ` (${skipped.length} other ${skipped.length === 1 ? 'object' : 'objects'} skipped: not workloads)` : '';
  lines.push(
    failing === 0
      ? `${reports.length} of ${reports.length} Pod templates pass the ${profile} profile after hardening${skippedNote}.`
      : `${failing} of ${reports.length} Pod templates still fail the ${profile} profile after hardening: fix the fields marked "after"${skippedNote}.`,
  );
  if (denied > 0) lines.push(`${denied} of ${reports.length} Pod templates would be refused by the webhook (enforce mode): fix the fields marked "denied".`);
  return `${lines.join('\n')}\n`;
}

function renderJson(reports: readonly WorkloadReport[], skipped: readonly ManifestItem[], version: PssVersion): string {
  const toJson = (report: WorkloadReport) => ({
    apiVersion: report.item.apiVersion,
    kind: report.item.kind,
    name: report.item.name,
    namespace: report.namespace,
    location: report.item.location,
    passesAfterHardening: report.after.length === 0,
    mode: report.mode,
    admitted: !refused(report),
    before: report.before,
    after: report.after,
    wouldDeny: report.wouldDeny,
    leftOut: report.leftOut,
    injected: report.injected,
    warnings: report.warnings,
    ...(report.skipped !== undefined ? { skipped: report.skipped } : {}),
  });
  const skippedJson = skipped.map((item) => ({ apiVersion: item.apiVersion, kind: item.kind, name: item.name, location: item.location }));
  const document = { passed: !reports.some(fails), pssVersion: version, workloads: reports.map(toJson), skipped: skippedJson };
  return `${JSON.stringify(document, null, 2)}\n`;
}

export async function runCheck(deps: CommandDeps, options: CheckOptions): Promise<number> {
  const parsedVersion = parsePssVersion(options.pssVersion ?? 'latest');
  if (!parsedVersion.ok) throw new UserError(`--pss-version: ${parsedVersion.error}`);
  const version = parsedVersion.resolved.version;
  if (parsedVersion.resolved.note !== undefined) deps.io.writeStderr(`warning: --pss-version: ${parsedVersion.resolved.note}\n`);
  const stream = await hardenStream(deps.io, deps.engine, options, deps.defaultPolicyPath);
  const reports: WorkloadReport[] = [];
  const skipped: ManifestItem[] = [];
  for (const outcome of stream.outcomes) {
    if (outcome.kind === 'passthrough') {
      skipped.push(outcome.item);
      continue;
    }
    reports.push({
      item: outcome.item,
      namespace: outcome.namespace,
      before: findingsAt(deps, outcome.item, outcome.item.object, version),
      after: findingsAt(deps, outcome.item, outcome.object, version),
      injected: outcome.injected,
      warnings: outcome.warnings,
      mode: outcome.mode,
      wouldDeny: outcome.wouldDeny,
      leftOut: outcome.leftOut,
      skipped: outcome.skipped,
    });
  }
  if (reports.length === 0) {
    const source = options.filename === '-' ? 'stdin' : options.filename;
    throw new UserError(`${source}: no Pods or workloads to check (found only ${[...new Set(skipped.map((item) => item.kind))].join(', ')})`);
  }
  for (const warning of stream.policyWarnings) {
    deps.io.writeStderr(`warning: policy: ${warning}\n`);
  }
  deps.io.writeStdout(options.output === 'json' ? renderJson(reports, skipped, version) : renderText(reports, skipped, version));
  return reports.some(fails) ? EXIT_FINDINGS : EXIT_OK;
}

export function registerCheckCommand(program: Command, deps: CommandDeps, exitWith: ExitCodeSink): void {
  const command = program
    .command('check')
    .description(
      'Report, per Pod template, what the Pod Security Standards "restricted" profile would refuse before ' +
        'and after hardening, in the mode of the namespace\'s policy rule. Exit status 1 when something is still ' +
        'refused after hardening or the webhook would refuse it (enforce mode), 0 otherwise.',
    );
  addHardeningOptions(command)
    .addOption(new Option('-o, --output <format>', 'text for people, json for machines').choices(CHECK_OUTPUTS).default('text'))
    .option(
      '--pss-version <version>',
      'Pod Security Standards version to check against, as the pod-security.kubernetes.io/enforce-version label takes it: latest or v1.<minor> (e.g. v1.35)',
      'latest',
    )
    .action(async (options: CheckOptions) => {
      exitWith(await runCheck(deps, options));
    });
}
