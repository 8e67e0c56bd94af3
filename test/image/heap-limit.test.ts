// The image caps V8's old generation (NODE_OPTIONS) so the webhook stays under the chart's memory
// limit: left alone, V8 sizes its heap from the container limit itself and lets garbage pile up to
// about that much before a full collection, which under load means an OOM kill (bench/README.md).
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../chart/helm-runner.js';
import { finalStage, readDockerfile, stepsOf } from './dockerfile-reader.js';

function mebibytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (match === null) throw new Error(`memory quantity ${quantity} is not in Mi or Gi`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

describe('heap limit', () => {
  const runtime = finalStage(readDockerfile(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')));
  const nodeOptions = stepsOf(runtime, 'ENV')
    .map((step) => step.properties.NODE_OPTIONS)
    .filter((value): value is string => value !== undefined)
    .at(-1);

  test('NODE_OPTIONS keeps source maps and sets --max-old-space-size', () => {
    expect(nodeOptions?.split(' ')).toContain('--enable-source-maps');
    expect(nodeOptions).toMatch(/(^| )--max-old-space-size=\d+( |$)/);
  });

  test("caps the young generation as the chart does (Node 24's default let scavenges cost 2-3x the CPU)", () => {
    const semiSpace = Number(/--max-semi-space-size=(\d+)/.exec(nodeOptions ?? '')?.[1]);
    expect(semiSpace).toBeGreaterThanOrEqual(8);
    expect(semiSpace).toBeLessThanOrEqual(32);
    const chart = readFileSync(join(REPO_ROOT, 'charts/secure-defaults/templates/deployment.yaml'), 'utf8');
    expect(chart).toContain(`--max-semi-space-size=${semiSpace}`);
  });

  test("the old generation gets at most half of the chart's memory limit (the rest: young generation, code, TLS and socket buffers)", () => {
    const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(nodeOptions ?? '')?.[1]);
    const values = parse(readFileSync(join(REPO_ROOT, 'charts/secure-defaults/values.yaml'), 'utf8')) as { resources: { limits: { memory: string } } };
    const limit = mebibytes(values.resources.limits.memory);
    // 64 MB thrashed: with client-node's live heap, CPU per admission went from ~350 to ~1,300 µs.
    expect(oldSpace).toBeGreaterThanOrEqual(96);
    expect(oldSpace).toBeLessThanOrEqual(limit / 2);
  });
});
