// Applies the engine's RFC 6902 patch to a parsed YAML document in place (the `yaml` package's
// Document API), so everything the patch does not touch keeps its comments, key order, quoting,
// flow style and anchors, and a `git diff` of the hardened manifest shows only the additions.
import { isAlias, isCollection, isMap, isSeq, type Document, type Node } from 'yaml';
import { diffArrays } from 'diff';
import type { Operation } from '../engine/model.js';

function pointerTokens(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * The collection at `path`, with any alias on the way replaced by a copy of what it points at:
 * editing through an alias would change every other place that uses the anchor.
 */
function collectionAt(doc: Document, path: readonly (string | number)[]): Node | undefined {
  let node: unknown = doc.contents;
  for (const key of path) {
    if (!isCollection(node)) return undefined;
    let child = node.get(key, true) as unknown;
    if (isAlias(child)) {
      const target = child.resolve(doc);
      if (!isCollection(target)) return undefined;
      const copy = target.clone();
      copy.anchor = undefined;
      node.set(key, copy);
      child = copy;
    }
    node = child;
  }
  return isCollection(node) ? node : undefined;
}

function keyFor(parent: Node, token: string): string | number | undefined {
  if (isMap(parent)) return token;
  if (isSeq(parent)) {
    if (token === '-') return parent.items.length;
    return /^(0|[1-9]\d*)$/.test(token) ? Number(token) : undefined;
  }
  return undefined;
}

function applyOne(doc: Document, operation: Operation, prefix: readonly (string | number)[]): boolean {
  const tokens = pointerTokens(operation.path);
  const last = tokens.pop();
  if (last === undefined) return false;
  const parentPath: (string | number)[] = [...prefix];
  for (const token of tokens) {
    const parent = collectionAt(doc, parentPath);
    const key = parent === undefined ? undefined : keyFor(parent, token);
    if (key === undefined) return false;
    parentPath.push(key);
  }
  const parent = collectionAt(doc, parentPath);
  if (parent === undefined) return false;
  const key = keyFor(parent, last);
  if (key === undefined) return false;
  if (operation.op === 'remove') {
    return isMap(parent) || isSeq(parent) ? parent.delete(key) : false;
  }
  if (operation.op !== 'add' && operation.op !== 'replace') return false;
  const value = doc.createNode(operation.value);
  if (isSeq(parent) && operation.op === 'add') {
    parent.items.splice(key as number, 0, value);
    return true;
  }
  if (isMap(parent) || isSeq(parent)) {
    parent.set(key, value);
    return true;
  }
  return false;
}

/**
 * A copy of `doc` with `operations` applied under `prefix` (["items", 2] for a List item), or
 * null when a path is not there to edit. The caller checks the result against what the engine
 * produced: a merge key (`<<`) can supply a field that no node path reaches.
 */
export function editedInPlace(doc: Document, operations: readonly Operation[], prefix: readonly (string | number)[]): Document | null {
  const copy = doc.clone();
  for (const operation of operations) {
    if (!applyOne(copy, operation, prefix)) return null;
  }
  return copy;
}

export interface LayoutOptions {
  readonly indent: number;
  readonly indentSeq: boolean;
  /** `{ a: 1 }` rather than `{a: 1}`. */
  readonly flowCollectionPadding: boolean;
}

/**
 * The indentation the text was written with, so untouched lines come out as they went in: the
 * step of the first nested key, and whether a list under a key is indented (`key:\n  - a`) or
 * not (`key:\n- a`, as kubectl writes it).
 */
export function layoutOf(text: string): LayoutOptions {
  const lines = text.split('\n');
  let indent = 2;
  let indentSeq = true;
  let sawIndent = false;
  let sawSeq = false;
  for (let i = 0; i + 1 < lines.length && !(sawIndent && sawSeq); i++) {
    const key = /^(\s*)(?:- )?[^\s#-][^:#]*:\s*(#.*)?$/.exec(lines[i] ?? '');
    if (key === null) continue;
    const own = (key[1] ?? '').length + (lines[i]!.trimStart().startsWith('- ') ? 2 : 0);
    const next = /^(\s*)(- )?\S/.exec(lines[i + 1] ?? '');
    if (next === null) continue;
    const step = (next[1] ?? '').length - own;
    if (next[2] !== undefined && !sawSeq) {
      indentSeq = step > 0;
      sawSeq = true;
    } else if (next[2] === undefined && step > 0 && !sawIndent) {
      indent = step;
      sawIndent = true;
    }
  }
  const padded = (text.match(/[{[] /g) ?? []).length;
  const tight = (text.match(/[{[][^\s\]}]/g) ?? []).length;
  return { indent, indentSeq, flowCollectionPadding: padded >= tight };
}

/**
 * A line as the library's re-rendering leaves it alike: its indentation, then its text without
 * spacing and quotes (the library pads flow collections and comments its own way).
 */
function skeleton(line: string): string {
  const indentation = /^ */.exec(line)?.[0].length ?? 0;
  return `${indentation}:${line.replace(/[\s"']/g, '')}`;
}

/**
 * `original` with the lines changed between `normalizedBefore` and `normalizedAfter` (the
 * library's rendering of the document before and after the edit) replaced; null when the
 * rendering does not line up with the original one line for one line, so lines cannot be matched.
 */
export function spliceChangedLines(original: string, normalizedBefore: string, normalizedAfter: string): string | null {
  const originalLines = original.split('\n');
  const beforeLines = normalizedBefore.split('\n');
  if (originalLines.length !== beforeLines.length) return null;
  for (let i = 0; i < originalLines.length; i++) if (skeleton(originalLines[i]!) !== skeleton(beforeLines[i]!)) return null;
  const afterLines = normalizedAfter.split('\n');
  const out: string[] = [];
  let index = 0;
  for (const change of diffArrays(beforeLines, afterLines)) {
    const count = change.count ?? change.value.length;
    if (change.added) out.push(...change.value);
    else if (change.removed) index += count;
    else {
      out.push(...originalLines.slice(index, index + count));
      index += count;
    }
  }
  return out.join('\n');
}
