// A server under load, as its own OS process: its CPU and memory stay apart from the load
// generator's, and /proc tells us what it alone costs.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The server could not be started or never became ready; the message carries its last output. */
export class ServerStartError extends Error {}

export interface ServerLaunch {
  readonly name: string;
  /** Arguments to `node` (flags, script, script arguments). */
  readonly nodeArgs: readonly string[];
  readonly port: number;
  /** Folder for the server's stdout/stderr files. */
  readonly logDir: string;
  readonly readyTimeoutMs: number;
}

export interface RunningServer {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly stdoutFile: string;
  readonly stderrFile: string;
  /** Null while running; the exit code or signal once it has stopped. */
  exitStatus(): string | null;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** A port nobody listens on right now (the OS picks it; the tiny race before reuse is acceptable here). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function tlsHandshakeSucceeds(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    // Readiness only: whether anything completes a TLS handshake. The certificate itself is checked
    // properly by the sanity request.
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startServer(launch: ServerLaunch): Promise<RunningServer> {
  const stdoutFile = join(launch.logDir, `${launch.name}.stdout.log`);
  const stderrFile = join(launch.logDir, `${launch.name}.stderr.log`);
  const out = openSync(stdoutFile, 'w');
  const err = openSync(stderrFile, 'w');
  // Logs go straight to files, so a chatty server costs its own write() calls and never the load
  // generator's CPU for draining a pipe.
  const child = spawn(process.execPath, [...launch.nodeArgs], { stdio: ['ignore', out, err] });
  closeSync(out);
  closeSync(err);
  let exit: string | null = null;
  child.once('exit', (code, signal) => {
    exit = signal ?? `exit code ${code}`;
  });
  const pid = child.pid;
  if (pid === undefined) throw new ServerStartError(`${launch.name}: could not start node ${launch.nodeArgs.join(' ')}`);

  const server: RunningServer = {
    name: launch.name,
    pid,
    port: launch.port,
    stdoutFile,
    stderrFile,
    exitStatus: () => exit,
    async stop(graceMs = 15_000) {
      if (exit !== null) return;
      child.kill('SIGTERM');
      if (!(await waitForExit(child, graceMs))) {
        child.kill('SIGKILL');
        await waitForExit(child, 5_000);
      }
    },
  };

  const deadline = Date.now() + launch.readyTimeoutMs;
  while (Date.now() < deadline) {
    if (exit !== null) {
      throw new ServerStartError(`${launch.name} exited (${exit}) before accepting connections; its stderr ends with:\n${tail(stderrFile)}\nstdout:\n${tail(stdoutFile)}`);
    }
    if (await tlsHandshakeSucceeds(launch.port)) return server;
    await sleep(100);
  }
  await server.stop(2_000);
  throw new ServerStartError(`${launch.name} did not accept TLS connections on 127.0.0.1:${launch.port} within ${launch.readyTimeoutMs} ms; its stderr ends with:\n${tail(stderrFile)}`);
}
