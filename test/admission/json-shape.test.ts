import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { describeHostileJsonShape, findHostileJsonShape, MAX_JSON_DEPTH } from '../../src/admission/json-shape.js';

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { n: value } : [value];
  return value;
}

describe('findHostileJsonShape', () => {
  it.each([
    ['a scalar', 'x', null],
    ['an empty object', {}, null],
    ['a Pod-like object', { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'app' }] } }, null],
    ['nesting just under the limit', nested(MAX_JSON_DEPTH), null],
    ['nesting at the limit', nested(MAX_JSON_DEPTH + 1), /JSON is nested deeper than 100 levels/],
    ['a __proto__ key', JSON.parse('{"metadata":{"__proto__":{"polluted":true}}}'), /^metadata.__proto__: the key "__proto__" is not allowed$/],
    ['a __proto__ key in a list', JSON.parse('{"spec":{"containers":[{"name":"a"},{"__proto__":1}]}}'), /^spec.containers\[1\].__proto__: /],
  ])('%s', (_label, value, expected) => {
    const found = findHostileJsonShape(value);
    if (expected === null) expect(found).toBeNull();
    else expect(found).toMatch(expected);
  });

  it('agrees with the path-naming walk on any JSON, shallow limits included (property)', () => {
    const withProto = fc.jsonValue({ maxDepth: 6 }).map((value) => JSON.parse(JSON.stringify(value).replace(/"a":/g, '"__proto__":')) as unknown);
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 6 }), withProto), fc.integer({ min: 1, max: 8 }), (value, maxDepth) => {
        expect(findHostileJsonShape(value, maxDepth)).toBe(describeHostileJsonShape(value, maxDepth));
      }),
      { numRuns: 500 },
    );
  });
});
