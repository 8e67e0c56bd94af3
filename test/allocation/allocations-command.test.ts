// `secure-defaults allocations` and `allocations repair`, run in-process through commander with an
// in-memory cluster (the e2e suite runs the same commands against a real API server).
import { describe, expect, it } from '@jest/globals';
import { Command } from 'commander';
import type { CliIo } from '../../src/cli/cli-io.js';
import type { ClusterConnection } from '../../src/cli/commands/allocations.js';
import { registerAllocationsCommand } from '../../src/cli/commands/allocations.js';
import { UserError } from '../../src/cli/user-error.js';
import { decodeLedger, encodeLedger, LEDGER_FORMAT } from '../../src/allocation/ledger.js';
import { checkRestricted, hardenManifest, parsePolicy } from '../../src/engine/index.js';
import { MemoryCluster } from './fakes/memory-cluster.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const RANGE = 'secure-defaults.io/uid-range';

async function run(cluster: MemoryCluster, args: string[], files: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  let code = 0;
  const connections: ClusterConnection[] = [];
  const io: CliIo = {
    readFile: async (path) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      return text;
    },
    readStdin: async () => '',
    writeStdout: (t) => void (stdout += t),
    writeStderr: (t) => void (stderr += t),
  };
  const program = new Command('secure-defaults').exitOverride();
  registerAllocationsCommand(
    program,
    { io, engine: { parsePolicy, hardenManifest, checkRestricted }, defaultPolicyPath: '/none' },
    (c) => void (code = c),
    (connection) => {
      connections.push(connection);
      return cluster;
    },
    { now: () => NOW },
  );
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    stderr += `error: ${error.message}\n`;
    code = 2;
  }
  return { code, stdout, stderr, connections };
}

function populated(): MemoryCluster {
  const cluster = new MemoryCluster();
  const a = cluster.addNamespace('team-a', {}, { [RANGE]: '1000-1099' });
  const b = cluster.addNamespace('team-b');
  cluster.addNamespace('copycat', {}, { [RANGE]: '1050-1060' });
  cluster.addNamespace('unrelated');
  cluster.setLedgerData(
    encodeLedger({
      entries: [
        { range: { min: 1000, max: 1099 }, namespace: 'team-a', namespaceUid: a.uid, deletedAt: null },
        { range: { min: 1100, max: 1199 }, namespace: 'team-b', namespaceUid: b.uid, deletedAt: null },
        { range: { min: 1200, max: 1299 }, namespace: 'old', namespaceUid: 'uid-old', deletedAt: Date.parse('2026-01-01T00:00:00Z') },
      ],
    }),
  );
  return cluster;
}

describe('secure-defaults allocations', () => {
  it('lists annotations and ledger side by side, with what each state means', async () => {
    const result = await run(populated(), ['allocations', '--namespace', 'sd-system', '--kubeconfig', '/k']);
    expect(result.code).toBe(0);
    expect(result.connections).toEqual([{ namespace: 'sd-system', ledgerName: 'secure-defaults-uid-ledger', kubeconfig: '/k' }]);
    expect(result.stdout.split('\n')).toEqual([
      expect.stringMatching(/^NAMESPACE\s+UID-RANGE\s+LEDGER\s+STATUS$/),
      expect.stringMatching(/^copycat\s+1050-1060\s+-\s+not in ledger/),
      expect.stringMatching(/^old\s+-\s+1200-1299\s+deleted 2026-01-01T00:00:00.000Z; block reserved$/),
      expect.stringMatching(/^team-a\s+1000-1099\s+1000-1099\s+ok$/),
      expect.stringMatching(/^team-b\s+-\s+1100-1199\s+allocated, annotation not written yet$/),
      '',
    ]);
  });

  it('prints JSON with -o json', async () => {
    const result = await run(populated(), ['allocations', '-o', 'json']);
    expect(JSON.parse(result.stdout)).toContainEqual({ namespace: 'team-a', annotation: '1000-1099', ledger: '1000-1099', status: 'ok' });
  });

  it('refuses an unknown output format', async () => {
    const result = await run(populated(), ['allocations', '-o', 'yaml']);
    expect(result).toMatchObject({ code: 2, stderr: 'error: --output must be table or json, got "yaml"\n' });
  });

  it('exits 1 on a damaged ledger and points to repair', async () => {
    const cluster = populated();
    cluster.setLedgerData({ format: LEDGER_FORMAT, blocks: 'garbage\n' });
    const result = await run(cluster, ['allocations']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/ledger is damaged \(line 1: .*\); allocation is stopped until you run `secure-defaults allocations repair`/);
  });
});

describe('secure-defaults allocations repair', () => {
  it('rebuilds the ledger, reports the conflicts and exits 1 while any remain', async () => {
    const cluster = populated();
    cluster.setLedgerData({ format: LEDGER_FORMAT, blocks: 'garbage\n' });
    const result = await run(cluster, ['allocations', 'repair', '--namespace', 'sd-system']);
    expect(result.connections[0]?.namespace).toBe('sd-system');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^note: old ledger: line 1: expected/m);
    expect(result.stdout).toMatch(/^conflict: namespace copycat: secure-defaults.io\/uid-range "1050-1060" overlaps 1000-1099 of namespace team-a/m);
    expect(result.stdout).toMatch(/^ledger rebuilt: 1 live and 0 reserved blocks$/m);
    expect(result.stderr).toBe('1 conflict needs a fix by hand (see above), then run repair again\n');
    const ledger = decodeLedger(cluster.ledgerData());
    expect(ledger.ok && ledger.ledger.entries.map((e) => e.namespace)).toEqual(['team-a']);
  });

  it('keeps reserved blocks and reports annotations outside the policy pool', async () => {
    const cluster = populated();
    cluster.updateNamespace('copycat', (ns) => ({ annotations: { ...ns.annotations, [RANGE]: '9000-9099' } }));
    const policy = `apiVersion: secure-defaults.io/v1alpha1
kind: SecureDefaultsPolicy
metadata: { name: p }
spec:
  allocation: { range: "1000-1999", blockSize: 100 }
`;
    const result = await run(cluster, ['allocations', 'repair', '--policy', '/p.yaml'], { '/p.yaml': policy });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^note: namespace copycat: "9000-9099" is outside the pool 1000-1999; kept as set by hand$/m);
    expect(result.stdout).toMatch(/ledger rebuilt: 3 live and 1 reserved blocks/);
  });

  it('changes nothing with --dry-run', async () => {
    const cluster = populated();
    const before = cluster.ledgerData();
    const result = await run(cluster, ['allocations', 'repair', '--dry-run']);
    expect(result.stdout).toMatch(/dry run: the rebuilt ledger would hold 2 live and 1 reserved blocks; nothing written/);
    expect(cluster.ledgerData()).toBe(before);
  });

  it('refuses to write over a ledger that changed meanwhile', async () => {
    const cluster = populated();
    cluster.beforeLedgerWrite = () => cluster.setLedgerData(encodeLedger({ entries: [] }));
    const result = await run(cluster, ['allocations', 'repair']);
    expect(result).toMatchObject({ code: 2, stderr: expect.stringContaining('the ledger changed while it was being repaired') });
  });

  it('says which policy file it could not read', async () => {
    const result = await run(populated(), ['allocations', 'repair', '--policy', '/missing.yaml']);
    expect(result).toMatchObject({ code: 2, stderr: 'error: cannot read policy "/missing.yaml": no such file\n' });
  });
});
