// A soak check of the webhook: does it answer every request correctly under load, and does its
// memory stay flat from round to round? Not a throughput benchmark (that is `npm run bench`).
//
//   npm run build && node dist/bench/load-check.js [--requests 20000] [--connections 16] [--rounds 5] [--policy policies/default.yaml]
//
// The server runs in a child process (this same script with --child, node --expose-gc) so the RSS
// printed is the server's alone; autocannon runs here. Every fourth request is malformed JSON, so
// the error path is soaked too. Each valid request carries its own uid and every answer is checked
// to echo it.
import autocannon from 'autocannon';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServe } from '../src/cli/commands/serve.js';

interface MemorySample {
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
}

type ChildMessage = { type: 'listening'; port: number; ca: string } | { type: 'memory'; sample: MemorySample };

const MiB = 1024 * 1024;

function memoryNow(): MemorySample {
  (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  return { rssMiB: usage.rss / MiB, heapUsedMiB: usage.heapUsed / MiB };
}

async function runChild(policy: string): Promise<void> {
  const silent = { error() {}, warn() {}, info() {}, debug() {} };
  const running = await startServe({ port: 0, host: '127.0.0.1', policy, failClosed: false, shutdownDelay: 0, drainTimeout: 5 }, silent);
  process.send!({ type: 'listening', port: running.webhook.port, ca: running.webhook.initialCertificatePem } satisfies ChildMessage);
  process.on('message', (message: { type: string }) => {
    if (message.type === 'memory') process.send!({ type: 'memory', sample: memoryNow() } satisfies ChildMessage);
    if (message.type === 'stop') void running.stop().then(() => process.exit(0));
  });
}

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`--${name} ${process.argv[index + 1] ?? ''}: expected a positive whole number`);
    process.exit(2);
  }
  return value;
}

function nextMessage<T extends ChildMessage['type']>(child: ChildProcess, type: T): Promise<Extract<ChildMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: ChildMessage): void => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      resolve(message as Extract<ChildMessage, { type: T }>);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`server process exited with ${code}`)));
  });
}

function podReviewBody(uid: string): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'load',
      operation: 'CREATE',
      userInfo: { username: 'load-check' },
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { generateName: 'web-', namespace: 'load', labels: { app: 'web' } },
        spec: {
          containers: [
            { name: 'app', image: 'registry.example/web:1.2.3', ports: [{ containerPort: 8080 }], resources: { limits: { cpu: '1', memory: '256Mi' } } },
            { name: 'sidecar', image: 'registry.example/proxy:2.0', securityContext: { runAsUser: 1000 } },
          ],
          initContainers: [{ name: 'init', image: 'registry.example/init:1' }],
        },
      },
      dryRun: false,
    },
  });
}

async function runParent(): Promise<void> {
  const requests = argument('requests', 20_000);
  const connections = argument('connections', 16);
  const rounds = argument('rounds', 5);
  const policyIndex = process.argv.indexOf('--policy');
  const policy = policyIndex >= 0 ? process.argv[policyIndex + 1]! : 'policies/default.yaml';

  const child = fork(fileURLToPath(import.meta.url), ['--child', '--policy', policy], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port, ca } = await nextMessage(child, 'listening');
  const memory = async (): Promise<MemorySample> => {
    const reply = nextMessage(child, 'memory');
    child.send({ type: 'memory' });
    return (await reply).sample;
  };
  const format = (m: MemorySample): string => `rss ${m.rssMiB.toFixed(1)} MiB, heap ${m.heapUsedMiB.toFixed(1)} MiB`;

  console.log(`load-check: ${rounds} rounds × ${requests} requests over ${connections} keep-alive TLS connections, policy ${policy}`);
  const before = await memory();
  console.log(`before        ${format(before)}`);
  let counter = 0;
  let uidMismatches = 0;
  let wrongAnswers = 0;
  let checkedUids = 0;
  let failed = false;
  const samples: MemorySample[] = [];
  for (let round = 1; round <= rounds; round++) {
    const result = await autocannon({
      url: `https://127.0.0.1:${port}/mutate`,
      connections,
      amount: requests,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      servername: 'localhost',
      tlsOptions: { ca },
      requests: [
        {
          setupRequest: (request, context) => {
            const uid = `load-${++counter}`;
            (context as { uid?: string }).uid = uid;
            return { ...request, body: podReviewBody(uid) };
          },
          onResponse: (status, body, context) => {
            if (status !== 200) return void wrongAnswers++;
            const response = JSON.parse(body).response;
            checkedUids++;
            if (response.uid !== (context as { uid?: string }).uid) uidMismatches++;
            if (response.patchType !== 'JSONPatch') wrongAnswers++;
          },
        },
        { body: podReviewBody('fixed-a') },
        { body: podReviewBody('fixed-b') },
        {
          body: '{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionRev',
          onResponse: (status) => {
            if (status !== 400) wrongAnswers++;
          },
        },
      ],
    });
    const sample = await memory();
    samples.push(sample);
    const expected400 = Math.floor(result.requests.sent / 4);
    console.log(
      `round ${round}/${rounds}  ${result.requests.average.toFixed(0)} req/s, p99 ${result.latency.p99} ms, ` +
        `errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx} (~${expected400} expected: malformed), ${format(sample)}`,
    );
    if (result.errors > 0 || result.timeouts > 0) failed = true;
  }
  const after = await memory();
  console.log(`after         ${format(after)}`);
  const growth = samples.length > 1 ? samples[samples.length - 1]!.heapUsedMiB - samples[0]!.heapUsedMiB : 0;
  console.log(`heap growth from round 1 to round ${rounds}: ${growth.toFixed(1)} MiB`);
  console.log(`uids checked: ${checkedUids}, mismatches: ${uidMismatches}, wrong answers: ${wrongAnswers}`);
  if (uidMismatches > 0 || wrongAnswers > 0 || checkedUids === 0) failed = true;
  child.send({ type: 'stop' });
  await new Promise((resolve) => child.once('exit', resolve));
  console.log(failed ? 'load-check: FAILED' : 'load-check: ok');
  process.exitCode = failed ? 1 : 0;
}

if (process.argv.includes('--child')) {
  const policyIndex = process.argv.indexOf('--policy');
  await runChild(process.argv[policyIndex + 1] ?? 'policies/default.yaml');
} else {
  await runParent();
}
