import { describe, expect, it } from '@jest/globals';
import { PolicyDrivenAllocator, type AllocatorRun } from '../../src/allocation/policy-driven-allocator.js';
import { parsePolicy } from '../../src/engine/index.js';
import type { CompiledPolicy } from '../../src/engine/model.js';
import { flushMicrotasks } from './fakes/fake-time.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };

function compile(allocation: boolean): CompiledPolicy {
  const parsed = parsePolicy(`apiVersion: secure-defaults.io/v1alpha1
kind: SecureDefaultsPolicy
metadata: { name: p }
spec:
  fallback: { uidRange: "100000-165535" }
${allocation ? '  allocation: { range: "1000000000-1999999999", blockSize: 10000 }\n' : ''}`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.policy;
}

/** Runs whose stop() the test settles by hand, recording what happened to each. */
function fakeRuns() {
  const log: string[] = [];
  const pendingStops: Array<() => void> = [];
  let count = 0;
  const createRun = (): AllocatorRun => {
    const id = ++count;
    log.push(`create ${id}`);
    return {
      start: () => void log.push(`start ${id}`),
      stop: () =>
        new Promise<void>((resolve) => {
          log.push(`stop ${id}`);
          pendingStops.push(() => {
            log.push(`stopped ${id}`);
            resolve();
          });
        }),
      requestPass: () => void log.push(`pass ${id}`),
    };
  };
  return { log, createRun, finishStops: () => pendingStops.splice(0).forEach((finish) => finish()) };
}

describe('PolicyDrivenAllocator', () => {
  it('runs only while the policy has spec.allocation, and one run at a time', async () => {
    const runs = fakeRuns();
    const allocator = new PolicyDrivenAllocator({ createRun: runs.createRun, logger: quiet });
    allocator.policyChanged(null);
    allocator.policyChanged(compile(false));
    await flushMicrotasks();
    expect(runs.log).toEqual([]);
    expect(allocator.isRunning()).toBe(false);

    allocator.policyChanged(compile(true));
    allocator.policyChanged(compile(true)); // an unrelated edit: the same run goes on
    await flushMicrotasks();
    expect(runs.log).toEqual(['create 1', 'start 1']);
    allocator.requestPass();
    expect(runs.log.at(-1)).toBe('pass 1');

    allocator.policyChanged(compile(false));
    allocator.requestPass(); // nothing runs: no pass to ask for
    allocator.policyChanged(compile(true));
    await flushMicrotasks();
    // The second run waits until the first has released the Lease.
    expect(runs.log).toEqual(['create 1', 'start 1', 'pass 1', 'stop 1', 'create 2']);
    runs.finishStops();
    await flushMicrotasks();
    expect(runs.log.slice(-2)).toEqual(['stopped 1', 'start 2']);
  });

  it('never starts a run that was switched off again before it could start', async () => {
    const runs = fakeRuns();
    const allocator = new PolicyDrivenAllocator({ createRun: runs.createRun, logger: quiet });
    allocator.policyChanged(compile(true));
    allocator.policyChanged(compile(false));
    await flushMicrotasks();
    runs.finishStops();
    await flushMicrotasks();
    expect(runs.log).toEqual(['create 1', 'stop 1', 'stopped 1']);
  });

  it('stop() resolves once the run has stopped, and later policies start nothing', async () => {
    const runs = fakeRuns();
    const allocator = new PolicyDrivenAllocator({ createRun: runs.createRun, logger: quiet });
    allocator.policyChanged(compile(true));
    await flushMicrotasks();
    let stopped = false;
    const stopping = allocator.stop().then(() => (stopped = true));
    await flushMicrotasks();
    expect(stopped).toBe(false);
    runs.finishStops();
    await stopping;
    allocator.policyChanged(compile(true));
    await flushMicrotasks();
    expect(runs.log).toEqual(['create 1', 'start 1', 'stop 1', 'stopped 1']);
  });

  it('logs a run that fails to stop and still lets the next one start', async () => {
    const warnings: string[] = [];
    let created = 0;
    const started: number[] = [];
    const allocator = new PolicyDrivenAllocator({
      createRun: () => {
        const id = ++created;
        return { start: () => void started.push(id), stop: () => Promise.reject(new Error('lease update refused')), requestPass: () => {} };
      },
      logger: { ...quiet, warn: (message: string, fields?: Record<string, unknown>) => void warnings.push(`${message}: ${String(fields?.error)}`) },
    });
    allocator.policyChanged(compile(true));
    await flushMicrotasks();
    allocator.policyChanged(compile(false));
    allocator.policyChanged(compile(true));
    await flushMicrotasks();
    expect(started).toEqual([1, 2]);
    expect(warnings).toEqual(['allocator did not stop cleanly: Error: lease update refused']);
  });
});
