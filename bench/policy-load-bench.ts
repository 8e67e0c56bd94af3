// What loading a policy costs the event loop that answers admissions, for policies near the
// ConfigMap limit (1 MiB): the whole parse on the main thread (as before), against the parse in a
// worker thread, where the main thread only compiles the validated data. Prints milliseconds and
// the longest event-loop stall seen while each load runs; asserts nothing.
//   npm run build && node dist/bench/policy-load-bench.js
import { compileValidation, parsePolicy, validatePolicy } from '../src/engine/index.js';
import { createWorkerPolicyParser } from '../src/server/worker-policy-parser.js';

const header = 'apiVersion: secure-defaults.io/v1alpha1\nkind: SecureDefaultsPolicy\nmetadata: {name: big}\n';
export const BIG_POLICIES: ReadonlyArray<readonly [string, string]> = [
  ['9,000 valid rules (accepted)', `${header}spec:\n  namespaces:\n${Array.from({ length: 9_000 }, (_, i) => `  - {names: [team-${i}, team-${i}-dev, team-${i}-prod], uidRange: "${100000 + i * 100}-${100000 + i * 100 + 99}"}\n`).join('')}`],
  ['1 rule of 60,000 names (accepted)', `${header}spec:\n  namespaces:\n  - uidRange: "100000-199999"\n    names:\n${Array.from({ length: 60_000 }, (_, i) => `    - ns-${i}\n`).join('')}`],
  ['40,000 unknown keys (refused)', `${header}spec:\n${Array.from({ length: 40_000 }, (_, i) => `  k${i}: 1\n`).join('')}`],
  ['900 KB anchored scalar in 99 rules (refused)', `${header}x: &a ${'a'.repeat(900_000)}\nspec:\n  namespaces:\n${Array.from({ length: 99 }, (_, i) => `  - {names: [*a], uidRange: "${10000 + i * 10}-${10000 + i * 10 + 9}"}\n`).join('')}`],
];

/** Wall time of `load`, and the longest gap between ticks of a 5 ms timer meanwhile (the loop held). */
async function longestStallMs(load: () => Promise<unknown> | unknown): Promise<{ ms: number; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  // Something on the loop the whole time, as admissions would be.
  const ticker = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 5);
  await new Promise((r) => setTimeout(r, 20));
  const started = performance.now();
  await load();
  const ms = performance.now() - started;
  await new Promise((r) => setTimeout(r, 20));
  clearInterval(ticker);
  return { ms, stallMs };
}

async function main(): Promise<void> {
  const parser = createWorkerPolicyParser();
  console.log('policy | KiB | main-thread parse ms (stall) | worker parse ms (main-thread stall) | compile of validated data on main ms');
  for (const [label, text] of BIG_POLICIES) {
    const sync = await longestStallMs(() => parsePolicy(text));
    const worker = await longestStallMs(() => parser.parse(text));
    const validation = structuredClone(validatePolicy(text));
    const compileStarted = performance.now();
    compileValidation(validation);
    const compileMs = performance.now() - compileStarted;
    const kib = Math.round(Buffer.byteLength(text) / 1024);
    console.log(`${label} | ${kib} | ${sync.ms.toFixed(0)} (${sync.stallMs.toFixed(0)}) | ${worker.ms.toFixed(0)} (${worker.stallMs.toFixed(0)}) | ${compileMs.toFixed(1)}`);
  }
  await parser.close();
}

await main();
