// The benchmark runs every server with the image's NODE_OPTIONS unless told otherwise, so ours is
// measured as shipped and the references get the same heap settings.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { readBenchConfig } from '../../bench/bench-config.js';
import { imageNodeOptions } from '../../bench/image-node-options.js';

describe('image NODE_OPTIONS', () => {
  it.each([
    ['ENV NODE_OPTIONS=--enable-source-maps', ['--enable-source-maps']],
    ['ENV NODE_OPTIONS="--enable-source-maps --max-old-space-size=128"', ['--enable-source-maps', '--max-old-space-size=128']],
    ['ENV NODE_OPTIONS=--a\nENV NODE_OPTIONS=--b', ['--b']],
    ['ENV NODE_ENV=production', []],
  ])('%s → %j', (dockerfile, flags) => {
    expect(imageNodeOptions(dockerfile)).toEqual(flags);
  });

  it("reads the repository's Dockerfile", () => {
    expect(imageNodeOptions(readFileSync('Dockerfile', 'utf8'))).toEqual(expect.arrayContaining(['--max-old-space-size=128', '--max-semi-space-size=16']));
  });
});

describe('BENCH_NODE_FLAGS', () => {
  const image = ['--enable-source-maps', '--max-old-space-size=128'];
  it.each([
    [undefined, image],
    ['', image],
    ['none', []],
    ['--max-semi-space-size=32 --max-old-space-size=96', ['--max-semi-space-size=32', '--max-old-space-size=96']],
  ])('%j → %j', (value, flags) => {
    const result = readBenchConfig({ BENCH_NODE_FLAGS: value }, image);
    expect(result.ok && result.config.nodeFlags).toEqual(flags);
  });

  it('refuses what is not a node flag, naming the variable', () => {
    const result = readBenchConfig({ BENCH_NODE_FLAGS: '--ok rm -rf' }, image);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.join('\n')).toMatch(/BENCH_NODE_FLAGS: "rm", "-rf" are not node flags/);
  });
});

describe('BENCH_BASELINE (our webhook from another checkout, benched beside ours)', () => {
  it.each([
    [{}, ['floor', 'ceiling', 'hosted-ceiling', 'ours']],
    [{ BENCH_BASELINE: '../before' }, ['floor', 'ceiling', 'hosted-ceiling', 'baseline', 'ours']],
    [{ BENCH_BASELINE: '../before', BENCH_TARGETS: 'ours,baseline' }, ['baseline', 'ours']],
  ])('%j benches %j', (env, targets) => {
    const result = readBenchConfig(env);
    expect(result.ok && result.config.targets).toEqual(targets);
  });

  it('refuses the baseline target without the checkout it is built from', () => {
    const result = readBenchConfig({ BENCH_TARGETS: 'baseline,ours' });
    expect(!result.ok && result.errors.join('\n')).toMatch(/"baseline" is our webhook built from another checkout; set BENCH_BASELINE/);
  });
});
