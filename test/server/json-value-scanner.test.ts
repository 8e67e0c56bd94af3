import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { NOT_SURE, scanJsonValue } from '../../src/server/json-value-scanner.js';

const LIMIT = 100;

function scan(text: string | Buffer, start = 0, maxDepth = LIMIT): number {
  return scanJsonValue(typeof text === 'string' ? Buffer.from(text) : text, start, maxDepth);
}

/** How many containers are open at once at the deepest point of a parsed value. */
function containerDepth(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + children.reduce((deepest: number, child) => Math.max(deepest, containerDepth(child)), 0);
}

/** Whether JSON.stringify writes `key` with a \u escape (control characters, lone surrogates). */
function needsUnicodeEscape(key: string): boolean {
  // Drop escaped backslashes first, so a literal backslash followed by "u" does not count.
  return JSON.stringify(key).replace(/\\\\/g, '').includes('\\u');
}

/** Whether a parsed value has a key the scanner must answer "not sure" to. */
function hasSuspectKey(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(hasSuspectKey);
  return Object.keys(value).some((key) => key === '__proto__' || needsUnicodeEscape(key) || hasSuspectKey((value as Record<string, unknown>)[key]));
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function nestedArrays(levels: number): string {
  return '['.repeat(levels) + ']'.repeat(levels);
}

function nestedObjects(levels: number): string {
  return '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);
}

describe('scanJsonValue on single values', () => {
  // [text, where the value ends]: the index just past it, or NOT_SURE. Text after the value is not
  // the scanner's business, so '01' ends after the 0; inside a container the same text is refused.
  it.each<[string, number]>([
    // numbers
    ['0', 1],
    ['-0', 2],
    ['123', 3],
    ['1e5', 3],
    ['1E5', 3],
    ['1.5E-3', 6],
    ['-12.25e+10', 10],
    ['0.0', 3],
    ['01', 1],
    ['[01]', NOT_SURE],
    ['-01', 2],
    ['[-01]', NOT_SURE],
    ['1.', NOT_SURE],
    ['1.e5', NOT_SURE],
    ['.5', NOT_SURE],
    ['-', NOT_SURE],
    ['-a', NOT_SURE],
    ['+1', NOT_SURE],
    ['1e', NOT_SURE],
    ['1e+', NOT_SURE],
    ['1E-x', NOT_SURE],
    ['1.5.2', 3],
    ['NaN', NOT_SURE],
    ['Infinity', NOT_SURE],
    ['-Infinity', NOT_SURE],
    // literals
    ['true', 4],
    ['false', 5],
    ['null', 4],
    ['tru', NOT_SURE],
    ['nul', NOT_SURE],
    ['fals', NOT_SURE],
    ['True', NOT_SURE],
    ['NULL', NOT_SURE],
    ['undefined', NOT_SURE],
    ['nullx', 4],
    // strings
    ['""', 2],
    ['"abc"', 5],
    ['"\\" \\\\ \\/ \\b \\f \\n \\r \\t"', 25],
    ['"\\u00e9\\u00E9\\uD83D\\uDE00"', 26],
    ['"\\ud800"', 8],
    ['"__proto__"', 11],
    ['"\\x41"', NOT_SURE],
    ["\"\\'\"", NOT_SURE],
    ['"\\a"', NOT_SURE],
    ['"\\U0041"', NOT_SURE],
    ['"\\u12"', NOT_SURE],
    ['"\\u12G4"', NOT_SURE],
    ['"\\u"', NOT_SURE],
    ['"\\', NOT_SURE],
    ['"abc', NOT_SURE],
    ['"abc\\"', NOT_SURE],
    ['"', NOT_SURE],
    ["'abc'", NOT_SURE],
    ['"a\u0000b"', NOT_SURE],
    ['"a\nb"', NOT_SURE],
    ['"a\tb"', NOT_SURE],
    ['"a\rb"', NOT_SURE],
    ['"a\u001fb"', NOT_SURE],
    ['"a\u007fb"', 5],
    ['"a" "b"', 3],
    ['"a""b"', 3],
    // whitespace: skipped before the value, not consumed after it
    [' \t\n\r1', 5],
    ['1  ', 1],
    ['{} ', 2],
    ['[ 1 , 2 ]', 9],
    ['{ "a" : 1 }', 11],
    ['{\n\t"a"\r:\n1\n}', 12],
    ['[\n]', 3],
    ['\f1', NOT_SURE],
    ['\u00a01', NOT_SURE],
    ['', NOT_SURE],
    ['   ', NOT_SURE],
    // containers
    ['[]', 2],
    ['{}', 2],
    ['[1,"a",null,true,{}]', 20],
    ['{"a":[{"b":null}],"c":-1.5}', 27],
    ['{"a":1,"a":2}', 13],
    ['[1,]', NOT_SURE],
    ['[,1]', NOT_SURE],
    ['[,]', NOT_SURE],
    ['[1 2]', NOT_SURE],
    ['[1;2]', NOT_SURE],
    ['{"a"}', NOT_SURE],
    ['{"a":}', NOT_SURE],
    ['{"a":1,}', NOT_SURE],
    ['{,}', NOT_SURE],
    ['{a:1}', NOT_SURE],
    ["{'a':1}", NOT_SURE],
    ['{1:1}', NOT_SURE],
    ['{"a" 1}', NOT_SURE],
    ['{"a"::1}', NOT_SURE],
    ['{"a":1 "b":2}', NOT_SURE],
    ['[1}', NOT_SURE],
    ['{"a":1]', NOT_SURE],
    ['[', NOT_SURE],
    ['{', NOT_SURE],
    ['[[]', NOT_SURE],
    ['{"a":', NOT_SURE],
    ['{"a":1', NOT_SURE],
    ['{"a', NOT_SURE],
    [']', NOT_SURE],
    ['}', NOT_SURE],
    [':', NOT_SURE],
    [',', NOT_SURE],
    // trailing data
    ['[1]xyz', 3],
    ['true,false', 4],
    ['{}{}', 2],
    ['0]', 1],
    ['"x"}', 3],
  ])('%j ends at %d', (text, end) => {
    expect(scan(text)).toBe(end);
  });

  it('counts bytes, not characters', () => {
    expect(scan('"é€😀"')).toBe(Buffer.byteLength('"é€😀"'));
    expect(scan('{"ключ":["значение"]} tail')).toBe(Buffer.byteLength('{"ключ":["значение"]}'));
  });

  it('starts at `start`, skipping whitespace there, and returns an index into the whole buffer', () => {
    expect(scan('xx:[1]', 3)).toBe(6);
    expect(scan('"k":  {"a":1},', 4)).toBe(13);
    expect(scan('garbage{', 7)).toBe(NOT_SURE);
  });

  it('takes bytes that are not UTF-8 inside strings, as JSON.parse does after decoding', () => {
    const text = Buffer.concat([Buffer.from('["a'), Buffer.from([0xff, 0xc3]), Buffer.from('"]')]);
    expect(scan(text)).toBe(text.length);
    expect(() => JSON.parse(text.toString('utf8'))).not.toThrow();
  });
});

describe('scanJsonValue depth limit', () => {
  it.each([0, 1, 2, 3, 97, 100])('accepts %d nested containers at that limit and refuses one more', (maxDepth) => {
    if (maxDepth > 0) {
      expect(scan(nestedArrays(maxDepth), 0, maxDepth)).toBe(2 * maxDepth);
      expect(scan(nestedObjects(maxDepth), 0, maxDepth)).toBe(nestedObjects(maxDepth).length);
    }
    expect(scan(nestedArrays(maxDepth + 1), 0, maxDepth)).toBe(NOT_SURE);
    expect(scan(nestedObjects(maxDepth + 1), 0, maxDepth)).toBe(NOT_SURE);
  });

  it('takes scalars with a limit of 0', () => {
    expect(scan('"a"', 0, 0)).toBe(3);
    expect(scan('[]', 0, 0)).toBe(NOT_SURE);
  });

  it('counts containers open at once, not containers in all', () => {
    const siblings = '[[[]],[[]],{"a":[],"b":{"c":1}}]';
    expect(scan(siblings, 0, 3)).toBe(siblings.length);
    expect(scan(siblings, 0, 2)).toBe(NOT_SURE);
  });

  it('mixes arrays and objects in one count', () => {
    const mixed = '[{"a":[{"b":[1]}]}]';
    expect(scan(mixed, 0, 5)).toBe(mixed.length);
    expect(scan(mixed, 0, 4)).toBe(NOT_SURE);
  });

  // Hostile bodies can nest far deeper than any stack: the scan must answer, not throw RangeError.
  it('scans a million levels without running out of stack', () => {
    const levels = 1_000_000;
    expect(scan(nestedArrays(levels), 0, Number.POSITIVE_INFINITY)).toBe(2 * levels);
    expect(scan('['.repeat(levels), 0, Number.POSITIVE_INFINITY)).toBe(NOT_SURE);
  });
});

describe('scanJsonValue keys', () => {
  it.each<[string, number]>([
    ['{"__proto__":1}', NOT_SURE],
    ['{"__proto__" : {}}', NOT_SURE],
    ['{"a":{"b":[{"__proto__":null}]}}', NOT_SURE],
    ['{"a":1,"__proto__":2}', NOT_SURE],
    // Spelt with escapes, the key is still "__proto__" once parsed; any \u in a key is refused.
    ['{"\\u005f_proto__":1}', NOT_SURE],
    ['{"__proto\\u005f_":1}', NOT_SURE],
    ['{"\\u005F\\u005Fproto\\u005F\\u005F":1}', NOT_SURE],
    ['{"\\u0041":1}', NOT_SURE],
    // As a value, or a near miss as a key, it is ordinary.
    ['{"a":"__proto__"}', 17],
    ['["__proto__"]', 13],
    ['{"__proto_":1}', 14],
    ['{"_proto__":1}', 14],
    ['{"__proto__x":1}', 16],
    ['{"x__proto__":1}', 16],
    ['{"__PROTO__":1}', 15],
    ['{"constructor":1,"prototype":2}', 31],
    ['{"\\"__proto__\\"":1}', 19],
    ['{"a":"\\u0041"}', 14],
    // A \u escape in a value must not taint the key after it.
    ['{"a":"\\u0041","b":1}', 20],
    ['["\\u0041",{"b":1}]', 18],
  ])('%j ends at %d', (text, end) => {
    expect(scan(text)).toBe(end);
  });
});

describe('scanJsonValue properties', () => {
  // Keys and strings with control characters (written with \u escapes) and non-ASCII text.
  const anyUnit = fc.constantFrom('grapheme-ascii', 'binary', 'grapheme') as fc.Arbitrary<'grapheme-ascii' | 'binary' | 'grapheme'>;
  const jsonText = anyUnit.chain((stringUnit) =>
    fc.oneof(
      fc.json({ maxDepth: 5, stringUnit }),
      fc.tuple(fc.jsonValue({ maxDepth: 6, stringUnit }), fc.constantFrom(undefined, 1, 2, '\t', ' \r')).map(([value, indent]) => JSON.stringify(value, null, indent)),
      // Generators do not invent "__proto__" keys; rename the first key of some texts to one (a
      // match can also be inside a string, hence the filter).
      fc
        .json({ maxDepth: 5, stringUnit })
        .map((text) => text.replace(/"[^"\\]*":/, '"__proto__":'))
        .filter(isJson),
    ),
  );

  it('finds the end of any JSON text, unless it is too deep or has a suspect key', () => {
    fc.assert(
      fc.property(
        jsonText,
        fc.integer({ min: 0, max: 7 }),
        fc.constantFrom('', '  ', '\n\t', 'x:'),
        fc.constantFrom('', ' ', ',', ']', '}', ':', '"tail"', ' 12', 'true'),
        (text, maxDepth, prefix, suffix) => {
          const value: unknown = JSON.parse(text);
          const fine = containerDepth(value) <= maxDepth && !hasSuspectKey(value);
          // 'x:' is the non-JSON part the scan starts after; whitespace is skipped as part of the scan.
          const start = prefix === 'x:' ? 2 : 0;
          const body = Buffer.from(prefix + text + suffix);
          const end = Buffer.byteLength(prefix + text);
          // No suffix can continue a value (' 12' has its space), so the value ends where the text does.
          expect(scanJsonValue(body, start, maxDepth)).toBe(fine ? end : NOT_SURE);
        },
      ),
      { numRuns: 1000 },
    );
  });

  // Soundness: "fine" must never be said of text JSON.parse refuses, or the caller would skip an
  // invalid part of a body and accept it.
  const alphabet = fc.constantFrom(...'{}[]":,. -+0123456789eE\\/ubfnrtlsa_\t\n\u0000é'.split(''));
  const mutatedJson = fc
    .tuple(fc.json({ maxDepth: 4 }), fc.array(fc.tuple(fc.constantFrom('delete', 'insert', 'replace'), fc.nat(), alphabet), { minLength: 1, maxLength: 3 }))
    .map(([text, edits]) => {
      let mutated = text;
      for (const [edit, position, char] of edits) {
        const at = mutated.length === 0 ? 0 : position % mutated.length;
        if (edit === 'delete') mutated = mutated.slice(0, at) + mutated.slice(at + 1);
        else if (edit === 'insert') mutated = mutated.slice(0, at) + char + mutated.slice(at);
        else mutated = mutated.slice(0, at) + char + mutated.slice(at + 1);
      }
      return mutated;
    });
  const jsonishString = fc.string({ unit: alphabet, maxLength: 30 });

  it.each([
    ['mutated JSON texts', mutatedJson],
    ['strings of JSON punctuation', jsonishString],
    ['arbitrary strings', fc.string({ unit: 'binary', maxLength: 30 })],
  ])('only ever ends a value JSON.parse accepts: %s', (_label, texts) => {
    fc.assert(
      fc.property(texts, fc.integer({ min: 0, max: 6 }), (text, maxDepth) => {
        const body = Buffer.from(text);
        const end = scanJsonValue(body, 0, maxDepth);
        if (end === NOT_SURE) return;
        expect(end).toBeGreaterThan(0);
        expect(end).toBeLessThanOrEqual(body.length);
        const value: unknown = JSON.parse(body.subarray(0, end).toString('utf8'));
        expect(containerDepth(value)).toBeLessThanOrEqual(maxDepth);
        expect(hasSuspectKey(value)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
