// Checks that a stretch of bytes is exactly one JSON value (RFC 8259), without building it. Used to
// validate parts of an AdmissionReview the webhook never reads (metadata.managedFields) instead of
// letting JSON.parse allocate them: about a third of the parse's cost per request. The same shape
// limits as the hostile-shape check apply, so skipping a part never lets through what parsing it
// would have refused.
//
// The scanner answers only "fine, and here is where the value ends" or "not sure"; it never
// explains. On "not sure" the caller parses the whole body the ordinary way, whose errors are the
// ones users see.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const LOWER_U = 0x75;

/** "Not sure": invalid JSON, too deep, a "__proto__" key, or a key spelt with \u escapes. */
export const NOT_SURE = -1;

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function isDigit(byte: number): boolean {
  return byte >= DIGIT_0 && byte <= DIGIT_9;
}

function isHexDigit(byte: number): boolean {
  return (byte >= DIGIT_0 && byte <= DIGIT_9) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}

/** The index of the first byte at or after `index` that is not JSON whitespace (bytes.length if none). */
export function skipWhitespace(bytes: Uint8Array, index: number): number {
  // Kubernetes sends compact JSON: the first byte is almost never whitespace.
  if (bytes[index]! > 0x20) return index;
  while (index < bytes.length && isWhitespace(bytes[index]!)) index++;
  return index;
}

/** Escape letters JSON allows after a backslash, besides u. */
function isSimpleEscape(byte: number): boolean {
  // " \ / b f n r t
  return byte === QUOTE || byte === BACKSLASH || byte === 0x2f || byte === 0x62 || byte === 0x66 || byte === 0x6e || byte === 0x72 || byte === 0x74;
}

// Set by scanString when the string used a \u escape: as a key it could spell "__proto__". A
// module variable rather than a second return value, because scanString runs once per string on
// the request path and the scan is synchronous.
let lastStringHadUnicodeEscape = false;

// What each byte means inside a string: most are plain, and the loop over them does one table
// lookup per byte (about 3 times faster than comparing against each special byte).
const PLAIN = 0;
const ENDS_STRING = 1;
const STARTS_ESCAPE = 2;
const FORBIDDEN = 3;
const STRING_BYTE = new Uint8Array(256);
STRING_BYTE.fill(FORBIDDEN, 0, 0x20);
STRING_BYTE[QUOTE] = ENDS_STRING;
STRING_BYTE[BACKSLASH] = STARTS_ESCAPE;

/** Index just past the string starting at `index` (which holds its opening quote), or NOT_SURE. */
function scanString(bytes: Uint8Array, index: number): number {
  lastStringHadUnicodeEscape = false;
  let at = index + 1;
  const length = bytes.length;
  while (at < length) {
    const kind = STRING_BYTE[bytes[at]!]!;
    if (kind === PLAIN) {
      at++;
      continue;
    }
    if (kind === ENDS_STRING) return at + 1;
    if (kind === FORBIDDEN) return NOT_SURE;
    const escaped = bytes[at + 1];
    if (escaped === undefined) return NOT_SURE;
    if (escaped === LOWER_U) {
      if (at + 5 >= length) return NOT_SURE;
      if (!isHexDigit(bytes[at + 2]!) || !isHexDigit(bytes[at + 3]!) || !isHexDigit(bytes[at + 4]!) || !isHexDigit(bytes[at + 5]!)) return NOT_SURE;
      lastStringHadUnicodeEscape = true;
      at += 6;
      continue;
    }
    if (!isSimpleEscape(escaped)) return NOT_SURE;
    at += 2;
  }
  return NOT_SURE;
}

const PROTO_KEY = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f]; // __proto__

/** Whether the key between `start` (its opening quote) and `end` (just past its closing quote) reads "__proto__" or might. */
function isSuspectKey(bytes: Uint8Array, start: number, end: number): boolean {
  if (lastStringHadUnicodeEscape) return true;
  if (end - start !== PROTO_KEY.length + 2) return false;
  for (let i = 0; i < PROTO_KEY.length; i++) if (bytes[start + 1 + i] !== PROTO_KEY[i]) return false;
  return true;
}

function scanDigits(bytes: Uint8Array, index: number): number {
  const start = index;
  while (index < bytes.length && isDigit(bytes[index]!)) index++;
  return index === start ? NOT_SURE : index;
}

function scanNumber(bytes: Uint8Array, index: number): number {
  let at = index;
  if (bytes[at] === MINUS) at++;
  if (bytes[at] === DIGIT_0) at++;
  else {
    at = scanDigits(bytes, at);
    if (at === NOT_SURE) return NOT_SURE;
  }
  if (bytes[at] === DOT) {
    at = scanDigits(bytes, at + 1);
    if (at === NOT_SURE) return NOT_SURE;
  }
  if (bytes[at] === LOWER_E || bytes[at] === UPPER_E) {
    at++;
    if (bytes[at] === PLUS || bytes[at] === MINUS) at++;
    at = scanDigits(bytes, at);
  }
  return at;
}

function scanLiteral(bytes: Uint8Array, index: number, literal: string): number {
  if (index + literal.length > bytes.length) return NOT_SURE;
  for (let i = 0; i < literal.length; i++) if (bytes[index + i] !== literal.charCodeAt(i)) return NOT_SURE;
  return index + literal.length;
}

/** Index just past a scalar value starting at `index`, or NOT_SURE. */
function scanScalar(bytes: Uint8Array, index: number): number {
  const byte = bytes[index];
  if (byte === QUOTE) return scanString(bytes, index);
  if (byte === MINUS || (byte !== undefined && isDigit(byte))) return scanNumber(bytes, index);
  if (byte === 0x74) return scanLiteral(bytes, index, 'true');
  if (byte === 0x66) return scanLiteral(bytes, index, 'false');
  if (byte === 0x6e) return scanLiteral(bytes, index, 'null');
  return NOT_SURE;
}

/**
 * Where the JSON value that starts at `start` (after optional whitespace) ends: the index just past
 * it, or NOT_SURE. `maxDepth` counts the containers that may be open at once, so a value nested
 * `d` levels deep inside a document passes `MAX_JSON_DEPTH - d` to keep the document's limit.
 * Iterative: hostile nesting costs a byte of stack per level, never a call frame.
 */
export function scanJsonValue(bytes: Uint8Array, start: number, maxDepth: number): number {
  // Which container is open at each level (1: object, 0: array), and how many are open.
  const inObject = new Uint8Array(Math.max(0, Math.min(maxDepth, bytes.length)));
  let depth = 0;
  let at = skipWhitespace(bytes, start);
  for (;;) {
    // Expecting a value at `at`.
    const byte = bytes[at];
    if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (depth >= maxDepth) return NOT_SURE;
      const isObject = byte === OPEN_BRACE;
      inObject[depth++] = isObject ? 1 : 0;
      at = skipWhitespace(bytes, at + 1);
      if (bytes[at] === (isObject ? CLOSE_BRACE : CLOSE_BRACKET)) {
        depth--;
        at++;
      } else if (isObject) {
        at = scanKey(bytes, at);
        if (at === NOT_SURE) return NOT_SURE;
        continue;
      } else continue;
    } else {
      at = scanScalar(bytes, at);
      if (at === NOT_SURE) return NOT_SURE;
    }
    // A value just ended: close containers or move to the next member.
    for (;;) {
      if (depth === 0) return at;
      at = skipWhitespace(bytes, at);
      const next = bytes[at];
      const isObject = inObject[depth - 1] === 1;
      if (next === COMMA) {
        at = skipWhitespace(bytes, at + 1);
        if (isObject) {
          at = scanKey(bytes, at);
          if (at === NOT_SURE) return NOT_SURE;
        }
        break;
      }
      if (next === (isObject ? CLOSE_BRACE : CLOSE_BRACKET)) {
        depth--;
        at++;
        continue;
      }
      return NOT_SURE;
    }
  }
}

/** Scans `"key"` and the colon after it; returns the index where the member's value starts, or NOT_SURE. */
function scanKey(bytes: Uint8Array, index: number): number {
  if (bytes[index] !== QUOTE) return NOT_SURE;
  const end = scanString(bytes, index);
  if (end === NOT_SURE || isSuspectKey(bytes, index, end)) return NOT_SURE;
  const colon = skipWhitespace(bytes, end);
  if (bytes[colon] !== COLON) return NOT_SURE;
  return skipWhitespace(bytes, colon + 1);
}
