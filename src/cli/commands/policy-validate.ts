// `secure-defaults policy validate FILE`: every error in a SecureDefaultsPolicy, with its path.
import type { Command } from 'commander';
import type { CommandDeps, ExitCodeSink } from '../command-deps.js';
import { policyTextFrom } from '../policy-input.js';
import { readInput } from '../read-input.js';
import { EXIT_FINDINGS, EXIT_OK } from '../user-error.js';
import { describePolicyError } from '../../engine/policy-config-map.js';

export async function runPolicyValidate(deps: CommandDeps, file: string): Promise<number> {
  const { io, engine } = deps;
  const input = policyTextFrom(await readInput(io, file, 'policy'), file === '-' ? 'stdin' : file);
  // Errors and OK name where the policy was: a ConfigMap's key is said, since its line numbers are not the file's.
  const source = `${file === '-' ? 'stdin' : file}${input.fromConfigMap === null ? '' : ` (${input.fromConfigMap})`}`;
  const parsed = engine.parsePolicy(input.text);
  if (!parsed.ok) {
    for (const error of parsed.errors) {
      io.writeStdout(`${source}: ${describePolicyError(error)}\n`);
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
    .argument('<file>', 'the policy YAML file, or the ConfigMap holding it under policy.yaml (as the chart installs it), or - for stdin')
    .addHelpText('after', '\nExit status: 0 valid (warnings may be printed), 1 the policy has errors, 2 the file cannot be read or holds a ConfigMap without policy.yaml.')
    .action(async (file: string) => {
      exitWith(await runPolicyValidate(deps, file));
    });
}
