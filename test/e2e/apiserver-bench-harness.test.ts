// The harness of `npm run bench:apiserver` against the real kube-apiserver it loads, so the
// benchmark cannot silently measure the wrong thing: each namespace's Pod gets exactly its
// setup's changes (and the check tells the setups apart), the bounded load loop creates real Pods
// over keep-alive connections, dryRun=All still runs the webhooks but stores nothing, and the
// deletes between rounds leave no Pod behind.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createdPodProblems, SETUP_NAMES, type SetupName } from '../../bench/apiserver/admission-setups.js';
import { startApiServerRig, type ApiServerRig, type PreparedSetup } from '../../bench/apiserver/apiserver-rig.js';
import { runCreateLoad } from '../../bench/apiserver/pod-create-load.js';
import { compileCli, type CompiledCli } from './rig/compiled-cli.js';

jest.setTimeout(5 * 60 * 1000);

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('bench:apiserver harness, through a real kube-apiserver', () => {
  let rig: ApiServerRig;
  let cli: CompiledCli | undefined;
  let logDir: string;
  const setup = (name: SetupName): PreparedSetup => {
    const found = rig.setups.find((candidate) => candidate.name === name);
    if (!found) throw new Error(`setup ${name} was not prepared`);
    return found;
  };
  const podCount = async (namespace: string): Promise<number> => {
    const listed = await rig.plane.kubectl(['get', 'pods', '-n', namespace, '-o', 'name']);
    return listed.stdout.split('\n').filter((line) => line !== '').length;
  };

  beforeAll(async () => {
    logDir = await mkdtemp(join(tmpdir(), 'secure-defaults-apibench-test-'));
    const compiling = compileCli({ typeCheck: false }).then((compiled) => {
      cli = compiled;
      return join(compiled.root, 'dist');
    });
    rig = await startApiServerRig({
      setups: SETUP_NAMES,
      distRoot: compiling,
      policyFile: join(REPO_ROOT, 'policies', 'default.yaml'),
      nodeFlags: [],
      logLevel: 'info',
      logDir,
    });
  });

  afterAll(async () => {
    await rig?.stop();
    await cli?.remove();
    if (logDir) await rm(logDir, { recursive: true, force: true });
  });

  test('every setup is prepared where MutatingAdmissionPolicy is served (v1, on by default since 1.36); before, the policy is reported unavailable', () => {
    const minor = Number(/^v1\.(\d+)\./.exec(rig.serverVersion)?.[1]);
    expect(minor).toBeGreaterThan(0);
    if (minor >= 36) {
      expect(rig.unavailable).toEqual([]);
      expect(rig.setups.map((prepared) => prepared.name)).toEqual(SETUP_NAMES);
    } else {
      expect(rig.unavailable.map((missing) => missing.name)).toEqual(['policy']);
      expect(rig.setups.map((prepared) => prepared.name)).toEqual(SETUP_NAMES.filter((name) => name !== 'policy'));
    }
  });

  test("each namespace's created Pod got exactly its setup's changes, and no other setup's", async () => {
    expect(await rig.checkSetups()).toEqual([]);
    for (const actual of rig.setups) {
      const created = await rig.createOne(actual);
      expect(created.status).toBe(201);
      for (const claimed of SETUP_NAMES) {
        const problems = createdPodProblems(claimed, created.pod!);
        if (claimed === actual.name) expect(problems).toEqual([]);
        else expect(problems).not.toEqual([]);
      }
      await rig.deletePods(actual.namespace);
    }
  });

  test('a bounded load run makes real creates over one keep-alive connection per client, and the delete leaves none', async () => {
    const target = setup('secure-defaults');
    const result = await runCreateLoad({ url: target.podsUrl, body: rig.podBody, credentials: rig.credentials, concurrency: 2, maxRequests: 12, maxDurationMs: 10_000, requestTimeoutMs: 10_000 });
    expect(result.firstFailure).toBeUndefined();
    expect(result.created).toBe(12);
    expect(result.latenciesUs).toHaveLength(12);
    expect(result.connectionsOpened).toBe(2);
    expect(await podCount(target.namespace)).toBe(12);
    expect(await rig.deletePods(target.namespace)).toBe(12);
    expect(await podCount(target.namespace)).toBe(0);
  });

  test('dryRun=All runs the webhook (the answer is hardened) but stores nothing', async () => {
    const target = setup('secure-defaults');
    const dry = await rig.createOne(target, '?dryRun=All');
    expect(dry.status).toBe(201);
    expect(createdPodProblems('secure-defaults', dry.pod!)).toEqual([]);
    expect(await podCount(target.namespace)).toBe(0);
  });

  test('the load loop refuses any target but 127.0.0.1', async () => {
    await expect(
      runCreateLoad({ url: new URL('https://localhost:6443/api/v1/namespaces/x/pods'), body: rig.podBody, credentials: rig.credentials, concurrency: 1, maxRequests: 1, maxDurationMs: 1_000, requestTimeoutMs: 1_000 }),
    ).rejects.toThrow('only https://127.0.0.1 is allowed');
  });
});
