// The command line shared by the floor and ceiling servers: `--port N --tls-cert F --tls-key F`,
// the same flags our webhook takes, so the harness starts all of them the same way; plus
// `--prototype-ready` for the ceiling hosted as ours is (the hosted-ceiling target).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

export interface BenchServerArguments {
  readonly port: number;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Build req/res with the Express app's prototypes (src/server/express-request-classes.ts). */
  readonly prototypeReady: boolean;
  /** The fixed-patch server's answer (patch and audit annotations) as JSON, instead of its one-op patch. */
  readonly replyFile: string | undefined;
}

export function readServerArguments(argv: readonly string[]): BenchServerArguments {
  const { values } = parseArgs({
    args: [...argv],
    options: { port: { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'prototype-ready': { type: 'boolean' }, 'reply-file': { type: 'string' } },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`--port: "${values.port ?? ''}" is not a TCP port; pass e.g. --port 8443`);
  }
  if (values['tls-cert'] === undefined || values['tls-key'] === undefined) {
    throw new Error('--tls-cert and --tls-key: both PEM files are required');
  }
  return { port, cert: readFileSync(values['tls-cert']), key: readFileSync(values['tls-key']), prototypeReady: values['prototype-ready'] === true, replyFile: values['reply-file'] };
}
