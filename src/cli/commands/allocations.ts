// `secure-defaults allocations` lists every namespace's UID block from a cluster (annotations
// and ledger side by side); `allocations repair` rebuilds the ledger from the annotations and
// reports the conflicts an admin must resolve.
import { KubeConfig } from '@kubernetes/client-node';
import type { Command } from 'commander';
import type { AllocationCluster, ClusterNamespace } from '../../allocation/allocation-cluster.js';
import type { BlockPool } from '../../allocation/block-pool.js';
import { formatIdRange, parseIdRangeText, sameRange } from '../../allocation/id-range-text.js';
import { DEFAULT_LEDGER_NAME } from '../../allocation/allocation-object-names.js';
import { KubeAllocationCluster } from '../../cluster/kube-allocation-cluster.js';
import { planLedgerRepair } from '../../allocation/ledger-repair.js';
import { decodeLedger, describeLedgerErrors, encodeLedger, type LedgerDecode, type LedgerEntry } from '../../allocation/ledger.js';
import { UID_RANGE_ANNOTATION } from '../../engine/model.js';
import type { CommandDeps, ExitCodeSink } from '../command-deps.js';
import { readInput } from '../read-input.js';
import { EXIT_FINDINGS, EXIT_OK, UserError } from '../user-error.js';
import { describePolicyErrors } from '../../engine/policy-config-map.js';

export interface ClusterConnection {
  readonly kubeconfig?: string;
  readonly context?: string;
  /** Namespace of the webhook, where the ledger ConfigMap lives. */
  readonly namespace: string;
  readonly ledgerName: string;
}

export type AllocationClusterConnector = (connection: ClusterConnection) => AllocationCluster;

export const connectWithKubeconfig: AllocationClusterConnector = (connection) => {
  const kubeConfig = new KubeConfig();
  try {
    if (connection.kubeconfig) kubeConfig.loadFromFile(connection.kubeconfig);
    else kubeConfig.loadFromDefault();
    if (connection.context) {
      // client-node accepts any name and then has no current cluster; say which contexts exist.
      if (kubeConfig.getContextObject(connection.context) === null) {
        throw new UserError(`--context ${JSON.stringify(connection.context)}: no such context in the kubeconfig (it has ${kubeConfig.getContexts().map((c) => JSON.stringify(c.name)).join(', ') || 'none'})`);
      }
      kubeConfig.setCurrentContext(connection.context);
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`cannot load kubeconfig${connection.kubeconfig ? ` ${JSON.stringify(connection.kubeconfig)}` : ''}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!kubeConfig.getCurrentCluster()) {
    throw new UserError('no cluster in the kubeconfig; pass --kubeconfig FILE (or set KUBECONFIG) and --context NAME');
  }
  return new KubeAllocationCluster(kubeConfig, { namespace: connection.namespace, ledgerName: connection.ledgerName, instance: 'secure-defaults-cli' });
};

export interface AllocationRow {
  readonly namespace: string;
  /** The annotation as written, or null. */
  readonly annotation: string | null;
  /** The ledger's block for this namespace, or null. */
  readonly ledger: string | null;
  readonly status: string;
}

/** One row per namespace that carries an annotation or holds a ledger entry, sorted by namespace. */
export function allocationRows(namespaces: readonly ClusterNamespace[], entries: readonly LedgerEntry[]): AllocationRow[] {
  const rows: AllocationRow[] = [];
  const byUid = new Map(namespaces.map((ns) => [ns.uid, ns]));
  const liveByUid = new Map(entries.filter((e) => e.deletedAt === null).map((e) => [e.namespaceUid, e]));
  for (const ns of namespaces) {
    const annotation = ns.annotations[UID_RANGE_ANNOTATION] ?? null;
    const live = liveByUid.get(ns.uid);
    if (annotation === null && !live) continue;
    const ledger = live ? formatIdRange(live.range) : null;
    let status: string;
    if (annotation === null) status = 'allocated, annotation not written yet';
    else if (!live) status = 'not in ledger (collision, invalid, or not yet adopted: see the namespace Events)';
    else {
      const parsed = parseIdRangeText(annotation);
      status = parsed.ok && sameRange(parsed.range, live.range) ? 'ok' : 'annotation differs from ledger';
    }
    rows.push({ namespace: ns.name, annotation, ledger, status: ns.terminating ? `${status}; terminating` : status });
  }
  for (const entry of entries) {
    const gone = entry.deletedAt !== null || !byUid.has(entry.namespaceUid);
    if (!gone) continue;
    const since = entry.deletedAt === null ? 'namespace gone' : `deleted ${new Date(entry.deletedAt).toISOString()}`;
    rows.push({ namespace: entry.namespace, annotation: null, ledger: formatIdRange(entry.range), status: `${since}; block reserved` });
  }
  return rows.sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : (a.ledger ?? '') < (b.ledger ?? '') ? -1 : 1));
}

function formatTable(rows: readonly AllocationRow[]): string {
  const header = ['NAMESPACE', 'UID-RANGE', 'LEDGER', 'STATUS'];
  const cells = rows.map((r) => [r.namespace, r.annotation ?? '-', r.ledger ?? '-', r.status]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (values: readonly string[]): string =>
    values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...cells.map(line)].join('\n') + '\n';
}

interface ConnectionFlags {
  kubeconfig?: string;
  context?: string;
  namespace: string;
  ledger: string;
}

function connectionOf(flags: ConnectionFlags): ClusterConnection {
  return {
    namespace: flags.namespace,
    ledgerName: flags.ledger,
    ...(flags.kubeconfig === undefined ? {} : { kubeconfig: flags.kubeconfig }),
    ...(flags.context === undefined ? {} : { context: flags.context }),
  };
}

/** API errors become one readable line, never a stack trace. */
async function talkToCluster<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof UserError) throw error;
    const code = (error as { code?: unknown } | null)?.code;
    const reason = code === 403 ? 'forbidden: the kubeconfig user needs get/list on namespaces and get/update on the ledger ConfigMap' : error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new UserError(`cannot ${what}: ${reason}`);
  }
}

async function poolFromPolicy(deps: CommandDeps, file: string | undefined): Promise<BlockPool | null> {
  if (file === undefined) return null;
  const parsed = deps.engine.parsePolicy(await readInput(deps.io, file, 'policy'));
  if (!parsed.ok) throw new UserError(`policy ${JSON.stringify(file)} is invalid: ${describePolicyErrors(parsed.errors)}`);
  if (parsed.policy.allocation === null) throw new UserError(`policy ${JSON.stringify(file)} has no spec.allocation`);
  return parsed.policy.allocation;
}

export async function runAllocationsList(deps: CommandDeps, cluster: AllocationCluster, output: string): Promise<number> {
  const [stored, namespaces] = await talkToCluster('read the ledger and namespaces', () => Promise.all([cluster.readLedger(), cluster.listNamespaces()]));
  const decoded: LedgerDecode | null = stored === null ? null : decodeLedger(stored.data);
  const entries = decoded === null ? [] : decoded.ok ? decoded.ledger.entries : decoded.salvaged;
  const rows = allocationRows(namespaces, entries);
  deps.io.writeStdout(output === 'json' ? `${JSON.stringify(rows, null, 2)}\n` : rows.length === 0 ? 'no namespace has a UID block\n' : formatTable(rows));
  if (decoded !== null && !decoded.ok) {
    deps.io.writeStderr(`error: the ledger is damaged (${describeLedgerErrors(decoded.errors)}); allocation is stopped until you run \`secure-defaults allocations repair\`\n`);
    return EXIT_FINDINGS;
  }
  if (stored === null) deps.io.writeStderr('note: no ledger ConfigMap yet (nothing allocated, or wrong --namespace)\n');
  return EXIT_OK;
}

export async function runAllocationsRepair(deps: CommandDeps, cluster: AllocationCluster, pool: BlockPool | null, dryRun: boolean, now: number): Promise<number> {
  const stored = await talkToCluster('read the ledger', () => cluster.readLedger());
  const namespaces = await talkToCluster('list namespaces', () => cluster.listNamespaces());
  const result = planLedgerRepair({ namespaces, previous: stored === null ? null : decodeLedger(stored.data), pool, now });
  for (const finding of result.findings) {
    const where = finding.namespace === undefined ? '' : `namespace ${finding.namespace}: `;
    deps.io.writeStdout(`${finding.conflict ? 'conflict' : 'note'}: ${where}${finding.message}\n`);
  }
  const live = result.ledger.entries.filter((e) => e.deletedAt === null).length;
  const summary = `${live} live and ${result.ledger.entries.length - live} reserved blocks`;
  if (dryRun) {
    deps.io.writeStdout(`dry run: the rebuilt ledger would hold ${summary}; nothing written\n`);
  } else {
    const data = encodeLedger(result.ledger);
    const written = await talkToCluster('write the ledger', () => (stored === null ? cluster.createLedger(data) : cluster.replaceLedger(data, stored.resourceVersion)));
    if (written === 'conflict') {
      throw new UserError('the ledger changed while it was being repaired (the allocator is running); run repair again');
    }
    deps.io.writeStdout(`ledger rebuilt: ${summary}\n`);
  }
  const conflicts = result.findings.filter((f) => f.conflict).length;
  if (conflicts > 0) deps.io.writeStderr(`${conflicts} ${conflicts === 1 ? 'conflict needs' : 'conflicts need'} a fix by hand (see above), then run repair again\n`);
  return conflicts > 0 ? EXIT_FINDINGS : EXIT_OK;
}

export function registerAllocationsCommand(
  program: Command,
  deps: CommandDeps,
  exitWith: ExitCodeSink,
  connect: AllocationClusterConnector = connectWithKubeconfig,
  clock: { now(): number } = { now: () => Date.now() },
): void {
  const withConnection = (command: Command): Command =>
    command
      .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG or ~/.kube/config)')
      .option('--context <name>', 'kubeconfig context')
      .option('-n, --namespace <name>', 'namespace the webhook runs in (holds the ledger)', 'secure-defaults')
      .option('--ledger <name>', 'name of the ledger ConfigMap', DEFAULT_LEDGER_NAME);
  const allocations = withConnection(
    program
      .command('allocations')
      .description('List the UID blocks of namespaces (annotation and ledger side by side); exits 1 when the ledger is damaged.')
      .option('-o, --output <format>', 'table or json', 'table'),
  ).action(async (flags: ConnectionFlags & { output: string }) => {
    if (flags.output !== 'table' && flags.output !== 'json') throw new UserError(`--output must be table or json, got ${JSON.stringify(flags.output)}`);
    exitWith(await runAllocationsList(deps, connect(connectionOf(flags)), flags.output));
  });
  // Connection flags belong to `allocations` only: commander gives an option both levels define
  // to the parent, so `repair` reads them through optsWithGlobals().
  allocations
    .command('repair')
    .description('Rebuild the ledger from the namespaces\' uid-range annotations, keeping reserved blocks of deleted namespaces; reports conflicts and exits 1 if any need a fix by hand.')
    .option('--policy <file>', 'the policy in use, to also report annotations outside spec.allocation.range or unaligned')
    .option('--dry-run', 'print what would change without writing the ledger')
    .action(async (_flags: unknown, command: Command) => {
      const flags = command.optsWithGlobals<ConnectionFlags & { policy?: string; dryRun?: boolean }>();
      const pool = await poolFromPolicy(deps, flags.policy);
      exitWith(await runAllocationsRepair(deps, connect(connectionOf(flags)), pool, flags.dryRun === true, clock.now()));
    });
}
