// Per-namespace UID blocks through the webhook process, as OpenShift users know them from
// openshift.io/sa.scc.uid-range: every opted-in namespace that no rule covers gets a block of its
// own, recorded on the namespace; its Pods run inside it, even the first Pod created right after
// the namespace; no two tenants share a UID; and the block outlives a webhook restart.
import { afterAll, beforeAll, describe, expect, jest } from '@jest/globals';
import {
  container,
  ENFORCE_RESTRICTED,
  flowTestWithLog,
  OPT_IN,
  startFlowEnvironment,
  type FlowEnvironment,
} from './support/flow-environment.js';

jest.setTimeout(5 * 60 * 1000);

const POOL = { min: 1_000_000_000, max: 1_999_999_999 };
const BLOCK = 10_000;
const POLICY = `apiVersion: secure-defaults.io/v1alpha1
kind: SecureDefaultsPolicy
metadata: { name: e2e-allocation }
spec:
  namespaces:
    - names: ["shared-*"]
      uidRange: "200000-209999"
  allocation:
    range: "${POOL.min}-${POOL.max}"
    blockSize: ${BLOCK}
  fallback:
    uidRange: "100000-165535"
`;
const UID_RANGE = 'secure-defaults.io/uid-range';
const TENANT_LABELS = { ...OPT_IN, ...ENFORCE_RESTRICTED };

let env: FlowEnvironment;
const flowTest = flowTestWithLog(() => env.logFile);

async function namespaceBlock(name: string): Promise<{ min: number; max: number } | null> {
  const annotation: unknown = (await env.kubectlJson(['get', 'namespace', name])).metadata.annotations?.[UID_RANGE];
  if (typeof annotation !== 'string') return null;
  const match = /^(\d+)-(\d+)$/.exec(annotation);
  if (!match) throw new Error(`namespace ${name}: ${UID_RANGE} is ${JSON.stringify(annotation)}, not MIN-MAX`);
  return { min: Number(match[1]), max: Number(match[2]) };
}

/** Creates the namespace and, without waiting for anything, its first Pod; returns the stored Pod's IDs. */
async function newTenantWithPod(name: string): Promise<{ runAsUser: number; runAsGroup: number; fsGroup: number }> {
  await env.createNamespace(name, TENANT_LABELS);
  const created = await env.kubectlCreatePod(name, 'first', { containers: [container('app')] });
  if (created.code !== 0) throw new Error(`the first Pod of ${name} was refused: ${created.stderr}`);
  return (await env.storedPod(name, 'first')).spec.securityContext;
}

beforeAll(async () => {
  env = await startFlowEnvironment(POLICY);
});

afterAll(async () => {
  await env?.teardown();
});

describe('per-namespace UID blocks', () => {
  const firstIds = new Map<string, number>();

  flowTest('a new opted-in namespace gets its own aligned block, and its first Pod, created right after it, runs inside it', async () => {
    const ids = await newTenantWithPod('tenant-a');
    const block = await namespaceBlock('tenant-a');
    expect(block).not.toBeNull();
    expect(block!.max - block!.min + 1).toBe(BLOCK);
    expect(block!.min).toBeGreaterThanOrEqual(POOL.min);
    expect(block!.max).toBeLessThanOrEqual(POOL.max);
    expect((block!.min - POOL.min) % BLOCK).toBe(0);
    for (const id of [ids.runAsUser, ids.runAsGroup, ids.fsGroup]) {
      expect(id).toBeGreaterThanOrEqual(block!.min);
      expect(id).toBeLessThanOrEqual(block!.max);
    }
    firstIds.set('tenant-a', ids.runAsUser);
  });

  flowTest('tenants never share a UID: every namespace\'s block and Pods are disjoint from the others\'', async () => {
    const tenants = ['tenant-b', 'tenant-c', 'tenant-d'];
    const ids = await Promise.all(tenants.map((name) => newTenantWithPod(name)));
    const blocks = await Promise.all(['tenant-a', ...tenants].map(async (name) => ({ name, block: (await namespaceBlock(name))! })));
    blocks.sort((x, y) => x.block.min - y.block.min);
    for (let i = 1; i < blocks.length; i++) {
      expect({ after: blocks[i - 1]!.name, name: blocks[i]!.name, overlaps: blocks[i]!.block.min <= blocks[i - 1]!.block.max }).toMatchObject({ overlaps: false });
    }
    tenants.forEach((name, i) => firstIds.set(name, ids[i]!.runAsUser));
    expect(new Set(firstIds.values()).size).toBe(firstIds.size);
  });

  flowTest('a namespace covered by a rule gets the rule\'s range and no block; one that did not opt in gets neither', async () => {
    await env.createNamespace('plain');
    const ids = await newTenantWithPod('shared-tools');
    expect(ids.runAsUser).toBe(200000);
    // tenant-e's block is only there after an allocation pass that also saw both namespaces above.
    await newTenantWithPod('tenant-e');
    expect(await namespaceBlock('tenant-e')).not.toBeNull();
    expect(await namespaceBlock('shared-tools')).toBeNull();
    expect(await namespaceBlock('plain')).toBeNull();
  });

  flowTest('blocks outlive a webhook restart: later Pods get the same IDs as before', async () => {
    expect(await env.webhook().stop('SIGTERM')).toEqual({ code: 0, signal: null });
    await env.startWebhook();
    await env.register('Fail');
    for (const [name, uid] of firstIds) {
      expect(await env.kubectlCreatePod(name, 'after-restart', { containers: [container('app')] })).toMatchObject({ code: 0 });
      expect({ name, runAsUser: (await env.storedPod(name, 'after-restart')).spec.securityContext.runAsUser }).toEqual({ name, runAsUser: uid });
    }
  });
});
