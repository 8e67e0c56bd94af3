// Preloaded with `node --import` by test/cli/built-cli.test.ts: records every module URL the
// process resolves and writes them, as a JSON array, to the file named by
// SECURE_DEFAULTS_LOADED_MODULES at exit, so a test can tell which modules a command loaded (not
// how long it took). A file, not stderr: a pipe may take only part of a large synchronous write.
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const resolved = new Set();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    resolved.add(result.url);
    return result;
  },
});
process.on('exit', () => {
  writeFileSync(process.env.SECURE_DEFAULTS_LOADED_MODULES, JSON.stringify([...resolved]));
});
