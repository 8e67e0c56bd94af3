// RFC 6902 operations that turn `before` into `after`, for copy-on-write results: subtrees that
// are the same reference are skipped without being walked, so the cost follows the size of the
// change, not of the Pod.
import type { Operation } from 'fast-json-patch';
import { isPlainMap } from './policy-reader.js';

/** RFC 6901: "~" and "/" inside a key (as in "secure-defaults.io/injected") must be escaped. */
export function escapePointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function hasOwn(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

function diffInto(before: unknown, after: unknown, pointer: string, operations: Operation[]): void {
  if (before === after) return;
  if (isPlainMap(before) && isPlainMap(after)) {
    for (const key of Object.keys(after)) {
      const path = `${pointer}/${escapePointerToken(key)}`;
      if (!hasOwn(before, key)) operations.push({ op: 'add', path, value: after[key] });
      else diffInto(before[key], after[key], path, operations);
    }
    for (const key of Object.keys(before)) {
      if (!hasOwn(after, key)) operations.push({ op: 'remove', path: `${pointer}/${escapePointerToken(key)}` });
    }
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const shared = Math.min(before.length, after.length);
    for (let index = 0; index < shared; index++) diffInto(before[index], after[index], `${pointer}/${index}`, operations);
    for (let index = shared; index < after.length; index++) operations.push({ op: 'add', path: `${pointer}/${index}`, value: after[index] });
    for (let index = before.length - 1; index >= after.length; index--) operations.push({ op: 'remove', path: `${pointer}/${index}` });
    return;
  }
  // Changed scalars and type changes (e.g. `securityContext: null` becoming an object).
  operations.push({ op: 'replace', path: pointer, value: after });
}

/** The operations from `before` to `after` (the root itself is never replaced: both are objects). */
export function diffCopyOnWrite(before: unknown, after: unknown): Operation[] {
  const operations: Operation[] = [];
  diffInto(before, after, '', operations);
  return operations;
}
