// RFC 6902 operations that turn `before` into `after`, for copy-on-write results: subtrees that
// are the same reference are skipped without being walked, so the cost follows the size of the
// change, not of the Pod.
import type { Operation } from 'fast-json-patch';
import { isJsonObject } from '../foundation/json-object.js';


/** RFC 6901: "~" and "/" inside a key (as in "secure-defaults.io/injected") must be escaped. */
export function escapePointerToken(key: string): string {
  if (!key.includes('~') && !key.includes('/')) return key;
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function diffInto(before: unknown, after: unknown, pointer: string, operations: Operation[]): void {
  if (before === after) return;
  if (isJsonObject(before) && isJsonObject(after)) {
    // for-in over JSON objects (no prototype members) avoids allocating key arrays on this hot path.
    let shared = 0;
    for (const key in after) {
      const next = after[key];
      if (!Object.hasOwn(before, key)) {
        operations.push({ op: 'add', path: `${pointer}/${escapePointerToken(key)}`, value: next });
        continue;
      }
      shared++;
      // Compared here so that a pointer is only built for what changed: most members are shared.
      if (before[key] !== next) diffInto(before[key], next, `${pointer}/${escapePointerToken(key)}`, operations);
    }
    let beforeCount = 0;
    for (const key in before) if (Object.hasOwn(before, key)) beforeCount++;
    if (shared === beforeCount) return;
    for (const key in before) {
      if (Object.hasOwn(before, key) && !Object.hasOwn(after, key)) operations.push({ op: 'remove', path: `${pointer}/${escapePointerToken(key)}` });
    }
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const shared = Math.min(before.length, after.length);
    for (let index = 0; index < shared; index++) {
      if (before[index] !== after[index]) diffInto(before[index], after[index], `${pointer}/${index}`, operations);
    }
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

/**
 * diffCopyOnWrite restricted to what may differ along `keys`: every member on the way that is not
 * on the path is taken to be shared and is not looked at. For callers that know which members
 * their copy-on-write replaced (a Pod's spec has some twenty members, a container a dozen; walking
 * them all was most of the cost of a typical admission's patch).
 */
export function diffAlong(before: unknown, after: unknown, keys: readonly (string | number)[], operations: Operation[]): void {
  let from = before;
  let to = after;
  let pointer = '';
  for (const key of keys) {
    if (from === to) return;
    const bothMaps = isJsonObject(from) && isJsonObject(to);
    const bothLists = Array.isArray(from) && Array.isArray(to) && typeof key === 'number' && key < from.length && key < to.length;
    if (!bothMaps && !bothLists) break;
    const name = String(key);
    const fromMember = (from as Record<string, unknown>)[name];
    const toMember = (to as Record<string, unknown>)[name];
    if (bothMaps && !Object.hasOwn(from as object, name)) {
      if (Object.hasOwn(to as object, name)) operations.push({ op: 'add', path: `${pointer}/${escapePointerToken(name)}`, value: toMember });
      return;
    }
    if (bothMaps && !Object.hasOwn(to as object, name)) {
      operations.push({ op: 'remove', path: `${pointer}/${escapePointerToken(name)}` });
      return;
    }
    pointer = `${pointer}/${escapePointerToken(name)}`;
    from = fromMember;
    to = toMember;
  }
  diffInto(from, to, pointer, operations);
}
