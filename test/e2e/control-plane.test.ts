// The rig itself: a real kube-apiserver whose PodSecurity admission refuses what "restricted"
// forbids. Later e2e suites rely on this verdict to judge the webhook's output.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { stringify as toYaml } from 'yaml';
import { startControlPlane, type ControlPlane } from './rig/control-plane.js';

jest.setTimeout(15 * 60 * 1000); // the first run builds kube-apiserver from source

const RESTRICTED = { 'pod-security.kubernetes.io/enforce': 'restricted' };

function podManifest(namespace: string, name: string, spec: Record<string, unknown>): string {
  return toYaml({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec });
}

describe('test control plane', () => {
  let plane: ControlPlane;

  beforeAll(async () => {
    plane = await startControlPlane();
    console.log(`control plane ready in ${plane.startupMs} ms at ${plane.server} (logs: ${plane.tempDir})`);
  });

  afterAll(async () => {
    await plane?.stop();
  });

  test('serves the API to the admin kubeconfig as system:masters', async () => {
    const whoami = await plane.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.groups}']);
    expect(whoami).toMatchObject({ code: 0 });
    expect(JSON.parse(whoami.stdout)).toContain('system:masters');
    const canDoAll = await plane.kubectl(['auth', 'can-i', '*', '*']);
    expect(canDoAll.stdout.trim()).toBe('yes');
  });

  test('PodSecurity refuses a root Pod without securityContext in a restricted namespace', async () => {
    await plane.createNamespace('restricted-ns', RESTRICTED);
    const sa = await plane.kubectl(['get', 'serviceaccount', 'default', '-n', 'restricted-ns', '-o', 'name']);
    expect(sa.stdout.trim()).toBe('serviceaccount/default');

    const bare = await plane.kubectl(['apply', '-f', '-'], {
      input: podManifest('restricted-ns', 'root-pod', { containers: [{ name: 'app', image: 'busybox' }] }),
    });
    expect(bare.code).not.toBe(0);
    expect(bare.stderr).toContain('violates PodSecurity "restricted:latest"');
    expect(bare.stderr).toContain('runAsNonRoot != true');
    expect(bare.stderr).toContain('allowPrivilegeEscalation != false');
    expect(bare.stderr).toContain('seccompProfile');
    const absent = await plane.kubectl(['get', 'pod', 'root-pod', '-n', 'restricted-ns']);
    expect(absent.stderr).toContain('NotFound');
  });

  test('the same namespace admits a Pod that sets every restricted field (the check is not just "refuse all")', async () => {
    await plane.createNamespace('restricted-ok', RESTRICTED);
    const hardened = await plane.kubectl(['apply', '-f', '-'], {
      input: podManifest('restricted-ok', 'hardened-pod', {
        securityContext: { runAsNonRoot: true, runAsUser: 10000, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          {
            name: 'app',
            image: 'busybox',
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          },
        ],
      }),
    });
    expect(hardened).toMatchObject({ code: 0 });
    expect(hardened.stdout).toContain('pod/hardened-pod created');
  });

  test('a namespace without the label admits the root Pod (PodSecurity default is privileged)', async () => {
    await plane.createNamespace('unlabelled');
    const result = await plane.kubectl(['apply', '-f', '-'], {
      input: podManifest('unlabelled', 'root-pod', { containers: [{ name: 'app', image: 'busybox' }] }),
    });
    expect(result).toMatchObject({ code: 0 });
  });

  test('restartApiServer keeps etcd data and serves again', async () => {
    await plane.restartApiServer();
    const pod = await plane.kubectl(['get', 'pod', 'hardened-pod', '-n', 'restricted-ok', '-o', 'jsonpath={.metadata.name}']);
    expect(pod).toMatchObject({ code: 0, stdout: 'hardened-pod' });
  });

  test('stop() kills both processes and removes the temp dir', async () => {
    const tempDir = plane.tempDir;
    await plane.stop();
    expect(existsSync(tempDir)).toBe(false);
    const port = Number(new URL(plane.server).port);
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});
