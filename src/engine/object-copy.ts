import { type JsonObject } from '../foundation/json-object.js';
// Copies of a Pod's JSON objects with members added or replaced: the engine never modifies the
// object it was given.
//
// Written with Object.assign, not `{ ...object, key: value }`. On V8 11.3 a spread of a
// JSON.parse'd object followed by a new member gives each copy a hidden class of its own, which V8
// keeps until its next mark-compact (bench/README.md, "The last mark-compacts"). Object.assign
// builds the copy along the hidden classes every copy shares.

/** A shallow copy of `object` with `members` set on it (added, or replacing what was there). */
export function withMembers(object: JsonObject, members: JsonObject): JsonObject {
  // Object.assign sets members with [[Set]], under which "__proto__" would swap the copy's
  // prototype; a spread defines it as a plain member. The webhook refuses such keys before the
  // engine runs, but the CLI hardens whatever YAML it is given.
  if (Object.hasOwn(object, '__proto__') || Object.hasOwn(members, '__proto__')) return { ...object, ...members };
  return Object.assign({}, object, members);
}

/** A shallow copy of `object` without `keys`. */
export function withoutMembers(object: JsonObject, keys: Iterable<string>): JsonObject {
  const copy = withMembers(object, {});
  for (const key of keys) delete copy[key];
  return copy;
}
