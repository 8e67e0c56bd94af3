// The allocator as a process of its own: `node allocator-process.js --kubeconfig K --namespace N
// --policy P`. The webhook runs the same AllocatorService in-process; this entry exists so the
// allocator can be run (and killed) alone, as the e2e test does with two of them. It writes one
// JSON line per log record and per pass to stdout (allocator-log.ts).
import { KubeConfig } from '@kubernetes/client-node';
import { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { Registry } from 'prom-client';
import { parsePolicy } from '../engine/index.js';
import { createAllocatorMetrics } from '../allocation/allocator-metrics.js';
import { allocatorPolicyFrom } from '../allocation/allocator-policy.js';
import { AllocatorService } from '../allocation/allocator-service.js';
import { KubeAllocationCluster, KubeLeaseStore } from '../cluster/kube-allocation-cluster.js';
import { kubeNamespaceChanges } from '../cluster/kube-namespace-feed.js';
import { realSleep } from '../foundation/clock.js';
import { NamespaceBlockAllocator } from '../allocation/namespace-block-allocator.js';
import { describePolicyErrors } from '../engine/policy-config-map.js';
import { createAllocatorLogger } from './allocator-log.js';

/** The logger writes a turn's lines at the end of the turn: give it one before exiting. */
const LOG_FLUSH_MS = 50;

async function main(argv: readonly string[]): Promise<void> {
  const options = new Command('allocator-process')
    .requiredOption('--policy <file>', 'SecureDefaultsPolicy YAML with spec.allocation')
    .requiredOption('--namespace <name>', 'namespace of the ledger ConfigMap and the Lease')
    .option('--kubeconfig <file>', 'kubeconfig (default: in-cluster or $KUBECONFIG)')
    .option('--identity <id>', 'unique name of this replica', `${hostname()}-${process.pid}`)
    .option('--lease-duration-ms <ms>', 'Lease duration', '15000')
    .option('--renew-deadline-ms <ms>', 'renew deadline', '10000')
    .option('--retry-period-ms <ms>', 'retry period', '2000')
    .option('--resync-ms <ms>', 'full pass at least this often', '30000')
    .parse([...argv], { from: 'user' })
    .opts<{ policy: string; namespace: string; kubeconfig?: string; identity: string; leaseDurationMs: string; renewDeadlineMs: string; retryPeriodMs: string; resyncMs: string }>();
  const logger = createAllocatorLogger(options.identity, process.stdout, Date.now);
  const parsed = parsePolicy(await readFile(options.policy, 'utf8'));
  if (!parsed.ok) throw new Error(`${options.policy}: ${describePolicyErrors(parsed.errors)}`);
  const policy = allocatorPolicyFrom(parsed.policy);
  if (policy === null) throw new Error(`${options.policy}: spec.allocation is missing; add it to turn allocation on`);

  const kubeConfig = new KubeConfig();
  if (options.kubeconfig) kubeConfig.loadFromFile(options.kubeconfig);
  else kubeConfig.loadFromDefault();
  const metrics = createAllocatorMetrics(new Registry());
  const clock = { now: () => Date.now() };
  const allocator = new NamespaceBlockAllocator({
    cluster: new KubeAllocationCluster(kubeConfig, { namespace: options.namespace, instance: options.identity }),
    policy: () => policy,
    clock,
    logger,
    metrics,
  });
  const service = new AllocatorService({
    identity: options.identity,
    leaseStore: new KubeLeaseStore(kubeConfig, options.namespace),
    allocator,
    namespaceChanges: kubeNamespaceChanges(kubeConfig, { logger, sleep: realSleep }),
    clock,
    sleep: realSleep,
    logger,
    metrics,
    leaseDurationMs: Number(options.leaseDurationMs),
    renewDeadlineMs: Number(options.renewDeadlineMs),
    retryPeriodMs: Number(options.retryPeriodMs),
    resyncMs: Number(options.resyncMs),
    onPass: (outcome) =>
      logger.info('pass', {
        outcome: outcome.status,
        ...(outcome.status === 'done' ? { allocated: outcome.plan.allocated.length, problems: outcome.plan.problems.length } : {}),
      }),
  });
  const shutdown = (): void => {
    void service.stop().then(() => setTimeout(() => process.exit(0), LOG_FLUSH_MS));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  service.start();
  logger.info('allocator started', { namespace: options.namespace });
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`allocator-process: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
