// `serve` and spec.allocation: the flags, and standalone mode, which has no cluster to allocate in.
import { describe, expect, it } from '@jest/globals';
import { Command } from 'commander';
import { DEFAULT_ALLOCATION_WAIT_SECONDS, registerServeCommand, startServe, type ServeOptions } from '../../src/cli/commands/serve.js';
import { decodePatch, httpsCall, podReview, RecordingLogger } from './webhook-harness.js';

const base: ServeOptions = { port: 0, host: '127.0.0.1', failClosed: false, shutdownDelay: 0, drainTimeout: 2 };

function serveFlags(args: readonly string[]): Record<string, unknown> {
  const program = new Command().exitOverride();
  registerServeCommand(program);
  const serve = program.commands.find((c) => c.name() === 'serve')!;
  serve.action(() => {}).exitOverride();
  program.parse(['serve', ...args], { from: 'user' });
  return serve.opts();
}

describe('serve with spec.allocation', () => {
  it('standalone (--policy FILE): starts, warns that allocation cannot run, and gives unmatched namespaces spec.fallback at once', async () => {
    const logger = new RecordingLogger();
    const running = await startServe({ ...base, policy: 'policies/multi-tenant.yaml', allocationWait: 20 }, logger);
    try {
      const started = Date.now();
      const answer = await httpsCall(running.webhook.port, {
        method: 'POST',
        path: '/mutate',
        ca: running.webhook.initialCertificatePem,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(podReview({ uid: 'standalone', namespace: 'no-rule-matches' })),
      });
      const patch = decodePatch(answer.json().response) as Array<{ path: string; value: { runAsUser?: number } }>;
      expect(patch.find((op) => op.path === '/spec/securityContext')?.value.runAsUser).toBe(100000);
      // Far below the 20 s wait: nothing waited for a block.
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await running.stop();
    }
    const warning = logger.entries.find((e) => e.level === 'warn' && e.message.startsWith('spec.allocation has no effect with --policy FILE'));
    expect(warning?.message).toContain('Use --policy-configmap to run the allocator');
  });

  it('does not warn about allocation for a policy without it', async () => {
    const logger = new RecordingLogger();
    const running = await startServe({ ...base, policy: 'policies/default.yaml' }, logger);
    await running.stop();
    expect(logger.entries.some((e) => e.message.includes('spec.allocation'))).toBe(false);
  });

  it('defaults: a 3 s wait (under the chart\'s 5 s timeoutSeconds), the allocator\'s Lease and ledger names', () => {
    expect(DEFAULT_ALLOCATION_WAIT_SECONDS).toBe(3);
    expect(serveFlags([])).toMatchObject({ allocationWait: 3, allocationLedger: 'secure-defaults-uid-ledger', allocationLease: 'secure-defaults-allocator' });
    expect(serveFlags([]).allocationNamespace).toBeUndefined();
    expect(serveFlags(['--allocation-wait', '1.5', '--allocation-namespace', 'sd-system', '--allocation-ledger', 'sd-uid-ledger', '--allocation-lease', 'sd-allocator'])).toMatchObject({
      allocationWait: 1.5,
      allocationNamespace: 'sd-system',
      allocationLedger: 'sd-uid-ledger',
      allocationLease: 'sd-allocator',
    });
  });

  it.each([
    [['--allocation-wait', 'soon'], /--allocation-wait "soon": expected seconds from 0 to 25/],
    [['--allocation-wait', '30'], /--allocation-wait "30": expected seconds from 0 to 25/],
    [['--allocation-wait', '-1'], /expected seconds from 0 to 25/],
    [['--allocation-wait', ''], /expected seconds from 0 to 25/],
    [['--allocation-namespace', 'Kube_System'], /--allocation-namespace "Kube_System": not a valid namespace name/],
    [['--allocation-ledger', 'ledger/x'], /--allocation-ledger "ledger\/x": not a valid ConfigMap name/],
    [['--allocation-lease', 'UPPER'], /--allocation-lease "UPPER": not a valid Lease name/],
  ])('refuses %j', (args, message) => {
    expect(() => serveFlags(args)).toThrow(message);
  });
});
