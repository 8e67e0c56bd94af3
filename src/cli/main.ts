#!/usr/bin/env node
// The `secure-defaults` bin: the real engine, process I/O and the commands, wired together.
import { checkRestricted, hardenManifest, parsePolicy } from '../engine/index.js';
import { createProcessIo } from './cli-io.js';
import { defaultPolicyPath, findPackageRoot, packageVersion } from './package-paths.js';
import { createCliProgram } from './program.js';

/** Commands that never need serve's modules (the version ones least of all: they must answer at once). */
const OFFLINE_COMMANDS: ReadonlySet<string> = new Set(['mutate', 'check', 'policy', 'version', '--version', '-V']);

const packageRoot = findPackageRoot(import.meta.url);
const deps = {
  io: createProcessIo(),
  engine: { parsePolicy, hardenManifest, checkRestricted },
  defaultPolicyPath: defaultPolicyPath(packageRoot),
};
const cli = createCliProgram(deps, packageVersion(packageRoot));
const args = process.argv.slice(2);
// serve and allocations load the Kubernetes client (and serve winston and prom-client), which
// takes the CLI's start from about 0.15 s to 0.7 s; the offline commands (run once per manifest
// in CI) skip them. Each of the two loads only itself: allocations imports the Kubernetes client
// statically, which standalone `serve --policy FILE` must not carry (tens of MB of heap, and every
// garbage collection under load walks it). `--help` and unknown commands get both.
const command = args[0] ?? '';
if (!OFFLINE_COMMANDS.has(command)) {
  if (command !== 'allocations') {
    const { registerServeCommand } = await import('./commands/serve.js');
    registerServeCommand(cli.program);
  }
  if (command !== 'serve') {
    const { registerAllocationsCommand } = await import('./commands/allocations.js');
    registerAllocationsCommand(cli.program, deps, cli.exitWith);
  }
}
process.exitCode = await cli.run(args);
