// Proves the image's contents without a Docker engine: replays every Dockerfile stage on this
// machine (npm ci, tsc, npm ci --omit=dev, the COPYs), then runs the final stage's ENTRYPOINT +
// CMD as its USER (uid 65532) from a root-owned, hence read-only, copy of the image filesystem,
// and talks TLS to it. Slow (two npm installs and a tsc build), hence in the e2e project.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../chart/helm-runner.js';
import { replayDockerfile, type ReplayedImage } from '../image/image-replay.js';
import { createCertificateAuthority, issueCertificate } from './rig/certificates.js';
import { freePort } from './rig/control-plane.js';

jest.setTimeout(10 * 60 * 1000);

/** The only binary the runtime image provides; the host's node stands in for it (same major, checked below). */
const IMAGE_NODE = '/nodejs/bin/node';

function httpsCall(port: number, path: string, ca: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { host: '127.0.0.1', port, path, method: payload ? 'POST' : 'GET', ca, servername: 'localhost', headers: payload ? { 'content-type': 'application/json' } : {}, timeout: 5_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end(payload);
  });
}

describe('the container image, replayed from the Dockerfile', () => {
  let image: ReplayedImage;
  let workRoot: string;
  let server: ChildProcess | undefined;
  let serverOutput = '';
  let port = 0;
  let caPem = '';

  beforeAll(async () => {
    workRoot = await mkdtemp(join(tmpdir(), 'secure-defaults-image-'));
    image = await replayDockerfile(REPO_ROOT, workRoot);
    console.log(`replayed the Dockerfile in ${JSON.stringify(image.timings)} s per stage`);
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGKILL');
      await once(server, 'exit');
    }
    if (workRoot) await rm(workRoot, { recursive: true, force: true });
  });

  test('the host node stands in for the image node: same major version', () => {
    expect(image.stages.at(-1)?.image).toContain('nodejs24');
    expect(process.versions.node.split('.')[0]).toBe('24');
    expect(image.entrypoint[0]).toBe(IMAGE_NODE);
  });

  test('the image holds the CLI entry point, package.json, the default policy and production dependencies only', () => {
    const app = join(image.root, image.workdir);
    expect(existsSync(join(app, image.entrypoint[1]!))).toBe(true);
    expect(existsSync(join(app, 'policies', 'default.yaml'))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const name of Object.keys(manifest.dependencies)) expect([name, existsSync(join(app, 'node_modules', name))]).toEqual([name, true]);
    // Dev-only per the lockfile (a devDependency such as @types/node may also be a production one's dependency).
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(lock.packages).filter(([path, entry]) => entry.dev === true && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path));
    expect(devOnly.map(([path]) => path)).toEqual(expect.arrayContaining(['node_modules/typescript', 'node_modules/jest']));
    for (const [path] of devOnly) expect([path, existsSync(join(app, path))]).toEqual([path, false]);
    expect(readdirSync(join(app, 'dist'))).toEqual(['src']);
    expect(existsSync(join(app, 'src'))).toBe(false);
  });

  test(`serves /healthz, /readyz and /mutate over TLS as uid ${65532} from a read-only filesystem`, async () => {
    const [uid, gid] = image.user.split(':');
    expect(uid).toMatch(/^\d+$/);
    const ca = await createCertificateAuthority('image test CA');
    const serving = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' });
    caPem = ca.certPem;
    const tls = join(workRoot, 'tls');
    await mkdir(tls, { mode: 0o755 });
    await writeFile(join(tls, 'tls.crt'), serving.certPem, { mode: 0o644 });
    // Readable by the image user, as a mounted Secret would be; this is a throw-away test key.
    await writeFile(join(tls, 'tls.key'), serving.keyPem, { mode: 0o644 });
    await chmod(tls, 0o755);
    port = await freePort();

    const [node, ...entryArgs] = image.entrypoint;
    expect(node).toBe(IMAGE_NODE);
    const args = [
      ...entryArgs,
      ...image.cmd,
      '--port', String(port),
      '--tls-cert', join(tls, 'tls.crt'),
      '--tls-key', join(tls, 'tls.key'),
      '--policy', 'policies/default.yaml',
      '--log-level', 'info',
    ];
    server = spawn('setpriv', ['--reuid', uid!, '--regid', gid ?? uid!, '--clear-groups', '--', process.execPath, ...args], {
      cwd: join(image.root, image.workdir),
      // Only what the image sets, plus where distroless' nonroot user lives.
      env: { ...image.env, HOME: '/home/nonroot', PATH: '/usr/local/bin:/usr/bin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout?.on('data', (chunk: Buffer) => (serverOutput += chunk.toString()));
    server.stderr?.on('data', (chunk: Buffer) => (serverOutput += chunk.toString()));

    const deadline = Date.now() + 30_000;
    let health: { status: number; text: string } | undefined;
    while (Date.now() < deadline && server.exitCode === null) {
      health = await httpsCall(port, '/healthz', caPem).catch(() => undefined);
      if (health) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (!health) throw new Error(`the image's server never answered /healthz (exit ${server.exitCode}):\n${serverOutput}`);
    expect(health.status).toBe(200);
    expect((await httpsCall(port, '/readyz', caPem)).status).toBe(200);

    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'image-test-1',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        requestKind: { group: '', version: 'v1', kind: 'Pod' },
        requestResource: { group: '', version: 'v1', resource: 'pods' },
        name: 'app',
        namespace: 'team-a',
        operation: 'CREATE',
        userInfo: { username: 'tester' },
        object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'app', namespace: 'team-a' }, spec: { containers: [{ name: 'app', image: 'busybox' }] } },
        oldObject: null,
        dryRun: false,
        options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
      },
    };
    const mutated = await httpsCall(port, '/mutate', caPem, review);
    expect(mutated.status).toBe(200);
    const response = (JSON.parse(mutated.text) as { response: { uid: string; allowed: boolean; patchType?: string; patch?: string } }).response;
    expect(response).toMatchObject({ uid: 'image-test-1', allowed: true, patchType: 'JSONPatch' });
    const patch = JSON.parse(Buffer.from(response.patch ?? '', 'base64').toString('utf8')) as { path: string }[];
    expect(patch.map((operation) => operation.path)).toEqual(expect.arrayContaining([expect.stringMatching(/securityContext/)]));
  });

  test('stops cleanly on SIGTERM (what the kubelet sends after the preStop sleep)', async () => {
    expect(server?.exitCode).toBeNull();
    server!.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve(['no exit within 20 s']), 20_000)));
    const [code] = (await Promise.race([once(server!, 'exit'), timeout])) as [number | string | null];
    clearTimeout(timer);
    expect([code, serverOutput.slice(-2000)]).toEqual([0, expect.any(String)]);
  });
});
