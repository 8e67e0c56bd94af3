// How an audit is written: a table per namespace for people (wide: every field and message), a
// streamed JSON or YAML document for tools, and one summary line per namespace. Each writer takes
// one namespace at a time, so nothing waits for the whole cluster.
import { stringify as toYaml } from 'yaml';
import type { NamespaceAudit, NamespaceSummary } from './cluster-audit.js';
import { isChange, type WorkloadAudit } from './workload-audit.js';

export const AUDIT_OUTPUTS = ['table', 'wide', 'json', 'yaml'] as const;
export type AuditOutput = (typeof AUDIT_OUTPUTS)[number];

export const FAIL_ON = ['deny', 'change', 'never'] as const;
export type FailOn = (typeof FAIL_ON)[number];

export interface AuditHeader {
  readonly policy: string;
  readonly policyMode: string;
  /** "ConfigMap secure-defaults/secure-defaults-policy" or "file policy.yaml". */
  readonly policySource: string;
  readonly assumeOptedIn: boolean;
  /** The webhook's objectSelector as kubectl writes it, or null when it sends every Pod. */
  readonly objectSelector: string | null;
  /** The webhook's namespaceSelector as kubectl writes it, or null when it was not read (or sends every namespace). */
  readonly namespaceSelector?: string | null;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** What the undecided would come to if sent, where it matters to a gate: " (if sent: 1 would be denied, 2 changed)". */
function undecidedText(s: NamespaceSummary): string {
  const parts = [...(s.undecidedWouldDeny > 0 ? [`${s.undecidedWouldDeny} would be denied or not judged`] : []), ...(s.undecidedWouldChange > 0 ? [`${s.undecidedWouldChange} changed`] : [])];
  return parts.length === 0 ? '' : ` (if sent: ${parts.join(', ')})`;
}

/** `team-a: 41 workloads, 37 hardened, 3 left as they are (privileged), 1 would be denied` */
export function summaryLine(audit: NamespaceAudit): string {
  const s = audit.summary;
  if (audit.excluded !== null) return `${audit.name}: excluded (${audit.excluded})`;
  if (!audit.optedIn && !audit.assumedOptedIn) {
    return `${audit.name}: not opted in, ${plural(s.workloads, 'workload')}, nothing changes (--assume-opted-in shows what would)`;
  }
  const parts = [plural(s.workloads, 'workload')];
  const partly = Object.entries(s.partlyHardened);
  const partlyCount = partly.reduce((sum, [, n]) => sum + n, 0);
  if (s.hardened > 0) parts.push(`${s.hardened} hardened${partlyCount === 0 ? '' : ` (${partlyCount} keeping what they asked for: ${partly.map(([reason, n]) => (partly.length === 1 ? reason : `${n} ${reason}`)).join(', ')})`}`);
  if (s.alreadyHardened > 0) parts.push(`${s.alreadyHardened} already hardened`);
  const left = Object.entries(s.leftAsTheyAre);
  const leftCount = left.reduce((sum, [, n]) => sum + n, 0);
  if (leftCount > 0) parts.push(`${leftCount} left as ${leftCount === 1 ? 'it is' : 'they are'} (${left.map(([reason, n]) => (left.length === 1 ? reason : `${n} ${reason}`)).join(', ')})`);
  if (s.denied > 0) parts.push(`${s.denied} would be denied`);
  if (s.warned > 0) parts.push(`${s.warned} would be warned`);
  if (s.errors > 0) parts.push(`${s.errors} could not be judged`);
  if (s.excluded > 0) parts.push(`${s.excluded} not sent (objectSelector)`);
  if (s.undecided > 0) parts.push(`${s.undecided} cannot tell if sent (objectSelector)${undecidedText(s)}`);
  if (s.failRestricted > 0) parts.push(`${s.failRestricted} still fail restricted`);
  return `${audit.name}${audit.assumedOptedIn ? ' (assumed opted in)' : ''}: ${parts.join(', ')}`;
}

function idsText(audit: NamespaceAudit): string {
  const ids = audit.ids;
  if (ids === null) return '';
  if (ids.uidRange === null) return ids.from === 'pending-block' ? 'IDs: no block yet' : 'IDs: none (no rule matches, no fallback)';
  const from = ids.from === 'rule' ? `rule ${ids.source}` : ids.from === 'fallback' ? 'spec.fallback' : ids.from === 'allocated-block' ? 'allocated block' : `no block yet (judged with ${ids.source})`;
  return `IDs: ${from}, uid ${ids.uidRange}, gid ${ids.gidRange}, fsGroup ${ids.fsGroup}`;
}

function restrictedText(workload: WorkloadAudit): string {
  const after = workload.restricted.after;
  if (after === null) return '-';
  if (after.length === 0) return workload.restricted.before.length === 0 ? 'passes' : 'passes after';
  return `fails: ${after.join(',')}`;
}

function resultText(workload: WorkloadAudit): string {
  switch (workload.verdict) {
    case 'hardened':
      return `hardened (${plural(workload.injected.length, 'field')})`;
    case 'left-alone':
      return 'left as it is';
    case 'denied':
      return 'would be DENIED';
    case 'error':
      return 'cannot judge';
    case 'not-opted-in':
      return 'not sent (namespace not opted in)';
    case 'excluded':
      return 'not sent (objectSelector)';
    case 'undecided':
      return `cannot tell if sent (objectSelector); if sent: ${workload.ifSent === undefined || workload.ifSent === 'undecided' ? 'not judged' : resultText({ ...workload, verdict: workload.ifSent })}`;
    default:
      return workload.leftOut.length > 0 ? 'left as it is' : 'nothing to add';
  }
}


function table(rows: readonly (readonly string[])[], indent: string): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  return rows.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

export function namespaceTable(audit: NamespaceAudit, wide: boolean, onlyChanged: boolean): string {
  const state = audit.excluded !== null ? 'excluded' : audit.optedIn ? 'opted in' : audit.assumedOptedIn ? 'not opted in, judged as if it were' : 'not opted in';
  const lines = [`NAMESPACE ${audit.name}  ${state}${audit.ids === null ? '' : `  ${idsText(audit)}`}`];
  for (const note of audit.ids?.notes ?? []) lines.push(`  note: ${note}`);
  const shown = audit.workloads.filter((w) => !onlyChanged || isChange(w));
  if (shown.length > 0) {
    lines.push(...table([['KIND', 'NAME', 'RESULT', 'RESTRICTED'], ...shown.map((w) => [w.kind, w.name, resultText(w), restrictedText(w)])], '  '));
    if (wide) {
      for (const w of shown) {
        const details = [
          ...w.injected.map((path) => `inject   ${path}`),
          ...(w.skipped === null ? [] : [`left     ${w.skipped}`]),
          ...w.leftOut.map((l) => `kept     ${l.path} (container "${l.container}", ${l.reason}): ${l.fields.join(', ')} not added`),
          ...w.warnings.map((text) => `warning  ${text}`),
          ...w.refusals.map((r) => `${r.mode === 'enforce' ? 'deny    ' : 'warn    '} ${r.message}`),
          ...w.ifEnforced.map((r) => `enforce  would deny: ${r.message}`),
          ...(w.message === null || w.verdict === 'denied' ? [] : [`error    ${w.message}`]),
          ...(w.note === null ? [] : [`note     ${w.note}`]),
        ];
        if (details.length === 0) continue;
        lines.push(`  ${w.kind}/${w.name}:`, ...details.map((d) => `    ${d}`));
      }
    }
  }
  const hidden = audit.workloads.length - shown.length;
  if (hidden > 0 && onlyChanged) lines.push(`  (${plural(hidden, 'workload')} with nothing to do not shown)`);
  lines.push(summaryLine(audit), '');
  return `${lines.join('\n')}\n`;
}

function namespaceJson(audit: NamespaceAudit, onlyChanged: boolean) {
  return {
    name: audit.name,
    optedIn: audit.optedIn,
    assumedOptedIn: audit.assumedOptedIn,
    excluded: audit.excluded,
    ids: audit.ids,
    summary: audit.summary,
    summaryLine: summaryLine(audit),
    workloads: audit.workloads.filter((w) => !onlyChanged || isChange(w)),
  };
}

export interface TotalSummary extends NamespaceSummary {
  readonly namespaces: number;
}

export function addSummaries(total: TotalSummary, audit: NamespaceAudit): TotalSummary {
  const s = audit.summary;
  const left: Record<string, number> = { ...total.leftAsTheyAre };
  for (const [reason, n] of Object.entries(s.leftAsTheyAre)) left[reason] = (left[reason] ?? 0) + n;
  return {
    namespaces: total.namespaces + 1,
    workloads: total.workloads + s.workloads,
    hardened: total.hardened + s.hardened,
    partlyHardened: merged(total.partlyHardened, s.partlyHardened),
    alreadyHardened: total.alreadyHardened + s.alreadyHardened,
    leftAsTheyAre: left,
    denied: total.denied + s.denied,
    warned: total.warned + s.warned,
    failRestricted: total.failRestricted + s.failRestricted,
    errors: total.errors + s.errors,
    notOptedIn: total.notOptedIn + s.notOptedIn,
    excluded: total.excluded + s.excluded,
    undecided: total.undecided + s.undecided,
    undecidedWouldDeny: total.undecidedWouldDeny + s.undecidedWouldDeny,
    undecidedWouldChange: total.undecidedWouldChange + s.undecidedWouldChange,
  };
}

function merged(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = { ...a };
  for (const [key, n] of Object.entries(b)) out[key] = (out[key] ?? 0) + n;
  return out;
}

export const EMPTY_TOTAL: TotalSummary = {
  namespaces: 0,
  workloads: 0,
  hardened: 0,
  partlyHardened: {},
  alreadyHardened: 0,
  leftAsTheyAre: {},
  denied: 0,
  warned: 0,
  failRestricted: 0,
  errors: 0,
  notOptedIn: 0,
  excluded: 0,
  undecided: 0,
  undecidedWouldDeny: 0,
  undecidedWouldChange: 0,
};

/** Writes one namespace at a time in the chosen format; `end` closes the document. */
export interface AuditWriter {
  namespace(audit: NamespaceAudit): void;
  end(total: TotalSummary): void;
}

export function createAuditWriter(format: AuditOutput, header: AuditHeader, onlyChanged: boolean, write: (text: string) => void): AuditWriter {
  const head = { apiVersion: 'secure-defaults.io/v1alpha1', kind: 'AuditReport', policy: header.policy, policyMode: header.policyMode, policySource: header.policySource, assumeOptedIn: header.assumeOptedIn, objectSelector: header.objectSelector, namespaceSelector: header.namespaceSelector ?? null };
  if (format === 'json') {
    let first = true;
    write(`${JSON.stringify(head).slice(0, -1)},"namespaces":[`);
    return {
      namespace(audit) {
        write(`${first ? '\n' : ',\n'}${JSON.stringify(namespaceJson(audit, onlyChanged))}`);
        first = false;
      },
      end(total) {
        write(`${first ? '' : '\n'}],"summary":${JSON.stringify(total)}}\n`);
      },
    };
  }
  if (format === 'yaml') {
    write(toYaml(head, { lineWidth: 0 }));
    write('namespaces:');
    let first = true;
    return {
      namespace(audit) {
        write(`${first ? '\n' : ''}${toYaml([namespaceJson(audit, onlyChanged)], { lineWidth: 0 })}`);
        first = false;
      },
      end(total) {
        write(`${first ? ' []\n' : ''}${toYaml({ summary: total }, { lineWidth: 0 })}`);
      },
    };
  }
  write(`policy ${JSON.stringify(header.policy)} (mode ${header.policyMode}) from ${header.policySource}${header.assumeOptedIn ? '; namespaces not opted in are judged as if they were' : ''}${header.objectSelector === null ? '' : `; the webhook is sent only Pods matching objectSelector ${JSON.stringify(header.objectSelector)}`}${header.namespaceSelector == null ? '' : `; only from namespaces matching namespaceSelector ${JSON.stringify(header.namespaceSelector)}`}\n\n`);
  return {
    namespace(audit) {
      write(namespaceTable(audit, format === 'wide', onlyChanged));
    },
    end(total) {
      const left = Object.values(total.leftAsTheyAre).reduce((a, b) => a + b, 0);
      write(
        `total: ${plural(total.namespaces, 'namespace')}, ${plural(total.workloads, 'workload')}: ${total.hardened} hardened, ${total.alreadyHardened} already hardened, ${left} left as they are, ${total.denied} would be denied, ${total.warned} would be warned, ${total.errors} could not be judged, ${total.notOptedIn} in namespaces not opted in${total.excluded === 0 ? '' : `, ${total.excluded} not sent (objectSelector)`}${total.undecided === 0 ? '' : `, ${total.undecided} cannot tell if sent (objectSelector)${undecidedText(total)}`}\n`,
      );
    },
  };
}

/** Exit status 1 when the audit found what `--fail-on` names. */
export function failsOn(failOn: FailOn, total: TotalSummary): boolean {
  if (failOn === 'never') return false;
  // A workload the audit cannot tell is sent counts by what the webhook would do if it were: a
  // gate must not pass on a guess, nor fail on a Pod that would only be hardened.
  if (failOn === 'deny') return total.denied > 0 || total.errors > 0 || total.undecidedWouldDeny > 0;
  return total.denied > 0 || total.errors > 0 || total.undecidedWouldDeny > 0 || total.undecidedWouldChange > 0 || total.hardened > 0 || total.warned > 0;
}
