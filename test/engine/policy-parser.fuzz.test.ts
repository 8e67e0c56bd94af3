// parsePolicy must never throw, whatever it is given: arbitrary text, arbitrary YAML values, and
// near-valid policies with one field replaced by an arbitrary value.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parsePolicy, type PolicyParseResult } from '../../src/engine/index.js';

function wellFormed(result: PolicyParseResult): boolean {
  if (result.ok) return typeof result.policy.resolveIdDefaults === 'function';
  return result.errors.length > 0 && result.errors.every((e) => typeof e.path === 'string' && e.message.length > 0);
}

const VALID = {
  apiVersion: 'secure-defaults.io/v1alpha1',
  kind: 'SecureDefaultsPolicy',
  metadata: { name: 'fuzz' },
  spec: {
    mode: 'fill',
    defaults: { runAsNonRoot: true, seccompProfile: 'RuntimeDefault', dropCapabilities: ['ALL'] },
    namespaces: [
      { names: ['payments', 'team-*'], uidRange: '10000-19999', fsGroup: 10000 },
      { selector: { matchLabels: { tier: 'batch' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }, uidRange: '20000-29999' },
    ],
    fallback: { uidRange: '100000-165535' },
    allocation: { range: '1000000000-1999999999', blockSize: 10000 },
    allowPodOptOut: false,
  },
};

/** Every path into VALID, so one field at a time can be replaced by garbage. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([key, child]) => paths(child, [...prefix, key]))];
}

function replaced(root: unknown, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(root)) {
    const copy: unknown[] = [...root];
    copy[head as number] = replaced(copy[head as number], rest, value);
    return copy;
  }
  const copy = { ...(root as Record<string, unknown>) };
  copy[head] = replaced(copy[head], rest, value);
  return copy;
}

describe('parsePolicy never throws', () => {
  it('accepts the fuzz baseline', () => {
    expect(parsePolicy(stringify(VALID)).ok).toBe(true);
  });

  it('on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => wellFormed(parsePolicy(text))), { numRuns: 500 });
  });

  it('on arbitrary YAML-ish text built from policy tokens', () => {
    const token = fc.constantFrom('apiVersion:', 'kind:', 'spec:', 'namespaces:', '- ', 'uidRange:', '"1-10"', '&a', '*a', '[', ']', '{', '}', '\n', '  ', '---', '!!binary', 'null', '0-0', ':', '#');
    fc.assert(fc.property(fc.array(token, { maxLength: 40 }), (tokens) => wellFormed(parsePolicy(tokens.join('')))), { numRuns: 500 });
  });

  it('on arbitrary JSON values as the whole document', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => wellFormed(parsePolicy(stringify(value)))), { numRuns: 300 });
  });

  it('with any one field of a valid policy replaced by an arbitrary value', () => {
    const allPaths = paths(VALID);
    fc.assert(
      fc.property(fc.constantFrom(...allPaths), fc.jsonValue({ maxDepth: 3 }), (path, value) => wellFormed(parsePolicy(stringify(replaced(VALID, path, value))))),
      { numRuns: 1000 },
    );
  });
});
