// The webhook as the API server meets it: `node main.js serve` as a separate process, serving a
// certificate signed by the rig's CA from files on disk, its output captured to a log file that
// failing tests quote.
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { issueCertificate, type CertificateAuthority } from '../../rig/certificates.js';

export interface ServingCertificate {
  readonly certPath: string;
  readonly keyPath: string;
  /** Hex serial number, as node:crypto and node:tls print it. */
  readonly serialNumber: string;
}

/**
 * Signs a fresh serving certificate for 127.0.0.1 and puts it in place the way the kubelet
 * updates a Secret volume (its AtomicWriter): both files go into a new timestamped folder, the
 * `..data` symlink is swapped to it in one rename, and tls.crt/tls.key are symlinks through
 * `..data`. The server never sees a new certificate with the old key.
 */
export async function writeServingCertificate(ca: CertificateAuthority, dir: string): Promise<ServingCertificate> {
  const pair = await issueCertificate(ca, { commonName: 'secure-defaults-e2e-webhook', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'], usage: 'server' });
  const version = `..${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
  await mkdir(join(dir, version));
  await writeFile(join(dir, version, 'tls.key'), pair.keyPem, { mode: 0o600 });
  await writeFile(join(dir, version, 'tls.crt'), pair.certPem);
  const previous = await readlink(join(dir, '..data')).catch(() => null);
  await symlink(version, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const name of ['tls.crt', 'tls.key']) {
    if (!existsSync(join(dir, name))) await symlink(join('..data', name), join(dir, name));
  }
  if (previous !== null) await rm(join(dir, previous), { recursive: true, force: true });
  return { certPath: join(dir, 'tls.crt'), keyPath: join(dir, 'tls.key'), serialNumber: new X509Certificate(pair.certPem).serialNumber };
}

export { freePort } from '../../rig/control-plane.js';

export interface WebhookProcessOptions {
  /** main.js of the compiled bin. */
  readonly entry: string;
  readonly port: number;
  readonly certificate: ServingCertificate;
  readonly caPem: string;
  readonly kubeconfigPath: string;
  /** NAMESPACE/NAME */
  readonly policyConfigMap: string;
  readonly logFile: string;
  readonly extraArgs?: readonly string[];
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface WebhookProcess {
  readonly port: number;
  readonly pid: number;
  readonly exited: Promise<ProcessExit>;
  hasExited(): boolean;
  /** GET /readyz: the status and the one-line body. */
  readyz(): Promise<{ status: number; body: string }>;
  waitReady(timeoutMs?: number): Promise<void>;
  /** Sends the signal and waits for the exit (SIGKILL after killAfterMs). */
  stop(signal?: NodeJS.Signals, killAfterMs?: number): Promise<ProcessExit>;
  /** The serial number of the certificate a new TLS connection is served. */
  servedSerialNumber(): Promise<string>;
}

export function startWebhookProcess(options: WebhookProcessOptions): WebhookProcess {
  const args = [
    options.entry, 'serve',
    '--port', String(options.port),
    '--host', '127.0.0.1',
    '--tls-cert', options.certificate.certPath,
    '--tls-key', options.certificate.keyPath,
    '--policy-configmap', options.policyConfigMap,
    '--log-level', 'debug',
    ...(options.extraArgs ?? []),
  ];
  const log = openSync(options.logFile, 'a');
  // setpriv makes the kernel kill the webhook if the test process dies without cleaning up.
  const useSetpriv = existsSync('/usr/bin/setpriv');
  const child: ChildProcess = spawn(useSetpriv ? '/usr/bin/setpriv' : process.execPath, useSetpriv ? ['--pdeathsig', 'KILL', '--', process.execPath, ...args] : args, {
    stdio: ['ignore', log, log],
    env: { ...process.env, KUBECONFIG: options.kubeconfigPath, NODE_OPTIONS: '' },
  });
  closeSync(log);
  let exit: ProcessExit | null = null;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn the webhook: ${args.join(' ')}`);

  const readyz = (): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: options.port, path: '/readyz', ca: options.caPem, timeout: 2_000, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
      });
      req.on('timeout', () => req.destroy(new Error('/readyz did not answer within 2 s')));
      req.on('error', reject);
      req.end();
    });

  return {
    port: options.port,
    pid,
    exited,
    hasExited: () => exit !== null,
    readyz,
    async waitReady(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let last = 'no answer yet';
      while (Date.now() < deadline) {
        if (exit !== null) throw new Error(`the webhook exited during startup (${JSON.stringify(exit)}):\n${logTail(options.logFile)}`);
        try {
          const answer = await readyz();
          if (answer.status === 200) return;
          last = `${answer.status} ${answer.body}`;
        } catch (error) {
          last = (error as Error).message;
        }
        await sleep(200);
      }
      throw new Error(`the webhook was not ready after ${timeoutMs} ms (last /readyz: ${last}):\n${logTail(options.logFile)}`);
    },
    async stop(signal = 'SIGTERM', killAfterMs = 60_000) {
      if (exit !== null) return exit;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    servedSerialNumber: () =>
      new Promise((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port: options.port, ca: options.caPem, servername: 'localhost' }, () => {
          const serial = socket.getPeerCertificate().serialNumber;
          socket.end();
          resolve(serial);
        });
        socket.setTimeout(2_000, () => socket.destroy(new Error('TLS handshake did not finish within 2 s')));
        socket.on('error', reject);
      }),
  };
}

export function logTail(logFile: string, lines = 40): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no webhook log written)';
  }
}

/** The webhook's JSON log lines (winston), for asserting what it reported. */
export function logEntries(logFile: string): Array<Record<string, unknown>> {
  let text = '';
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Inodes of the established TCP connections the webhook accepted on `port` (from /proc/net/tcp,
 * server side), so a suite can tell connections opened after some moment from older ones.
 */
export function acceptedConnections(port: number): Set<string> {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const [local, state, inode] = [fields[1], fields[3], fields[9]];
    if (local?.endsWith(`:${portHex}`) && state === '01' && inode !== undefined && inode !== '0') inodes.add(inode);
  }
  return inodes;
}

/**
 * A TLS connection to the webhook that completes the handshake and sends nothing, as Go's
 * http.Transport leaves behind when it dials a spare connection for a request that an idle one
 * then served: the API server keeps such connections in its pool unused.
 */
export function openUnusedConnection(port: number, caPem: string): Promise<{ closedByServer: Promise<void>; destroy(): void }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: caPem, servername: 'localhost' }, () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
      const closedByServer = new Promise<void>((closed) => socket.once('close', () => closed()));
      resolve({ closedByServer, destroy: () => socket.destroy() });
    });
    socket.once('error', reject);
  });
}
