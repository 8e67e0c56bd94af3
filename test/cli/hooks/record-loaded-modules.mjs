// Preloaded with `node --import` by test/cli/built-cli.test.ts: records every module URL the
// process resolves and prints them as one JSON line on stderr at exit, so a test can tell which
// modules a command loaded (not how long it took).
import { writeSync } from 'node:fs';
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
  writeSync(2, `loaded-modules ${JSON.stringify([...resolved])}\n`);
});
