// A real etcd + kube-apiserver on 127.0.0.1 for end-to-end tests: the API server's own admission
// chain (ServiceAccount, PodSecurity, our webhook) decides, not a mock. No controller-manager,
// scheduler or kubelet: objects are stored and admitted, nothing runs.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { createCertificateAuthority, createServiceAccountKeys, issueCertificate, type CertificateAuthority, type PemKeyPair } from './certificates.js';

const RIG_DIR = dirname(fileURLToPath(import.meta.url));

/** The newest supported Kubernetes release: what every e2e file runs on unless K8S_VERSION says otherwise. */
export const NEWEST_K8S_VERSION = 'v1.37.2';
/** The oldest supported release: .ci/run runs the Pod-hardening and chart-install flows on it too. */
export const OLDEST_K8S_VERSION = 'v1.35.4';
/** The release this test run's control planes are, as the build script picks it (K8S_VERSION, else the newest). */
export const E2E_K8S_VERSION = process.env['K8S_VERSION'] ?? NEWEST_K8S_VERSION;
// bench/ imports this module, so it also runs compiled from dist/test/e2e/rig, where the script
// is not copied: fall back to the source tree's copy.
const BUILD_SCRIPT = [RIG_DIR, join(RIG_DIR, '..', '..', '..', '..', 'test', 'e2e', 'rig')]
  .map((dir) => join(dir, 'build-control-plane.sh'))
  .find((path) => existsSync(path)) ?? join(RIG_DIR, 'build-control-plane.sh');

export interface ControlPlaneOptions {
  /** Kubernetes release to build and run; defaults to the build script's own default. */
  readonly k8sVersion?: string;
  /** Extra kube-apiserver flags, e.g. `--feature-gates=...`. */
  readonly apiServerArgs?: readonly string[];
  /** How long etcd and kube-apiserver together may take to become ready. */
  readonly startTimeoutMs?: number;
  /** Keep the temp dir (logs, certificates, etcd data) after stop(); also SECURE_DEFAULTS_KEEP_RIG=1. */
  readonly keepTempDir?: boolean;
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin (for `apply -f -`). */
  readonly input?: string;
}

export interface ControlPlane {
  readonly kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** The CA that signed the API server's serving cert and the admin client cert. */
  readonly caPem: string;
  /** The same CA with its key, to sign serving certificates of webhooks under test. */
  readonly ca: CertificateAuthority;
  readonly tempDir: string;
  readonly logFiles: { readonly etcd: string; readonly apiServer: string };
  /** Milliseconds from the call to startControlPlane until /readyz said ok (binaries already built). */
  readonly startupMs: number;
  /** Runs kubectl against this control plane; resolves with the exit code, never rejects on a non-zero one. */
  kubectl(args: readonly string[], options?: KubectlOptions): Promise<KubectlResult>;
  /** Creates a namespace with its `default` ServiceAccount (the controller-manager's job in a real cluster). */
  createNamespace(name: string, labels?: Readonly<Record<string, string>>): Promise<void>;
  /** Stops and starts kube-apiserver on the same port and etcd data, optionally with other flags. */
  restartApiServer(options?: { readonly apiServerArgs?: readonly string[] }): Promise<void>;
  /** Idempotent; kills both process groups and removes the temp dir. */
  stop(): Promise<void>;
}

/** Builds (first run: minutes) or finds kube-apiserver, etcd and kubectl; returns their folder. */
export async function locateControlPlaneBinaries(k8sVersion?: string): Promise<string> {
  const env = { ...process.env, ...(k8sVersion ? { K8S_VERSION: k8sVersion } : {}) };
  const { stdout } = await execFileText('bash', [BUILD_SCRIPT], { env, timeoutMs: 60 * 60 * 1000 });
  const binDir = stdout.trim().split('\n').pop() ?? '';
  for (const name of ['kube-apiserver', 'etcd', 'kubectl']) {
    if (!existsSync(join(binDir, name))) {
      throw new Error(`${BUILD_SCRIPT} printed "${binDir}" but ${name} is not there; run the script by hand to see why`);
    }
  }
  return binDir;
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = await locateControlPlaneBinaries(options.k8sVersion);
  const started = Date.now();
  const tempDir = await mkdtemp(join(tmpdir(), 'secure-defaults-cp-'));
  const pki = join(tempDir, 'pki');
  await mkdir(pki, { recursive: true });
  const files = {
    caCert: join(pki, 'ca.crt'),
    serverCert: join(pki, 'apiserver.crt'),
    serverKey: join(pki, 'apiserver.key'),
    saPub: join(pki, 'sa.pub'),
    saKey: join(pki, 'sa.key'),
  };
  const logFiles = { etcd: join(tempDir, 'etcd.log'), apiServer: join(tempDir, 'kube-apiserver.log') };
  const keepTempDir = options.keepTempDir === true || process.env['SECURE_DEFAULTS_KEEP_RIG'] === '1';
  const processes = new ProcessGroups();
  let stopped = false;

  const cleanUp = async (keep: boolean): Promise<void> => {
    await processes.stopAll();
    if (!keep) await rm(tempDir, { recursive: true, force: true });
  };

  try {
    const ca = await createCertificateAuthority('secure-defaults e2e CA');
    const serving = await issueCertificate(ca, {
      commonName: 'kube-apiserver',
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
      ipAddresses: ['127.0.0.1', '10.0.0.1'],
      usage: 'server',
    });
    const admin = await issueCertificate(ca, { commonName: 'e2e-admin', organizations: ['system:masters'], usage: 'client' });
    const saKeys = await createServiceAccountKeys();
    await Promise.all([
      writeFile(files.caCert, ca.certPem),
      writeFile(files.serverCert, serving.certPem),
      writeFile(files.serverKey, serving.keyPem, { mode: 0o600 }),
      writeFile(files.saPub, saKeys.publicKeyPem),
      writeFile(files.saKey, saKeys.privateKeyPem, { mode: 0o600 }),
    ]);

    const [etcdClientPort, etcdPeerPort, apiPort] = await freePorts(3);
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const server = `https://127.0.0.1:${apiPort}`;

    processes.start('etcd', join(binDir, 'etcd'), [
      '--name=e2e',
      `--data-dir=${join(tempDir, 'etcd-data')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=e2e=${peerUrl}`,
      // Test data is disposable; skipping fsync makes etcd several times faster on shared disks.
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ], logFiles.etcd);
    await waitFor('etcd', logFiles.etcd, processes, options.startTimeoutMs ?? 60_000, () => httpOk(`${etcdUrl}/health`));

    const baseApiArgs = [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // 1.37 refuses a loopback advertise address with the default endpoint reconciler; the test
      // control plane has no Service endpoints to reconcile.
      '--endpoint-reconciler-type=none',
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${files.serverCert}`,
      `--tls-private-key-file=${files.serverKey}`,
      `--client-ca-file=${files.caCert}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${files.saPub}`,
      `--service-account-signing-key-file=${files.saKey}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      // As on real clusters; PodSecurity, not this flag, is what refuses privileged Pods.
      '--allow-privileged=true',
      `--cert-dir=${join(tempDir, 'apiserver-certs')}`,
      '--v=1',
    ];
    const admin64 = { cert: Buffer.from(admin.certPem).toString('base64'), key: Buffer.from(admin.keyPem).toString('base64') };
    const kubeconfigPath = join(tempDir, 'kubeconfig');
    await writeFile(kubeconfigPath, renderKubeconfig(server, ca.certPem, admin64), { mode: 0o600 });

    const startApiServer = async (extraArgs: readonly string[]): Promise<void> => {
      processes.start('kube-apiserver', join(binDir, 'kube-apiserver'), [...baseApiArgs, ...extraArgs], logFiles.apiServer);
      await waitFor('kube-apiserver', logFiles.apiServer, processes, options.startTimeoutMs ?? 120_000, () =>
        httpOk(`${server}/readyz`, { ca: ca.certPem, cert: admin.certPem, key: admin.keyPem }),
      );
    };
    await startApiServer(options.apiServerArgs ?? []);
    const startupMs = Date.now() - started;

    const kubectl = (args: readonly string[], kubectlOptions: KubectlOptions = {}): Promise<KubectlResult> =>
      runKubectl(join(binDir, 'kubectl'), ['--kubeconfig', kubeconfigPath, ...args], kubectlOptions.input);

    const plane: ControlPlane = {
      kubeconfigPath,
      server,
      caPem: ca.certPem,
      ca,
      tempDir,
      logFiles,
      startupMs,
      kubectl,
      async createNamespace(name, labels = {}) {
        const manifest = [
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } },
          { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } },
        ].map((doc) => toYaml(doc)).join('---\n');
        const result = await kubectl(['apply', '-f', '-'], { input: manifest });
        if (result.code !== 0) throw new Error(`creating namespace ${name} failed: ${result.stderr}${logHint(logFiles)}`);
      },
      async restartApiServer(restartOptions = {}) {
        await processes.stop('kube-apiserver');
        await startApiServer(restartOptions.apiServerArgs ?? options.apiServerArgs ?? []);
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await cleanUp(keepTempDir || processes.crashed.length > 0);
        if (processes.crashed.length > 0) {
          console.error(`control plane: ${processes.crashed.join(', ')} exited unexpectedly; logs kept:${logHint(logFiles)}`);
        }
      },
    };
    return plane;
  } catch (error) {
    await cleanUp(true);
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`control plane did not start: ${message}${logHint(logFiles)}`, { cause: error });
  }
}

function logHint(logFiles: { readonly etcd: string; readonly apiServer: string }): string {
  return ['', ...Object.values(logFiles).map((file) => `  ${file}\n${indent(tail(file, 15))}`)].join('\n');
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log written)';
  }
}

function indent(text: string): string {
  return text.split('\n').map((line) => `    ${line}`).join('\n');
}

function renderKubeconfig(server: string, caPem: string, admin: { cert: string; key: string }): string {
  return toYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: 'e2e-admin', user: { 'client-certificate-data': admin.cert, 'client-key-data': admin.key } }],
    contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'e2e-admin' } }],
    'current-context': 'e2e',
  });
}

/**
 * Each child runs as its own process group leader so that stopping it also stops anything it
 * spawned. `setpriv --pdeathsig` makes the kernel kill it if this process dies without cleaning
 * up (SIGKILL, OOM); the `exit` hook covers ordinary exits.
 */
class ProcessGroups {
  private readonly running = new Map<string, ChildProcess>();
  private readonly stopping = new Set<string>();
  readonly crashed: string[] = [];
  private readonly exitHook = (): void => {
    for (const child of this.running.values()) killGroup(child, 'SIGKILL');
  };

  start(name: string, binary: string, args: readonly string[], logFile: string): void {
    if (this.running.size === 0) process.on('exit', this.exitHook);
    const log = openSync(logFile, 'a');
    const [command, commandArgs] = hasSetpriv() ? ['setpriv', ['--pdeathsig', 'KILL', '--', binary, ...args]] : [binary, [...args]];
    const child = spawn(command as string, commandArgs as string[], { detached: true, stdio: ['ignore', log, log] });
    closeSync(log);
    this.running.set(name, child);
    child.once('exit', () => {
      if (this.running.get(name) === child) this.running.delete(name);
      if (!this.stopping.has(name)) this.crashed.push(name);
    });
  }

  exited(name: string): boolean {
    return !this.running.has(name);
  }

  async stop(name: string): Promise<void> {
    const child = this.running.get(name);
    if (!child) return;
    this.stopping.add(name);
    const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit').then(() => undefined);
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    this.running.delete(name);
    this.stopping.delete(name);
    if (this.running.size === 0) process.off('exit', this.exitHook);
  }

  async stopAll(): Promise<void> {
    // The API server first: it would otherwise log a storm of etcd connection errors.
    await this.stop('kube-apiserver');
    await Promise.all([...this.running.keys()].map((name) => this.stop(name)));
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

let setprivAvailable: boolean | undefined;
function hasSetpriv(): boolean {
  setprivAvailable ??= ['/usr/bin/setpriv', '/bin/setpriv'].some((path) => existsSync(path));
  return setprivAvailable;
}

async function waitFor(name: string, logFile: string, processes: ProcessGroups, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (processes.exited(name)) throw new Error(`${name} exited during startup (log: ${logFile})`);
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${name} was not ready after ${timeoutMs} ms (log: ${logFile})`);
}

function httpOk(url: string, tls?: { ca: string; cert: string; key: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const onResponse = (res: IncomingMessage): void => {
      res.resume();
      resolve(res.statusCode === 200);
    };
    const req = url.startsWith('https:') ? httpsRequest(url, { ...tls, timeout: 2_000 }, onResponse) : httpRequest(url, { timeout: 2_000 }, onResponse);
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Ports the kernel just handed out; tiny race with other processes, acceptable for tests. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = createServer();
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return server;
    }),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('could not read a listening port');
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** One port the kernel just handed out (see freePorts). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/**
 * A kubeconfig that authenticates as a ServiceAccount (a token from the TokenRequest API), so a
 * webhook process started by a test holds exactly the rights the chart's RBAC grants it.
 */
export async function writeServiceAccountKubeconfig(plane: ControlPlane, serviceAccount: string, namespace: string, path: string): Promise<void> {
  const token = await plane.kubectl(['create', 'token', serviceAccount, '-n', namespace, '--duration=1h']);
  if (token.code !== 0) throw new Error(`kubectl create token: ${token.stderr}`);
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server: plane.server, 'certificate-authority-data': Buffer.from(plane.caPem).toString('base64') } }],
    users: [{ name: 'webhook', user: { token: token.stdout.trim() } }],
    contexts: [{ name: 'webhook', context: { cluster: 'e2e', user: 'webhook' } }],
    'current-context': 'webhook',
  };
  await writeFile(path, toYaml(kubeconfig), { mode: 0o600 });
}

function runKubectl(binary: string, args: readonly string[], input?: string): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

function execFileText(command: string, args: readonly string[], opts: { env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, [...args], { env: opts.env, timeout: opts.timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stderr.slice(-4000)}`));
      else resolve({ stdout, stderr });
    });
  });
}

export type { CertificateAuthority, PemKeyPair };
