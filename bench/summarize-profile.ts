// `node dist/bench/summarize-profile.js <file.cpuprofile | folder> [--top N]`: where a profiled
// process spent its time, as text, without opening DevTools.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatProfileSummary, readCpuProfile, summarizeCpuProfile } from './cpu-profile-summary.js';

const USAGE = 'usage: node dist/bench/summarize-profile.js <file.cpuprofile | folder of them (newest is read)> [--top N]';

function profileFile(path: string): string {
  if (!statSync(path).isDirectory()) return path;
  const newest = readdirSync(path)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(path, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (newest === undefined) throw new Error(`${path}: no .cpuprofile files in this folder`);
  return newest;
}

function main(): number {
  const { values, positionals } = parseArgs({ args: process.argv.slice(2), options: { top: { type: 'string', default: '15' } }, allowPositionals: true });
  const top = Number(values.top);
  const target = positionals[0];
  if (target === undefined || positionals.length > 1 || !Number.isInteger(top) || top < 1) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (!existsSync(target)) {
    process.stderr.write(`${target}: no such file or folder\n${USAGE}\n`);
    return 2;
  }
  const file = profileFile(target);
  process.stdout.write(`${file}\n\n${formatProfileSummary(summarizeCpuProfile(readCpuProfile(file)), top)}\n`);
  return 0;
}

try {
  process.exitCode = main();
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
}
