// Micro-benchmark of the engine alone (no HTTP): decideAdmission on the same Pods the admission
// load benchmark sends. Prints ops/s and µs/op; asserts nothing.
//   npm run build && node dist/bench/engine-bench.js
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decideAdmission, parsePolicy, type AdmissionInput, type NamespaceInfo } from '../src/engine/index.js';
import { hardenedPod, manyContainerPod, typicalPod } from './bodies/pod-fixtures.js';

const WARMUP_MS = 300;
const MEASURE_MS = 1500;
const ROUNDS = 3;

function loadDefaultPolicy() {
  const path = fileURLToPath(new URL('../../policies/default.yaml', import.meta.url));
  const fallback = fileURLToPath(new URL('../policies/default.yaml', import.meta.url));
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = readFileSync(fallback, 'utf8');
  }
  const parsed = parsePolicy(text);
  if (!parsed.ok) throw new Error(`policies/default.yaml: ${parsed.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  return parsed.policy;
}

/** Runs `work` in batches until `ms` have passed; returns calls made and nanoseconds spent. */
function runFor(ms: number, work: () => unknown): { calls: number; nanos: bigint } {
  const deadline = process.hrtime.bigint() + BigInt(ms) * 1_000_000n;
  const start = process.hrtime.bigint();
  let calls = 0;
  let sink = 0;
  for (;;) {
    for (let i = 0; i < 100; i++) {
      if (work() !== undefined) sink++;
    }
    calls += 100;
    const now = process.hrtime.bigint();
    if (now >= deadline) {
      if (sink < 0) console.log(sink); // keeps the results observable so nothing is optimized away
      return { calls, nanos: now - start };
    }
  }
}

function bench(label: string, input: AdmissionInput): void {
  const first = decideAdmission(input);
  const patchOps = first.allowed ? first.patch.length : -1;
  runFor(WARMUP_MS, () => decideAdmission(input));
  const perOp: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const { calls, nanos } = runFor(MEASURE_MS, () => decideAdmission(input));
    perOp.push(Number(nanos) / 1000 / calls);
  }
  perOp.sort((a, b) => a - b);
  const median = perOp[Math.floor(perOp.length / 2)]!;
  console.log(
    `${label.padEnd(28)} ${(1e6 / median).toFixed(0).padStart(9)} ops/s ${median.toFixed(2).padStart(8)} µs/op  (rounds: ${perOp.map((v) => v.toFixed(2)).join(', ')} µs; ${patchOps} patch ops)`,
  );
}

const policy = loadDefaultPolicy();
const namespace: NamespaceInfo = { name: 'bench', labels: { 'secure-defaults.io/inject': 'enabled' }, annotations: {} };
console.log(`engine micro-benchmark, node ${process.version}, policy "${policy.name}", median of ${ROUNDS} x ${MEASURE_MS} ms`);
bench('typical Pod (3 containers)', { policy, namespace, pod: typicalPod(), target: 'pod' });
bench('50-container Pod', { policy, namespace, pod: manyContainerPod(50), target: 'pod' });
bench('already hardened Pod', { policy, namespace, pod: hardenedPod(), target: 'pod' });
