// The allocator against a real kube-apiserver, run as two separate processes so that killing the
// leader is a real kill: 200 opted-in namespaces created as fast as the API server takes them,
// the leader SIGKILLed half-way, and then both processes and the API server restarted.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { CoordinationV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Namespace } from '@kubernetes/client-node';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseIdRangeText, rangesOverlap } from '../../src/allocation/id-range-text.js';
import { decodeLedger } from '../../src/allocation/ledger.js';
import { Command } from 'commander';
import { registerAllocationsCommand } from '../../src/cli/commands/allocations.js';
import { UserError } from '../../src/cli/user-error.js';
import { checkRestricted, hardenManifest, parsePolicy } from '../../src/engine/index.js';
import type { IdRange } from '../../src/engine/model.js';
import { startControlPlane, type ControlPlane } from './rig/control-plane.js';

jest.setTimeout(10 * 60 * 1000); // the first run builds kube-apiserver from source

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD_DIR = join(REPO, 'node_modules/.cache/secure-defaults-e2e-allocation');
const ENTRY = join(BUILD_DIR, 'src/cli/allocator-process.js');
const SYSTEM_NS = 'secure-defaults-system';
const POOL = { min: 1_000_000_000, max: 1_999_999_999 };
const BLOCK = 10_000;
const OPTED_IN = { 'secure-defaults.io/inject': 'enabled' };
const UID_RANGE = 'secure-defaults.io/uid-range';
const POLICY = `apiVersion: secure-defaults.io/v1alpha1
kind: SecureDefaultsPolicy
metadata: { name: e2e-allocation }
spec:
  namespaces:
    - names: [ruled]
      uidRange: "50000-59999"
  allocation: { range: "${POOL.min}-${POOL.max}", blockSize: ${BLOCK} }
`;

interface AllocatorChild {
  readonly identity: string;
  readonly process: ChildProcess;
  readonly lines: Array<Record<string, unknown>>;
}

/** Compiles only the allocator process and what it imports (not the whole repo, which others are editing). */
async function compileAllocatorProcess(): Promise<void> {
  const tsc = join(REPO, 'node_modules/.bin/tsc');
  const args = ['--ignoreConfig', '--outDir', BUILD_DIR, '--rootDir', REPO, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'ES2022', '--skipLibCheck', '--types', 'node', '--strict', join(REPO, 'src/cli/allocator-process.ts')];
  await promisify(execFile)(tsc, args, { cwd: REPO });
  if (!existsSync(ENTRY)) throw new Error(`tsc produced no ${ENTRY}`);
}

async function waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('UID block allocator against a real API server', () => {
  let plane: ControlPlane;
  let core: CoreV1Api;
  let coordination: CoordinationV1Api;
  let policyPath: string;
  const children: AllocatorChild[] = [];

  function startAllocator(identity: string): AllocatorChild {
    const child = spawn(
      process.execPath,
      [ENTRY, '--kubeconfig', plane.kubeconfigPath, '--namespace', SYSTEM_NS, '--policy', policyPath, '--identity', identity,
        '--lease-duration-ms', '4000', '--renew-deadline-ms', '3000', '--retry-period-ms', '500', '--resync-ms', '5000'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const entry: AllocatorChild = { identity, process: child, lines: [] };
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        try {
          entry.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          entry.lines.push({ message: line });
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => entry.lines.push({ level: 'stderr', message: chunk.toString() }));
    children.push(entry);
    return entry;
  }

  async function stopAllocator(child: AllocatorChild, signal: NodeJS.Signals): Promise<void> {
    if (child.process.exitCode !== null || child.process.signalCode !== null) return;
    const exited = new Promise((r) => child.process.once('exit', r));
    child.process.kill(signal);
    await exited;
  }

  async function leaseHolder(): Promise<string> {
    const lease = await coordination.readNamespacedLease({ name: 'secure-defaults-allocator', namespace: SYSTEM_NS });
    return lease.spec?.holderIdentity ?? '';
  }

  async function createNamespaces(names: readonly string[], labels: Record<string, string>, concurrency = 16): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < names.length) {
          const name = names[next++]!;
          await core.createNamespace({ body: { metadata: { name, labels } } });
        }
      }),
    );
  }

  async function blocksOf(prefix: string): Promise<Map<string, string | undefined>> {
    const list = await core.listNamespace();
    return new Map(
      list.items
        .filter((ns: V1Namespace) => ns.metadata?.name?.startsWith(prefix))
        .map((ns: V1Namespace) => [ns.metadata!.name!, ns.metadata?.annotations?.[UID_RANGE]]),
    );
  }

  function expectDisjointAlignedBlocks(blocks: Map<string, string | undefined>): void {
    const ranges: Array<[string, IdRange]> = [];
    for (const [name, text] of blocks) {
      const parsed = parseIdRangeText(text ?? '');
      if (!parsed.ok) throw new Error(`namespace ${name} has no valid block: ${String(text)}`);
      expect(parsed.range.min).toBeGreaterThanOrEqual(POOL.min);
      expect(parsed.range.max).toBeLessThanOrEqual(POOL.max);
      expect((parsed.range.min - POOL.min) % BLOCK).toBe(0);
      expect(parsed.range.max - parsed.range.min + 1).toBe(BLOCK);
      ranges.push([name, parsed.range]);
    }
    ranges.sort((a, b) => a[1].min - b[1].min);
    for (let i = 1; i < ranges.length; i++) {
      const [prevName, prev] = ranges[i - 1]!;
      const [name, range] = ranges[i]!;
      if (rangesOverlap(prev, range)) throw new Error(`${prevName} and ${name} share IDs: ${prev.min}-${prev.max} / ${range.min}-${range.max}`);
    }
  }

  async function ledgerEntries() {
    const cm = await core.readNamespacedConfigMap({ name: 'secure-defaults-uid-ledger', namespace: SYSTEM_NS });
    const decoded = decodeLedger(cm.data);
    if (!decoded.ok) throw new Error(`ledger unreadable: ${JSON.stringify(decoded.errors)}`);
    return decoded.ledger.entries;
  }

  /** The real `allocations` command with the real kubeconfig connector, output captured. */
  async function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    let code = 0;
    const program = new Command('secure-defaults').exitOverride();
    registerAllocationsCommand(
      program,
      {
        io: { readFile: async () => '', readStdin: async () => '', writeStdout: (t) => void (stdout += t), writeStderr: (t) => void (stderr += t) },
        engine: { parsePolicy, hardenManifest, checkRestricted },
        defaultPolicyPath: '/none',
      },
      (c) => void (code = c),
    );
    try {
      await program.parseAsync(['allocations', ...args, '--kubeconfig', plane.kubeconfigPath, '--namespace', SYSTEM_NS], { from: 'user' });
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      return { code: 2, stdout, stderr: `${stderr}error: ${error.message}\n` };
    }
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    const [started] = await Promise.all([startControlPlane(), compileAllocatorProcess()]);
    plane = started;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(plane.kubeconfigPath);
    core = kubeConfig.makeApiClient(CoreV1Api);
    coordination = kubeConfig.makeApiClient(CoordinationV1Api);
    policyPath = join(plane.tempDir, 'allocation-policy.yaml');
    await writeFile(policyPath, POLICY);
    await core.createNamespace({ body: { metadata: { name: SYSTEM_NS } } });
  });

  afterAll(async () => {
    const problems = children.flatMap((c) => c.lines.filter((l) => l['level'] !== 'info').map((l) => `${c.identity}: ${JSON.stringify(l)}`));
    if (problems.length > 0) console.log(`allocator warnings and errors:\n${problems.slice(0, 40).join('\n')}`);
    await Promise.all(children.map((c) => stopAllocator(c, 'SIGKILL')));
    await plane?.stop();
  });

  const first200 = Array.from({ length: 200 }, (_, i) => `tenant-${String(i).padStart(3, '0')}`);
  let blocksBeforeRestart: Map<string, string | undefined>;

  test('200 namespaces created at full speed each get their own block, across a SIGKILL of the leader', async () => {
    const a = startAllocator('allocator-a');
    const b = startAllocator('allocator-b');
    const firstLeader = await waitUntil('a leader', 30_000, async () => {
      const holder = await leaseHolder();
      return holder === a.identity || holder === b.identity ? holder : null;
    });
    const [leader, follower] = firstLeader === a.identity ? [a, b] : [b, a];
    await createNamespaces(['not-opted-in'], {});
    await createNamespaces(['ruled'], OPTED_IN);

    const started = Date.now();
    await createNamespaces(first200.slice(0, 100), OPTED_IN);
    // Some of the first hundred are allocated by now, some are not: kill the leader mid-stream.
    await waitUntil('the leader to allocate some blocks', 30_000, async () => [...(await blocksOf('tenant-')).values()].some(Boolean));
    await stopAllocator(leader, 'SIGKILL');
    const killedAt = Date.now();
    await createNamespaces(first200.slice(100), OPTED_IN);
    const created = Date.now();

    await waitUntil(`the follower ${follower.identity} to take the lease`, 30_000, async () => (await leaseHolder()) === follower.identity);
    const tookOverAfterMs = Date.now() - killedAt;
    blocksBeforeRestart = await waitUntil('all 200 namespaces to carry a block', 90_000, async () => {
      const blocks = await blocksOf('tenant-');
      return blocks.size === 200 && [...blocks.values()].every(Boolean) ? blocks : null;
    });
    console.log(
      `created 200 namespaces in ${created - started} ms; follower took over ${tookOverAfterMs} ms after the kill; all allocated ${Date.now() - started} ms after the first create`,
    );
    expectDisjointAlignedBlocks(blocksBeforeRestart);
    expect(follower.lines.some((l) => l['message'] === 'became leader')).toBe(true);

    const all = await blocksOf('');
    expect(all.get('not-opted-in')).toBeUndefined();
    expect(all.get('ruled')).toBeUndefined();
    const entries = await ledgerEntries();
    const live = new Map(entries.filter((e) => e.deletedAt === null).map((e) => [e.namespace, `${e.range.min}-${e.range.max}`]));
    expect(live).toEqual(blocksBeforeRestart);
  });

  test('a hand-set annotation that overlaps another namespace is refused with a Warning Event', async () => {
    const victim = blocksBeforeRestart.get('tenant-007')!;
    const [min] = victim.split('-');
    await core.createNamespace({ body: { metadata: { name: 'copycat', labels: OPTED_IN, annotations: { [UID_RANGE]: `${min}-${Number(min) + 99}` } } } });
    await core.createNamespace({ body: { metadata: { name: 'hand-set', labels: OPTED_IN, annotations: { [UID_RANGE]: '2100000000-2100009999' } } } });
    const event = await waitUntil('a UidRangeCollision Event in namespace copycat', 20_000, async () => {
      const events = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.kind=Namespace,involvedObject.name=copycat' });
      return events.items.find((e) => e.reason === 'UidRangeCollision');
    });
    expect(event.type).toBe('Warning');
    expect(event.involvedObject.kind).toBe('Namespace');
    expect(event.message).toContain('namespace tenant-007');
    // What an admin runs to find out why the namespace got no block.
    const listed = await plane.kubectl(['get', 'events', '-n', 'default', '--field-selector', 'involvedObject.kind=Namespace,involvedObject.name=copycat']);
    expect(listed.stdout).toMatch(/Warning\s+UidRangeCollision\s+namespace\/copycat/);
    await waitUntil('the hand-set range to be adopted into the ledger', 30_000, async () =>
      (await ledgerEntries()).some((e) => e.namespace === 'hand-set' && e.range.min === 2_100_000_000 && e.deletedAt === null),
    );
  });

  test('blocks survive a restart of both allocators and the API server, and allocation goes on', async () => {
    await Promise.all(children.map((c) => stopAllocator(c, 'SIGTERM')));
    await plane.restartApiServer();
    startAllocator('allocator-c');
    startAllocator('allocator-d');
    const later = ['late-1', 'late-2', 'late-3'];
    await createNamespaces(later, OPTED_IN);
    const lateBlocks = await waitUntil('the new namespaces to get blocks', 60_000, async () => {
      const blocks = await blocksOf('late-');
      return blocks.size === 3 && [...blocks.values()].every(Boolean) ? blocks : null;
    });
    expect(await blocksOf('tenant-')).toEqual(blocksBeforeRestart);
    expectDisjointAlignedBlocks(new Map([...blocksBeforeRestart, ...lateBlocks]));
    const entries = await ledgerEntries();
    expect(entries.filter((e) => e.deletedAt === null)).toHaveLength(200 + 3 + 1);
  });

  test('`allocations` lists the blocks; a damaged ledger stops allocation until `allocations repair` rebuilds it', async () => {
    const listed = await cli([]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^tenant-007\\s+${blocksBeforeRestart.get('tenant-007')}\\s+${blocksBeforeRestart.get('tenant-007')}\\s+ok$`, 'm'));
    expect(listed.stdout).toMatch(/^copycat\s+\S+\s+-\s+not in ledger/m);

    await core.patchNamespacedConfigMap(
      { name: 'secure-defaults-uid-ledger', namespace: SYSTEM_NS, body: { data: { blocks: 'this is not a ledger\n' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const damaged = await cli([]);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toContain('allocations repair');
    await createNamespaces(['during-damage'], OPTED_IN);
    await waitUntil('the allocator to report the damaged ledger', 30_000, async () =>
      children.some((c) => c.lines.some((l) => String(l['message']).includes('ledger ConfigMap is damaged'))),
    );
    expect((await blocksOf('during-damage')).get('during-damage')).toBeUndefined();

    const repaired = await cli(['repair']);
    expect(repaired.stdout).toMatch(/^conflict: namespace copycat: .*overlaps .* of namespace tenant-007/m);
    expect(repaired.stdout).toMatch(/^ledger rebuilt: 204 live and 0 reserved blocks$/m);
    expect(repaired.code).toBe(1); // copycat still needs a range of its own
    const resumed = await waitUntil('allocation to resume after the repair', 30_000, async () => (await blocksOf('during-damage')).get('during-damage'));
    expectDisjointAlignedBlocks(new Map([...blocksBeforeRestart, ['during-damage', resumed]]));
    expect(await blocksOf('tenant-')).toEqual(blocksBeforeRestart);
  });
});
