// What one admission-decision log line costs: winston's stock timestamp()+json() formats against
// the serve command's logger (winston with one-stringify lines, written once per turn), both into
// a sink that discards, so only formatting and winston's plumbing are timed.
// Run: npm run build && node dist/bench/logger-bench.js
import { Writable } from 'node:stream';
import winston from 'winston';
import { createJsonLineLogger } from '../src/foundation/json-line-logger.js';
import type { Logger } from '../src/foundation/logger.js';

const LINES = 100_000;
const sink = new Writable({ decodeStrings: false, write: (_chunk, _encoding, done) => done() });
const fields = {
  uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
  namespace: 'team-a',
  name: 'web-7d9f8-abcde',
  operation: 'CREATE',
  result: 'patched',
  policy: 'cluster-defaults',
  policyGeneration: 1,
  durationMs: 0.41,
  injected: [
    'spec.securityContext.runAsUser',
    'spec.securityContext.runAsGroup',
    'spec.securityContext.fsGroup',
    'spec.securityContext.runAsNonRoot',
    'spec.securityContext.seccompProfile',
    'spec.containers[app].securityContext.allowPrivilegeEscalation',
    'spec.containers[app].securityContext.capabilities.drop',
  ],
  warnings: [],
};

const stock: Logger = winston.createLogger({
  level: 'info',
  format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
  transports: [new winston.transports.Stream({ stream: sink })],
});
const ours = createJsonLineLogger({ level: 'info', write: (text) => sink.write(text), now: Date.now });
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function microsPerLine(logger: Logger): Promise<number> {
  const started = process.hrtime.bigint();
  // Turns of 1,000 lines, as a busy server's event loop would see them.
  for (let turn = 0; turn < LINES / 1000; turn++) {
    for (let i = 0; i < 1000; i++) logger.info('admission decision', { ...fields });
    await nextTurn();
  }
  return Number(process.hrtime.bigint() - started) / 1000 / LINES;
}

await microsPerLine(stock);
await microsPerLine(ours);
for (let round = 1; round <= 3; round++) {
  const stockUs = await microsPerLine(stock);
  const oursUs = await microsPerLine(ours);
  console.log(`round ${round}: winston timestamp()+json() ${stockUs.toFixed(2)} us/line, serve's logger ${oursUs.toFixed(2)} us/line (${(oursUs / stockUs).toFixed(2)}x)`);
}
