// `secure-defaults policy validate FILE`: every error in a SecureDefaultsPolicy, with its path.
import type { Command } from 'commander';
import type { CommandDeps, ExitCodeSink } from '../command-deps.js';
import { readInput } from '../read-input.js';
import { EXIT_FINDINGS, EXIT_OK } from '../user-error.js';

export async function runPolicyValidate(deps: CommandDeps, file: string): Promise<number> {
  const { io, engine } = deps;
  const source = file === '-' ? 'stdin' : file;
  const parsed = engine.parsePolicy(await readInput(io, file, 'policy'));
  if (!parsed.ok) {
    for (const error of parsed.errors) {
      io.writeStdout(`${source}: ${error.path}: ${error.message}\n`);
    }
    io.writeStderr(`${source}: ${parsed.errors.length} ${parsed.errors.length === 1 ? 'error' : 'errors'}\n`);
    return EXIT_FINDINGS;
  }
  for (const warning of parsed.warnings) {
    io.writeStdout(`${source}: warning: ${warning}\n`);
  }
  const warningNote = parsed.warnings.length === 0 ? '' : ` with ${parsed.warnings.length} ${parsed.warnings.length === 1 ? 'warning' : 'warnings'}`;
  io.writeStdout(`${source}: OK: policy ${JSON.stringify(parsed.policy.name)} is valid${warningNote}\n`);
  return EXIT_OK;
}

export function registerPolicyCommand(program: Command, deps: CommandDeps, exitWith: ExitCodeSink): void {
  const policy = program.command('policy').description('work with SecureDefaultsPolicy documents');
  policy
    .command('validate')
    .description('Check a SecureDefaultsPolicy: prints every error with its field path and exits 1, or prints OK and exits 0.')
    .argument('<file>', 'the policy YAML file, or - for stdin')
    .action(async (file: string) => {
      exitWith(await runPolicyValidate(deps, file));
    });
}
