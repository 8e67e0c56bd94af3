// `secure-defaults audit`: what the webhook would do to every workload already running in a
// cluster, namespace by namespace, before anyone labels a namespace. Reads only (get/list).
import { KubeConfig } from '@kubernetes/client-node';
import { Option, type Command } from 'commander';
import { auditCluster } from '../../audit/cluster-audit.js';
import { addSummaries, AUDIT_OUTPUTS, createAuditWriter, EMPTY_TOTAL, FAIL_ON, failsOn, type AuditOutput, type FailOn } from '../../audit/audit-report.js';
import { ApiStatusError, DEFAULT_PAGE_SIZE, KubeAuditReader, type AuditClusterReader } from '../../cluster/kube-audit-reader.js';
import type { AuditEngine } from '../../audit/workload-audit.js';
import type { CompiledPolicy } from '../../engine/model.js';
import type { CommandDeps, ExitCodeSink } from '../command-deps.js';
import { policyTextFrom } from '../policy-input.js';
import { readInput } from '../read-input.js';
import { EXIT_FINDINGS, EXIT_OK, UserError } from '../user-error.js';
import { describePolicyError, describePolicyErrors, POLICY_KEY, policyTextOfConfigMap } from '../../engine/policy-config-map.js';
import { objectScopeOf, POD_WEBHOOK_NAME, podWebhookSelector, type ObjectScope } from '../../audit/object-selector.js';
import { namespaceScopeOf, type NamespaceScope } from '../../audit/namespace-scope.js';
import type { PolicyError } from '../../engine/model.js';
import { parse as parseYaml } from 'yaml';

/** The chart's policy ConfigMap with `helm install secure-defaults … -n secure-defaults`. */
export const DEFAULT_POLICY_CONFIGMAP = 'secure-defaults/secure-defaults-policy';

export interface AuditFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly policy?: string;
  readonly policyConfigmap: string;
  readonly assumeOptedIn?: boolean;
  readonly output: AuditOutput;
  readonly onlyChanged?: boolean;
  readonly failOn: FailOn;
  readonly progress?: boolean;
  readonly chunkSize: number;
  readonly webhookConfiguration?: string;
  readonly objectSelector?: string;
  readonly namespaceSelector?: string;
}

export type AuditReaderFactory = (flags: AuditFlags) => AuditClusterReader;

export const connectAuditReader: AuditReaderFactory = (flags) => {
  const kubeConfig = new KubeConfig();
  try {
    if (flags.kubeconfig) kubeConfig.loadFromFile(flags.kubeconfig);
    else kubeConfig.loadFromDefault(); // $KUBECONFIG, ~/.kube/config, or the Pod's ServiceAccount
    if (flags.context) {
      if (kubeConfig.getContextObject(flags.context) === null) {
        const known = kubeConfig.getContexts().map((c) => c.name);
        throw new UserError(`--context ${JSON.stringify(flags.context)}: no such context in the kubeconfig (it has ${known.length === 0 ? 'none' : known.map((n) => JSON.stringify(n)).join(', ')})`);
      }
      kubeConfig.setCurrentContext(flags.context);
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`cannot load kubeconfig${flags.kubeconfig ? ` ${JSON.stringify(flags.kubeconfig)}` : ''}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!kubeConfig.getCurrentCluster()) throw new UserError('no cluster in the kubeconfig; pass --kubeconfig FILE (or set KUBECONFIG) and --context NAME, or run in a Pod');
  return new KubeAuditReader(kubeConfig, flags.chunkSize);
};

function parseRef(value: string): { namespace: string; name: string } {
  const [namespace, name, ...rest] = value.split('/');
  if (!namespace || !name || rest.length > 0) throw new UserError(`--policy-configmap ${JSON.stringify(value)}: expected NAMESPACE/NAME, e.g. ${DEFAULT_POLICY_CONFIGMAP}`);
  return { namespace, name };
}

/** API failures as one line: 403 names what the kubeconfig user is missing. */
function describeApiFailure(error: unknown): string {
  if (error instanceof ApiStatusError) {
    if (error.status === 403) return `forbidden (${error.path.split('?')[0]}): the kubeconfig user needs get/list on namespaces, the workload kinds and the policy ConfigMap; the chart's audit ClusterRole (--set auditRole.create=true) grants exactly that`;
    return error.message;
  }
  return error instanceof Error ? error.message.split('\n')[0] ?? error.message : String(error);
}

async function loadAuditPolicy(deps: CommandDeps, reader: AuditClusterReader, flags: AuditFlags): Promise<{ policy: CompiledPolicy; source: string }> {
  let text: string;
  let source: string;
  if (flags.policy !== undefined) {
    const input = policyTextFrom(await readInput(deps.io, flags.policy, 'policy'), flags.policy);
    text = input.text;
    source = input.fromConfigMap === null ? `file ${flags.policy}` : `file ${flags.policy} (${input.fromConfigMap})`;
    if (input.fromConfigMap !== null) deps.io.writeStderr(`note: --policy ${flags.policy}: read the policy from ${input.fromConfigMap}\n`);
  } else {
    const ref = parseRef(flags.policyConfigmap);
    let data;
    try {
      data = await reader.configMapData(ref.namespace, ref.name);
    } catch (error) {
      throw new UserError(`cannot read the policy ConfigMap ${ref.namespace}/${ref.name}: ${describeApiFailure(error)}`);
    }
    if (data === null) throw new UserError(`ConfigMap ${ref.namespace}/${ref.name} does not exist; pass --policy-configmap NAMESPACE/NAME (the chart's is <release-namespace>/<fullname>-policy) or --policy FILE`);
    const document = policyTextOfConfigMap(data);
    if (!document.ok) throw new UserError(`ConfigMap ${ref.namespace}/${ref.name}: ${describePolicyError(document.error)}`);
    text = document.text;
    source = `ConfigMap ${ref.namespace}/${ref.name}`;
  }
  const parsed = deps.engine.parsePolicy(text);
  if (!parsed.ok) throw new UserError(`the policy from ${source} is invalid: ${describePolicyErrors(parsed.errors)}`);
  for (const warning of parsed.warnings) deps.io.writeStderr(`warning: policy: ${warning}\n`);
  return { policy: parsed.policy, source };
}

/** The chart names its webhook configuration <fullname> and its policy ConfigMap <fullname>-policy. */
function defaultWebhookConfiguration(policyConfigmap: string): string {
  const name = policyConfigmap.split('/')[1] ?? '';
  return name.endsWith('-policy') && name.length > '-policy'.length ? name.slice(0, -'-policy'.length) : 'secure-defaults';
}

/** A LabelSelector flag's value, parsed and validated like the configuration's own field. */
function selectorFlag<T>(flag: string, text: string, read: (value: unknown, path: string, source: string) => { ok: true; scope: T } | { ok: false; errors: readonly PolicyError[] }, field: string): T {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new UserError(`${flag}: not YAML or JSON (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); write a LabelSelector, e.g. '{matchLabels: {team: a}}'`);
  }
  const result = read(value, field, flag);
  if (!result.ok) throw new UserError(`${flag}: ${describePolicyErrors(result.errors)}`);
  return result.scope;
}

interface WebhookScope {
  readonly objectScope: ObjectScope | null;
  /** undefined: the namespaceSelector is not known (the configuration could not be read): the chart's default pair is assumed. */
  readonly namespaceScope: NamespaceScope | null | undefined;
}

/**
 * Which Pods the API server sends the webhook: by their labels (--object-selector, or the pod
 * webhook's objectSelector) and by their namespace's (--namespace-selector, or its
 * namespaceSelector), both from the installed MutatingWebhookConfiguration unless given.
 */
async function loadWebhookScope(deps: CommandDeps, reader: AuditClusterReader, flags: AuditFlags): Promise<WebhookScope> {
  const objectFlag = flags.objectSelector === undefined ? undefined : selectorFlag('--object-selector', flags.objectSelector, objectScopeOf, 'objectSelector');
  const namespaceFlag = flags.namespaceSelector === undefined ? undefined : selectorFlag('--namespace-selector', flags.namespaceSelector, namespaceScopeOf, 'namespaceSelector');
  if (objectFlag !== undefined && namespaceFlag !== undefined) return { objectScope: objectFlag, namespaceScope: namespaceFlag };
  const missing = [...(objectFlag === undefined ? ['objectSelector'] : []), ...(namespaceFlag === undefined ? ['namespaceSelector'] : [])].join(' and ');
  const assumed = `${objectFlag === undefined ? 'every Pod is judged as if sent' : ''}${objectFlag === undefined && namespaceFlag === undefined ? ', and ' : ''}${namespaceFlag === undefined ? 'only kube-system and the webhook\'s own namespace are taken as excluded (the chart\'s default namespaceSelector)' : ''}`;
  const name = flags.webhookConfiguration ?? defaultWebhookConfiguration(flags.policyConfigmap);
  const what = `MutatingWebhookConfiguration ${name}`;
  const unknown = { objectScope: objectFlag ?? null, namespaceScope: namespaceFlag };
  let configuration;
  try {
    configuration = await reader.mutatingWebhookConfiguration(name);
  } catch (error) {
    if (error instanceof ApiStatusError && error.status === 403) {
      deps.io.writeStderr(`warning: cannot read ${what} (forbidden): its ${missing} ${missing.includes(' and ') ? 'are' : 'is'} not applied: ${assumed}; grant get on it (the chart's audit ClusterRole does) or pass ${objectFlag === undefined ? '--object-selector' : ''}${missing.includes(' and ') ? ' and ' : ''}${namespaceFlag === undefined ? '--namespace-selector' : ''}\n`);
      return unknown;
    }
    throw new UserError(`cannot read ${what}: ${describeApiFailure(error)}`);
  }
  if (configuration === null) {
    deps.io.writeStderr(`note: no ${what} in the cluster: ${assumed}; --webhook-configuration NAME names the installed one, --object-selector and --namespace-selector give the selectors\n`);
    return unknown;
  }
  const webhook = podWebhookSelector(configuration, 'objectSelector');
  if (!webhook.found) {
    throw new UserError(`${what} has no webhook named ${POD_WEBHOOK_NAME} (it has ${webhook.names.length === 0 ? 'none' : webhook.names.map((n) => JSON.stringify(n)).join(', ')}); --webhook-configuration NAME names the chart's`);
  }
  let objectScope = objectFlag;
  if (objectScope === undefined) {
    const result = objectScopeOf(webhook.value, webhook.path, what);
    if (!result.ok) throw new UserError(`${what}: ${describePolicyErrors(result.errors)}`);
    objectScope = result.scope;
  }
  let namespaceScope = namespaceFlag;
  if (namespaceScope === undefined) {
    const field = podWebhookSelector(configuration, 'namespaceSelector');
    const result = field.found ? namespaceScopeOf(field.value, field.path, what) : ({ ok: true, scope: null } as const);
    if (!result.ok) throw new UserError(`${what}: ${describePolicyErrors(result.errors)}`);
    namespaceScope = result.scope;
  }
  return { objectScope, namespaceScope };
}

export interface AuditRunDeps extends CommandDeps {
  readonly auditEngine: AuditEngine;
}

export async function runAudit(deps: AuditRunDeps, reader: AuditClusterReader, flags: AuditFlags): Promise<number> {
  const { policy, source } = await loadAuditPolicy(deps, reader, flags);
  const { objectScope, namespaceScope } = await loadWebhookScope(deps, reader, flags);
  const webhookNamespace = parseRef(flags.policyConfigmap).namespace;
  // The chart's default namespaceSelector, assumed only when the installed one could not be read.
  const excluded: ReadonlyMap<string, string> =
    namespaceScope !== undefined
      ? new Map()
      : new Map([
          ['kube-system', 'never sent to the webhook: the chart excludes kube-system (assumed: the webhook configuration could not be read)'],
          [webhookNamespace, 'never sent to the webhook: the chart excludes its own namespace (assumed: the webhook configuration could not be read)'],
        ]);
  const showProgress = flags.progress === true || deps.io.stderrIsTerminal === true;
  let progressShown = false;
  const writer = createAuditWriter(flags.output, { policy: policy.name, policyMode: policy.mode, policySource: source, assumeOptedIn: flags.assumeOptedIn === true, objectSelector: objectScope?.text ?? null, namespaceSelector: namespaceScope?.text ?? null }, flags.onlyChanged === true, (text) => deps.io.writeStdout(text));
  let total = EMPTY_TOTAL;
  try {
    const namespaces = auditCluster(reader, deps.auditEngine, { policy, generation: 1 }, {
      assumeOptedIn: flags.assumeOptedIn === true,
      excluded,
      objectScope,
      namespaceScope: namespaceScope ?? null,
      onProgress: showProgress
        ? (done, count) => {
            progressShown = true;
            deps.io.writeStderr(`\raudit: ${done}/${count} namespaces`);
          }
        : undefined,
    });
    for await (const audit of namespaces) {
      writer.namespace(audit);
      total = addSummaries(total, audit);
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`cannot read the cluster: ${describeApiFailure(error)}`);
  } finally {
    if (progressShown) deps.io.writeStderr('\n');
  }
  writer.end(total);
  return failsOn(flags.failOn, total) ? EXIT_FINDINGS : EXIT_OK;
}

function chunkSize(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > 5000) throw new UserError(`--chunk-size ${JSON.stringify(value)}: expected a whole number from 1 to 5000`);
  return number;
}

export function registerAuditCommand(program: Command, deps: AuditRunDeps, exitWith: ExitCodeSink, connect: AuditReaderFactory = connectAuditReader): void {
  program
    .command('audit')
    .description(
      'Show what the webhook would do to every workload already in a cluster: per namespace, whether it is opted in and where its IDs come from; ' +
        'per workload (Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs, CronJobs, and Pods no controller owns) ' +
        'what would be injected, left out and why, refused, and whether it passes restricted. Decided by the webhook\'s own code path. Read-only.',
    )
    .option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, or the Pod\'s ServiceAccount in a cluster)')
    .option('--context <name>', 'kubeconfig context')
    .option('--policy-configmap <namespace/name>', `the policy ConfigMap the webhook reads (key ${POLICY_KEY}); its namespace, like kube-system, is never sent to the webhook`, DEFAULT_POLICY_CONFIGMAP)
    .option('--webhook-configuration <name>', `the MutatingWebhookConfiguration whose ${POD_WEBHOOK_NAME} objectSelector and namespaceSelector say which Pods are sent (default: the chart's, named after --policy-configmap without -policy)`)
    .option('--object-selector <selector>', 'judge with this objectSelector instead of the installed one: a LabelSelector in YAML or JSON, e.g. \'{matchLabels: {team: a}}\' (what the chart\'s webhook.objectSelector would set)')
    .option('--namespace-selector <selector>', 'judge with this namespaceSelector instead of the installed one: a LabelSelector in YAML or JSON matched against namespace labels (kubernetes.io/metadata.name included), e.g. \'{matchExpressions: [{key: environment, operator: NotIn, values: [prod]}]}\'')
    .option('--policy <file>', 'judge with this policy instead (a SecureDefaultsPolicy, or a ConfigMap holding one under policy.yaml)')
    .option('--assume-opted-in', 'judge namespaces that have not opted in as if they had (what labelling them would do)')
    .addOption(new Option('-o, --output <format>', 'table (people), wide (every field and message), json or yaml (tools)').choices(AUDIT_OUTPUTS).default('table'))
    .option('--only-changed', 'hide workloads the webhook would leave exactly as they are')
    .addOption(new Option('--fail-on <what>', 'exit 1 when: deny = a workload would be denied or cannot be judged (one the audit cannot tell is sent: if it were); change = also when anything would be injected or warned; never').choices(FAIL_ON).default('deny'))
    .option('--progress', 'show "namespaces done/total" on stderr even when it is not a terminal')
    .option('--chunk-size <n>', 'objects per list page (the API\'s limit/continue)', chunkSize, DEFAULT_PAGE_SIZE)
    .addHelpText('after', '\nExit status: 0 nothing found that --fail-on names, 1 something found, 2 bad input or the cluster could not be read.')
    .action(async (flags: AuditFlags) => {
      exitWith(await runAudit(deps, connect(flags), flags));
    });
}
