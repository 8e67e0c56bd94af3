import type { CliIo } from './cli-io.js';
import type { CliEngine } from './engine-port.js';

/** What every command is given: the outside world, the engine, and where the shipped policy is. */
export interface CommandDeps {
  readonly io: CliIo;
  readonly engine: CliEngine;
  /** policies/default.yaml of the installed package (not of the working directory). */
  readonly defaultPolicyPath: string;
}

/** Commands hand their exit status back through this instead of calling process.exit. */
export type ExitCodeSink = (code: number) => void;
