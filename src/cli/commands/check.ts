// `secure-defaults check`: what the Pod Security "restricted" profile would refuse in each Pod
// template, before and after hardening, and what the webhook would refuse under the policy's
// mode. Exit status 1 when something still fails restricted or the webhook would deny it.
import { Option } from 'commander';
import type { Command } from 'commander';
import type { Violation } from '../../engine/model.js';
import type { RestrictedFinding } from '../../engine/restricted/index.js';
import type { CommandDeps, ExitCodeSink } from '../command-deps.js';
import { hardenStream, writeStreamNotes } from '../harden-stream.js';
import { addHardeningOptions } from '../hardening-options.js';
import type { HardeningOptions } from '../hardening-options.js';
import type { ManifestItem } from '../manifest-stream.js';
import { EXIT_FINDINGS, EXIT_OK, UserError } from '../user-error.js';
import { podTemplateOf } from '../../engine/index.js';

export const CHECK_OUTPUTS = ['text', 'json'] as const;
export type CheckOutput = (typeof CHECK_OUTPUTS)[number];

export interface CheckOptions extends HardeningOptions {
  readonly output: CheckOutput;
}

export interface WorkloadReport {
  readonly item: ManifestItem;
  readonly namespace: string;
  /** Findings with paths from the object's root, e.g. "spec.template.spec.hostNetwork". */
  readonly before: readonly RestrictedFinding[];
  readonly after: readonly RestrictedFinding[];
  readonly injected: readonly string[];
  readonly warnings: readonly string[];
  /** Why the engine left the Pod template alone, when it did. */
  readonly skipped: string | undefined;
  /** What the webhook would refuse: enforce mode denies the Pods, warn mode only warns. */
  readonly refusals: readonly { readonly mode: 'enforce' | 'warn'; readonly violation: Violation }[];
}

function findingsAt(deps: CommandDeps, item: ManifestItem, object: unknown): RestrictedFinding[] {
  const template = podTemplateOf(item.apiVersion, item.kind, object);
  if (template === undefined) {
    return [];
  }
  return deps.engine.checkRestricted(template.podLike).map((finding) => ({
    ...finding,
    path: template.pathPrefix + finding.path,
    paths: finding.paths.map((path) => template.pathPrefix + path),
  }));
}

function renderText(reports: readonly WorkloadReport[], skipped: readonly ManifestItem[]): string {
  const lines: string[] = [];
  for (const report of reports) {
    lines.push(`${report.item.label}  (namespace ${report.namespace})`);
    const width = Math.max(0, ...[...report.before, ...report.after].map((f) => f.check.length));
    for (const finding of report.before) {
      lines.push(`  before  ${finding.check.padEnd(width)}  ${finding.message}`);
    }
    if (report.before.length === 0) {
      lines.push('  before  passes restricted');
    }
    for (const finding of report.after) {
      lines.push(`  after   ${finding.check.padEnd(width)}  ${finding.message}  [${finding.path}]`);
    }
    if (report.after.length === 0) {
      lines.push('  after   passes restricted');
    }
    for (const refusal of report.refusals) {
      lines.push(`  ${refusal.mode === 'enforce' ? 'denied ' : 'warned '} ${refusal.violation.message}  [${refusal.violation.path}]`);
    }
    if (report.skipped !== undefined) {
      lines.push(`  note    left unchanged: ${report.skipped}`);
    }
    // The refusals' text is among the engine's warnings too; shown once, above.
    for (const warning of report.warnings.filter((w) => !w.startsWith('enforce mode would deny: '))) {
      lines.push(`  warning ${warning}`);
    }
    lines.push('');
  }
  const counts = countsOf(reports);
  const skippedNote = skipped.length > 0 ? ` (${skipped.length} other ${skipped.length === 1 ? 'object' : 'objects'} skipped: not workloads)` : '';
  lines.push(
    counts.failRestricted === 0
      ? `${reports.length} of ${reports.length} Pod templates pass the restricted profile after hardening${skippedNote}.`
      : `${counts.failRestricted} of ${reports.length} Pod templates still fail the restricted profile after hardening: fix the fields marked "after"${skippedNote}.`,
  );
  if (counts.denied > 0) lines.push(`${counts.denied} of ${reports.length} Pod templates would be denied by the webhook (enforce mode): fix the fields marked "denied".`);
  if (counts.warned > 0) lines.push(`${counts.warned} of ${reports.length} Pod templates would be warned about by the webhook (warn mode): enforce mode would deny them.`);
  return `${lines.join('\n')}\n`;
}

export interface CheckCounts {
  /** Pod templates still failing restricted after hardening. */
  readonly failRestricted: number;
  /** Pod templates the webhook would deny (enforce mode). */
  readonly denied: number;
  /** Pod templates the webhook would warn about (warn mode). */
  readonly warned: number;
}

export function countsOf(reports: readonly WorkloadReport[]): CheckCounts {
  return {
    failRestricted: reports.filter((r) => r.after.length > 0).length,
    denied: reports.filter((r) => r.refusals.some((x) => x.mode === 'enforce')).length,
    warned: reports.filter((r) => r.refusals.some((x) => x.mode === 'warn')).length,
  };
}

function renderJson(reports: readonly WorkloadReport[], skipped: readonly ManifestItem[]): string {
  const toJson = (report: WorkloadReport) => ({
    apiVersion: report.item.apiVersion,
    kind: report.item.kind,
    name: report.item.name,
    namespace: report.namespace,
    location: report.item.location,
    passesAfterHardening: report.after.length === 0,
    before: report.before,
    after: report.after,
    injected: report.injected,
    warnings: report.warnings,
    refusals: report.refusals.map((r) => ({ mode: r.mode, path: r.violation.path, message: r.violation.message })),
    ...(report.skipped !== undefined ? { skipped: report.skipped } : {}),
  });
  const skippedJson = skipped.map((item) => ({ apiVersion: item.apiVersion, kind: item.kind, name: item.name, location: item.location }));
  const counts = countsOf(reports);
  const document = { passed: counts.failRestricted === 0 && counts.denied === 0, counts, workloads: reports.map(toJson), skipped: skippedJson };
  return `${JSON.stringify(document, null, 2)}\n`;
}

export async function runCheck(deps: CommandDeps, options: CheckOptions): Promise<number> {
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
      before: findingsAt(deps, outcome.item, outcome.item.object),
      after: findingsAt(deps, outcome.item, outcome.object),
      injected: outcome.injected,
      warnings: outcome.warnings,
      skipped: outcome.skipped,
      refusals: outcome.refusals,
    });
  }
  if (reports.length === 0) {
    const source = options.filename.map((f) => (f === '-' ? 'stdin' : f)).join(', ');
    throw new UserError(`${source}: no Pods or workloads to check (found only ${[...new Set(skipped.map((item) => item.kind))].join(', ')})`);
  }
  writeStreamNotes(deps.io, stream);
  deps.io.writeStdout(options.output === 'json' ? renderJson(reports, skipped) : renderText(reports, skipped));
  const counts = countsOf(reports);
  return counts.failRestricted > 0 || counts.denied > 0 ? EXIT_FINDINGS : EXIT_OK;
}

export function registerCheckCommand(program: Command, deps: CommandDeps, exitWith: ExitCodeSink): void {
  const command = program
    .command('check')
    .description(
      'Report, per Pod template, what the Pod Security Standards "restricted" profile would refuse before ' +
        'and after hardening, and what the webhook would refuse under the policy (enforce mode denies, warn mode warns), counted apart.',
    );
  addHardeningOptions(command)
    .addOption(new Option('-o, --output <format>', 'text for people, json for machines').choices(CHECK_OUTPUTS).default('text'))
    .addHelpText(
      'after',
      '\nExit status:\n  0  all clear: every Pod template passes restricted after hardening and the webhook would deny none (warn-mode warnings do not fail)\n  1  something still fails restricted after hardening, or the webhook would deny it (enforce mode)\n  2  bad input: unreadable file, invalid YAML, invalid policy, no workload',
    )
    .action(async (options: CheckOptions) => {
      exitWith(await runCheck(deps, options));
    });
}
