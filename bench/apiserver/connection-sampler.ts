// How many TCP connections the API server used to reach a webhook during a run: /proc/net/tcp is
// sampled every few hundred ms and the distinct client ports of established connections to the
// webhook's port are counted. About the client count means the API server kept its connections
// alive; far more means it opened new ones (a TLS handshake each) during the run.
import { readFileSync } from 'node:fs';

const ESTABLISHED = '01';

/** Client ports of established connections whose local (server) port is `port`, from /proc/net/tcp text. */
export function clientPortsOf(procNetTcp: string, port: number): number[] {
  const ports: number[] = [];
  for (const line of procNetTcp.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const [local, remote, state] = [fields[1], fields[2], fields[3]];
    if (local === undefined || remote === undefined || state !== ESTABLISHED) continue;
    if (Number.parseInt(local.split(':')[1] ?? '', 16) !== port) continue;
    const remotePort = Number.parseInt(remote.split(':')[1] ?? '', 16);
    if (Number.isInteger(remotePort)) ports.push(remotePort);
  }
  return ports;
}

export interface ConnectionSampler {
  /** Stops sampling; the number of distinct connections seen. */
  stop(): number;
}

export function sampleConnections(port: number, everyMs = 250): ConnectionSampler {
  const seen = new Set<number>();
  const sample = (): void => {
    try {
      for (const clientPort of clientPortsOf(readFileSync('/proc/net/tcp', 'utf8'), port)) seen.add(clientPort);
    } catch {
      // No /proc (not Linux): the count stays 0 and is printed as such.
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return seen.size;
    },
  };
}
