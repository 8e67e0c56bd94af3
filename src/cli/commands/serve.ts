// `secure-defaults serve`: the admission webhook. Builds the logger, metrics registry and policy
// and namespace sources from the flags, starts the HTTPS server, and on SIGTERM/SIGINT drains it
// and resolves, so the process exits 0 without losing an admission.
import { hostname } from 'node:os';
import { Option, type Command } from 'commander';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { WebhookAllocation } from '../../allocation/webhook-allocation.js';
import type { ClusterSources } from '../../cluster/cluster-sources.js';
import { decideAdmission, parsePolicy } from '../../engine/index.js';
import type { CompiledPolicy } from '../../engine/model.js';
import { DEFAULT_LEASE_NAME, DEFAULT_LEDGER_NAME } from '../../allocation/allocation-object-names.js';
import { realSleep, systemClock, type Clock } from '../../foundation/clock.js';
import { createJsonLineLogger } from '../../foundation/json-line-logger.js';
import { LOG_LEVELS, type Logger, type LogLevel } from '../../foundation/logger.js';
import { PolicyFileSource, readPolicyFileText } from '../../server/policy-file-source.js';
import { createWorkerPolicyParser } from '../../server/worker-policy-parser.js';
import { everyNamespaceOptedIn, noAllocatedBlocks } from '../../ports/standalone-ports.js';
import { startWebhook, type RunningWebhook, type TlsSource } from '../../server/webhook.js';
import { createWebhookMetrics, registerBuildInfo } from '../../metrics/webhook-metrics.js';
import { findPackageRoot, packageVersion } from '../package-paths.js';
import { UserError } from '../user-error.js';
import { describePolicyErrors } from '../../engine/policy-config-map.js';
import type { ConfigMapRef } from '../../ports/admission-ports.js';


export interface ServeOptions {
  readonly port: number;
  readonly host: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly policy?: string;
  readonly policyConfigmap?: string;
  readonly kubeconfig?: string;
  readonly failClosed: boolean;
  /** Seconds of serving while not ready after SIGTERM, before the listener closes. */
  readonly shutdownDelay: number;
  /** Seconds to wait for in-flight requests once the listener is closed. */
  readonly drainTimeout: number;
  /**
   * Seconds a Pod waits for its namespace's allocated UID block before it is denied. Must stay
   * under the webhook configuration's timeoutSeconds (the chart's default is 5).
   */
  readonly allocationWait?: number;
  /** Namespace of the allocator's Lease and ledger ConfigMap; default: the policy ConfigMap's. */
  readonly allocationNamespace?: string;
  readonly allocationLedger?: string;
  readonly allocationLease?: string;
  /** Seconds between checks of --policy FILE besides the directory watch (tests shorten it). */
  readonly policyPollInterval?: number;
}

export const DEFAULT_ALLOCATION_WAIT_SECONDS = 3;
/** Exit status of a process ended by an interrupt (128 + SIGINT), as shells report Ctrl-C. */
const EXIT_INTERRUPTED = 130;

/**
 * The Kubernetes client and everything built on it, loaded only for --policy-configmap: in
 * standalone mode nothing uses them, and they are most of the process's heap (a bigger live heap
 * makes every garbage collection under load dearer).
 */
async function loadClusterModules() {
  // One after the other: they share most of their module graph, so parallel loading gains nothing,
  // and jest's ESM loader fails on concurrent dynamic imports of shared modules ("not in cache").
  const clientNode = await import('@kubernetes/client-node');
  const allocatorRun = await import('../../cluster/kube-allocator-run.js');
  const webhookAllocation = await import('../../allocation/webhook-allocation.js');
  const clusterSources = await import('../../cluster/cluster-sources.js');
  return {
    KubeConfig: clientNode.KubeConfig,
    kubeAllocatorRuns: allocatorRun.kubeAllocatorRuns,
    startWebhookAllocation: webhookAllocation.startWebhookAllocation,
    clusterApiFrom: clusterSources.clusterApiFrom,
    createClusterSources: clusterSources.createClusterSources,
  };
}

export interface RunningServe {
  readonly webhook: RunningWebhook;
  readonly registry: Registry;
  /** Readiness false, drain, stop watches. */
  stop(): Promise<void>;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function parseConfigMapRef(value: string): ConfigMapRef {
  const parts = value.split('/');
  const [namespace, name] = parts;
  if (parts.length !== 2 || !namespace || !name) {
    throw new UserError(`--policy-configmap ${JSON.stringify(value)}: expected NAMESPACE/NAME, e.g. secure-defaults/policy`);
  }
  if (namespace.length > 63 || !DNS_LABEL.test(namespace)) {
    throw new UserError(`--policy-configmap: namespace ${JSON.stringify(namespace)} is not a valid namespace name (lowercase letters, digits and "-", at most 63)`);
  }
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    throw new UserError(`--policy-configmap: name ${JSON.stringify(name)} is not a valid ConfigMap name (lowercase letters, digits, "-" and ".")`);
  }
  return { namespace, name };
}

function tlsSourceFrom(options: ServeOptions): TlsSource {
  if (options.tlsCert && options.tlsKey) return { kind: 'files', certPath: options.tlsCert, keyPath: options.tlsKey };
  if (options.tlsCert || options.tlsKey) throw new UserError('--tls-cert and --tls-key go together: give both, or neither for a self-signed certificate');
  return { kind: 'self-signed' };
}

async function readPolicyFile(path: string) {
  const read = await readPolicyFileText(path);
  if (!read.ok) throw new UserError(`--policy ${path}: ${read.reason}`);
  const parsed = parsePolicy(read.text);
  if (!parsed.ok) throw new UserError(`--policy ${path} is not a valid policy: ${describePolicyErrors(parsed.errors)}`);
  return { text: read.text, parsed };
}

function warnAllocationIgnored(policy: CompiledPolicy, policyFile: string, logger: Logger): void {
  if (policy.allocation === null) return;
  // Nothing to allocate in and no namespace annotations to read: namespaces not matched by a
  // rule get spec.fallback, exactly as `secure-defaults mutate` treats them offline.
  logger.warn('spec.allocation has no effect with --policy FILE: there is no cluster to allocate UID blocks in; namespaces matched by no rule get spec.fallback. Use --policy-configmap to run the allocator', {
    policyFile,
  });
}

export interface ServeDeps {
  /**
   * The policy worker's script (default: the one compiled next to worker-policy-parser.js); tests
   * run from TypeScript sources point it at a compiled copy.
   */
  readonly policyWorkerUrl?: URL;
}

/** Starts the webhook as configured; the caller decides when to stop it. */
export async function startServe(options: ServeOptions, logger: Logger, clock: Clock = systemClock, deps: ServeDeps = {}): Promise<RunningServe> {
  if ((options.policy === undefined) === (options.policyConfigmap === undefined)) {
    throw new UserError('give exactly one of --policy FILE (standalone) or --policy-configmap NAMESPACE/NAME (in a cluster)');
  }
  const tls = tlsSourceFrom(options);
  // Policy edits (file reloads, the ConfigMap, /validate-policy reviews) are read and validated in a
  // worker thread, so a 1 MiB policy never holds the event loop that answers admissions. The file
  // read at startup is parsed here: nothing is admitted yet, and a bad file must stop the start.
  const policyParser = createWorkerPolicyParser(deps.policyWorkerUrl !== undefined ? { workerUrl: deps.policyWorkerUrl } : {});
  const parsePolicyText = policyParser.parse;
  const registry = new Registry();
  // prom-client samples event-loop delay on a 10 ms timer by default: 100 wake-ups a second, about
  // 5 ms of CPU per second on an idle webhook, competing with the API server on small nodes. A
  // 100 ms timer still records every delay it sees exactly (nodejs_eventloop_lag_*), for a tenth of that.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  const metrics = createWebhookMetrics(registry);
  registerBuildInfo(registry, { version: packageVersion(findPackageRoot(import.meta.url)), node: process.version });

  let cluster: ClusterSources | null = null;
  let policyFile: PolicyFileSource | null = null;
  let allocation: WebhookAllocation | null = null;
  let policyConfigMap: ConfigMapRef | null = null;
  let sources;
  if (options.policy !== undefined) {
    const { text, parsed } = await readPolicyFile(options.policy);
    const path = options.policy;
    for (const warning of parsed.warnings) logger.warn(`policy warning: ${warning}`, { policyFile: path });
    logger.info('policy loaded from file; every namespace counts as opted in; the file is reloaded when it changes', { policyFile: path, policy: parsed.policy.name, mode: parsed.policy.mode });
    warnAllocationIgnored(parsed.policy, path, logger);
    policyFile = new PolicyFileSource({
      path,
      initialText: text,
      initial: parsed,
      parsePolicy: parsePolicyText,
      logger,
      metrics,
      clock,
      onAccepted: (accepted) => warnAllocationIgnored(accepted.policy, path, logger),
      ...(options.policyPollInterval !== undefined ? { pollIntervalMs: options.policyPollInterval * 1000 } : {}),
    });
    policyFile.start();
    sources = { policySource: policyFile, namespaces: everyNamespaceOptedIn(), allocatedBlocks: noAllocatedBlocks, readinessChecks: [] };
  } else {
    policyConfigMap = parseConfigMapRef(options.policyConfigmap!);
    const { KubeConfig, kubeAllocatorRuns, startWebhookAllocation, clusterApiFrom, createClusterSources } = await loadClusterModules();
    const kubeConfig = new KubeConfig();
    try {
      if (options.kubeconfig) kubeConfig.loadFromFile(options.kubeconfig);
      else kubeConfig.loadFromDefault();
    } catch (error) {
      throw new UserError(`cannot load Kubernetes credentials (${(error as Error).message}); set KUBECONFIG, --kubeconfig, or run in a Pod`);
    }
    if (!kubeConfig.getCurrentCluster()) throw new UserError('no current cluster in the kubeconfig; set KUBECONFIG or --kubeconfig, or run in a Pod');
    const identity = process.env.POD_NAME || `${hostname()}-${process.pid}`;
    const clusterSources = createClusterSources(clusterApiFrom(kubeConfig, policyConfigMap, clock, hostname()), {
      configMap: policyConfigMap,
      parsePolicy: parsePolicyText,
      logger,
      metrics,
      clock,
    });
    cluster = clusterSources;
    // Every replica runs the allocator while the policy has spec.allocation; the Lease picks the one that allocates.
    const allocationNamespace = options.allocationNamespace ?? policyConfigMap.namespace;
    allocation = startWebhookAllocation({
      namespaces: clusterSources.namespaces,
      policies: { current: () => clusterSources.policySource.current(), onPolicyChange: (listener) => clusterSources.onPolicyChange(listener) },
      createRun: kubeAllocatorRuns(kubeConfig, {
        namespace: allocationNamespace,
        ledgerName: options.allocationLedger ?? DEFAULT_LEDGER_NAME,
        leaseName: options.allocationLease ?? DEFAULT_LEASE_NAME,
        identity,
        registry,
        clock,
        logger,
      }),
      waitMs: (options.allocationWait ?? DEFAULT_ALLOCATION_WAIT_SECONDS) * 1000,
      clock,
      sleep: realSleep,
      logger,
    });
    logger.info('reading the policy from a ConfigMap and namespaces from the API server', {
      configMap: `${policyConfigMap.namespace}/${policyConfigMap.name}`,
      server: kubeConfig.getCurrentCluster()?.server,
    });
    clusterSources.start();
    sources = { policySource: clusterSources.policySource, namespaces: allocation.namespaces, allocatedBlocks: allocation.namespaces, readinessChecks: clusterSources.readinessChecks };
  }
  let webhook: RunningWebhook;
  try {
    webhook = await startWebhook({
      host: options.host,
      port: options.port,
      tls,
      policySource: sources.policySource,
      namespaces: sources.namespaces,
      allocatedBlocks: sources.allocatedBlocks,
      readinessChecks: sources.readinessChecks,
      decideAdmission,
      parsePolicy: policyParser.parseUnlessBusy,
      policyConfigMap,
      failurePolicy: options.failClosed ? 'closed' : 'open',
      logger,
      metrics,
      registry,
      clock,
    });
  } catch (error) {
    cluster?.stop();
    policyFile?.stop();
    await allocation?.stop();
    await policyParser.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'ENOENT' || /TLS pair/.test((error as Error).message)) {
      throw new UserError((error as Error).message);
    }
    throw error;
  }
  return {
    webhook,
    registry,
    async stop() {
      await webhook.shutdown({ delayMs: options.shutdownDelay * 1000, drainTimeoutMs: options.drainTimeout * 1000 });
      // After the drain: Pods admitted meanwhile may still be waiting for a block. Releasing the
      // Lease lets another replica take over allocation at once.
      await allocation?.stop();
      cluster?.stop();
      policyFile?.stop();
      await policyParser.close();
    },
  };
}

// winston's json() lines without its per-line format pipeline (bench/README.md, "Logging"):
// every decision is logged at info.
export function createJsonLogger(level: LogLevel): Logger {
  return createJsonLineLogger({ level, write: (line) => process.stdout.write(line), now: Date.now });
}

function numberOption(flag: string, min: number, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < min || number > max) throw new UserError(`${flag} ${JSON.stringify(value)}: expected a whole number from ${min} to ${max}`);
    return number;
  };
}

function secondsOption(flag: string, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number) || number < 0 || number > max) {
      throw new UserError(`${flag} ${JSON.stringify(value)}: expected seconds from 0 to ${max}, e.g. 3 or 1.5`);
    }
    return number;
  };
}

function nameOption(flag: string, pattern: RegExp, maxLength: number, what: string) {
  return (value: string): string => {
    if (value.length > maxLength || !pattern.test(value)) throw new UserError(`${flag} ${JSON.stringify(value)}: not a valid ${what} (lowercase letters, digits and "-", at most ${maxLength})`);
    return value;
  };
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Run the mutating admission webhook (HTTPS: POST /mutate, POST /validate-policy, GET /healthz /readyz /metrics).')
    .option('--port <port>', 'port to listen on', numberOption('--port', 0, 65535), 8443)
    .option('--host <address>', 'address to bind', '0.0.0.0')
    .option('--tls-cert <file>', 'serving certificate (PEM); reloaded when the file changes')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
    .option('--policy <file>', 'policy file, for standalone use: every namespace counts as opted in; reloaded when it changes (a bad edit keeps the last good policy)')
    .option('--policy-configmap <namespace/name>', 'ConfigMap holding the policy under "policy.yaml", watched for changes')
    .option('--kubeconfig <file>', 'kubeconfig for --policy-configmap (default: KUBECONFIG, ~/.kube/config, or in-cluster)')
    .option('--fail-closed', 'refuse requests the webhook cannot judge (default: admit them unchanged with a warning)', false)
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .option('--shutdown-delay <seconds>', 'after SIGTERM, keep serving (not ready) this long so traffic moves away', numberOption('--shutdown-delay', 0, 300), 5)
    .option('--drain-timeout <seconds>', 'then wait at most this long for in-flight requests', numberOption('--drain-timeout', 0, 300), 20)
    .option(
      '--allocation-wait <seconds>',
      'with spec.allocation: how long a Pod waits for its namespace\'s UID block before it is denied; keep it under the webhook timeoutSeconds',
      secondsOption('--allocation-wait', 25),
      DEFAULT_ALLOCATION_WAIT_SECONDS,
    )
    .option('--allocation-namespace <namespace>', 'with spec.allocation: namespace of the allocator Lease and ledger ConfigMap (default: the policy ConfigMap\'s)', nameOption('--allocation-namespace', DNS_LABEL, 63, 'namespace name'))
    .option('--allocation-ledger <name>', 'name of the UID block ledger ConfigMap', nameOption('--allocation-ledger', DNS_SUBDOMAIN, 253, 'ConfigMap name'), DEFAULT_LEDGER_NAME)
    .option('--allocation-lease <name>', 'name of the allocator\'s leader-election Lease', nameOption('--allocation-lease', DNS_SUBDOMAIN, 253, 'Lease name'), DEFAULT_LEASE_NAME)
    .action(async (flags: ServeOptions & { logLevel: LogLevel }) => {
      const logger = createJsonLogger(flags.logLevel);
      const running = await startServe(flags, logger);
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGTERM', () => resolve('SIGTERM'));
        process.once('SIGINT', () => resolve('SIGINT'));
      });
      logger.info('signal received; shutting down (send it again to exit at once)', { signal });
      // Kubernetes sends one SIGTERM and waits; a second signal is a person at a terminal who
      // does not want to sit through the shutdown delay and the drain.
      const exitNow = (again: NodeJS.Signals): void => {
        logger.warn('second signal received; exiting without draining', { signal: again });
        // Log lines are written at the end of the turn: give this one a moment to go out.
        setTimeout(() => process.exit(EXIT_INTERRUPTED), 50);
      };
      process.once('SIGINT', () => exitNow('SIGINT'));
      process.once('SIGTERM', () => exitNow('SIGTERM'));
      await running.stop();
      logger.info('exiting');
      // Keep-alive sockets of the Kubernetes client may hold the event loop open; the work is done.
      setTimeout(() => process.exit(process.exitCode ?? 0), 1000).unref();
    });
}
