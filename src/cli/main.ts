#!/usr/bin/env node
// The `secure-defaults` bin: the real engine, process I/O and the commands, wired together.
import { checkRestricted, hardenManifest, parsePolicy } from '../engine/index.js';
import { createProcessIo } from './cli-io.js';
// TODO(serve): import { registerServeCommand } from './commands/serve.js'; once the server engineer adds it.
import { defaultPolicyPath, findPackageRoot, packageVersion } from './package-paths.js';
import { createCliProgram } from './program.js';

const packageRoot = findPackageRoot(import.meta.url);
const cli = createCliProgram(
  {
    io: createProcessIo(),
    engine: { parsePolicy, hardenManifest, checkRestricted },
    defaultPolicyPath: defaultPolicyPath(packageRoot),
  },
  packageVersion(packageRoot),
);
// TODO(serve): registerServeCommand(cli.program);
process.exitCode = await cli.run(process.argv.slice(2));
