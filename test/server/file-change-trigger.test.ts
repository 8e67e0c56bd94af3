// The directory watch behind `--tls-cert/--tls-key` and `serve --policy FILE` reacts to the files it
// follows (and to kubelet's ..data swaps), not to everything else written in their directory: a
// log file beside the certificates must not wake the webhook and re-read the pair after every line.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../src/foundation/clock.js';
import { concernsFollowedFiles, FileChangeTrigger } from '../../src/server/file-change-trigger.js';
import { RecordingLogger } from './webhook-harness.js';

const DEBOUNCE_MS = 20;
const POLL_MS = 3_600_000;

async function until(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('concernsFollowedFiles', () => {
  const followed = new Set(['tls.crt', 'tls.key']);
  it.each([
    ['tls.crt', true],
    ['tls.key', true],
    ['..data', true],
    ['..data_tmp', true],
    ['..2026_12_01_12_00_00.123456789', true],
    [null, true],
    ['webhook.stdout.log', false],
    ['tls.crt.swp', false],
    ['.tls.crt.swp', false],
    ['tls.crt~', false],
  ] as const)('%s → %s', (filename, expected) => {
    expect(concernsFollowedFiles(filename, followed)).toBe(expected);
  });
});

describe('FileChangeTrigger', () => {
  let dir = '';
  let trigger: FileChangeTrigger | null = null;
  let checks = 0;
  let debounces = 0;
  // The real timers, counting the debounce timers the watch schedules (one per event it acts on).
  const countingClock: Clock = {
    ...systemClock,
    setTimeout: (callback, ms) => {
      if (ms === DEBOUNCE_MS) debounces += 1;
      return systemClock.setTimeout(callback, ms);
    },
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secure-defaults-trigger-'));
    checks = 0;
    debounces = 0;
  });
  afterEach(async () => {
    trigger?.stop();
    trigger = null;
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (): Promise<string> => {
    const cert = join(dir, 'tls.crt');
    await writeFile(cert, 'v1');
    trigger = new FileChangeTrigger({
      paths: [cert, join(dir, 'tls.key')],
      check: async () => {
        checks += 1;
      },
      logger: new RecordingLogger(),
      clock: countingClock,
      pollIntervalMs: POLL_MS,
      debounceMs: DEBOUNCE_MS,
    });
    trigger.start();
    return cert;
  };

  it('ignores writes to other files in the directory, and still checks when a followed file changes', async () => {
    const cert = await start();
    const log = join(dir, 'webhook.stdout.log');
    for (let line = 0; line < 30; line += 1) await appendFile(log, `{"line":${line}}\n`);
    // Events arrive in order on one watch: once the certificate's change has been checked, every
    // event of the log lines before it has been handled too.
    await writeFile(cert, 'v2');
    await until('a check after the certificate changed', () => checks >= 1);
    expect(checks).toBe(1);
    // The certificate write itself is one or two events; 30 log lines acted on would be 30 more.
    expect(debounces).toBeLessThanOrEqual(3);
  });

  it('checks when a Secret volume swaps its ..data link, with nothing named like the followed files', async () => {
    await start();
    await writeFile(join(dir, '..data_tmp'), 'the new version');
    await until('a check after the ..data entry changed', () => checks >= 1);
    expect(checks).toBe(1);
  });
});
