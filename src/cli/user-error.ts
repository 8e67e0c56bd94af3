/**
 * A mistake in what the user gave the CLI (a missing file, bad YAML, a bad flag value): printed
 * as one `error: …` line, exit status 2, never a stack trace.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}

export const EXIT_OK = 0;
/** `check` found something hardening can't fix; `policy validate` found errors. */
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;
