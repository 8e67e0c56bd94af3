// Wires the commands into one commander program that reports an exit status instead of exiting,
// so the same program runs from the bin script and in-process from tests.
import { Command, CommanderError } from 'commander';
import type { CommandDeps, ExitCodeSink } from './command-deps.js';
import { registerCheckCommand } from './commands/check.js';
import { registerMutateCommand } from './commands/mutate.js';
import { registerPolicyCommand } from './commands/policy-validate.js';
import { EXIT_OK, EXIT_USAGE, UserError } from './user-error.js';

export interface CliProgram {
  readonly program: Command;
  /** For commands registered from outside (allocations): how they report their exit status. */
  readonly exitWith: ExitCodeSink;
  /** Parses `args` (without "node" and the script) and runs the command; resolves to the exit status. */
  run(args: readonly string[]): Promise<number>;
}

export function createCliProgram(deps: CommandDeps, version: string): CliProgram {
  let exitCode = EXIT_OK;
  const exitWith = (code: number): void => {
    exitCode = code;
  };
  const program = new Command('secure-defaults')
    .description('Harden Kubernetes Pods to the Pod Security Standards "restricted" profile, offline or as an admission webhook.')
    .version(version)
    .configureOutput({
      writeOut: (text) => deps.io.writeStdout(text),
      writeErr: (text) => deps.io.writeStderr(text),
    })
    .exitOverride()
    .showSuggestionAfterError(true);
  registerMutateCommand(program, deps, exitWith);
  registerCheckCommand(program, deps, exitWith);
  registerPolicyCommand(program, deps, exitWith);
  program
    .command('version')
    .description('Print the version of secure-defaults (the same as --version).')
    .action(() => deps.io.writeStdout(`${version}\n`));

  return {
    program,
    exitWith,
    async run(args) {
      exitCode = EXIT_OK;
      try {
        await program.parseAsync([...args], { from: 'user' });
        return exitCode;
      } catch (error) {
        if (error instanceof UserError) {
          deps.io.writeStderr(`error: ${error.message}\n`);
          return EXIT_USAGE;
        }
        if (error instanceof CommanderError) {
          // commander has already printed its one-line message (or the help text).
          const shownOnRequest = error.code === 'commander.helpDisplayed' || error.code === 'commander.version';
          return shownOnRequest ? EXIT_OK : EXIT_USAGE;
        }
        throw error;
      }
    },
  };
}
