#!/usr/bin/env node
// The `secure-defaults` bin: the real engine, process I/O and the commands, wired together.
import { checkRestricted, hardenManifest, parsePolicy } from '../engine/index.js';
import { createProcessIo } from './cli-io.js';
import { defaultPolicyPath, findPackageRoot, packageVersion } from './package-paths.js';
import { createCliProgram } from './program.js';

/** Commands that never need serve's modules. */
const OFFLINE_COMMANDS: ReadonlySet<string> = new Set(['mutate', 'check', 'policy']);

const packageRoot = findPackageRoot(import.meta.url);
const cli = createCliProgram(
  {
    io: createProcessIo(),
    engine: { parsePolicy, hardenManifest, checkRestricted },
    defaultPolicyPath: defaultPolicyPath(packageRoot),
  },
  packageVersion(packageRoot),
);
const args = process.argv.slice(2);
// serve loads the Kubernetes client, winston and prom-client, which takes the CLI's start from
// about 0.15 s to 0.7 s; the offline commands (run once per manifest in CI) skip it.
if (!OFFLINE_COMMANDS.has(args[0] ?? '')) {
  const { registerServeCommand } = await import('./commands/serve.js');
  registerServeCommand(cli.program);
}
process.exitCode = await cli.run(args);
