// How many TCP connections the API server used to reach a webhook during a run, and how many of
// them it newly opened: /proc/net/tcp is sampled every few hundred ms and the distinct client
// ports of established connections to the webhook's port are counted. Few or no new ones means the
// API server kept its connections alive; many means TLS handshakes during the run.
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

export interface ConnectionCount {
  /** Distinct connections seen established during the run (idle ones kept from before included). */
  readonly seen: number;
  /** Of those, the ones that were not there at the start: new connections, a TLS handshake each. */
  readonly opened: number;
}

export interface ConnectionSampler {
  /** Stops sampling. */
  stop(): ConnectionCount;
}

export function sampleConnections(port: number, everyMs = 250): ConnectionSampler {
  const read = (): number[] => {
    try {
      return clientPortsOf(readFileSync('/proc/net/tcp', 'utf8'), port);
    } catch {
      // No /proc (not Linux): the counts stay 0 and are printed as such.
      return [];
    }
  };
  const atStart = new Set(read());
  const seen = new Set(atStart);
  const sample = (): void => {
    for (const clientPort of read()) seen.add(clientPort);
  };
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { seen: seen.size, opened: [...seen].filter((clientPort) => !atStart.has(clientPort)).length };
    },
  };
}
