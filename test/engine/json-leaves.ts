// Walks JSON documents by RFC 6901 pointer, to check that hardening kept every value a Pod set.
type Json = Record<string, unknown>;

function escapeToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** [pointer, value] of every non-null leaf (empty arrays and objects count as leaves). */
export function leaves(value: unknown, pointer = ''): [string, unknown][] {
  if (value === null) return [];
  if (typeof value !== 'object') return [[pointer, value]];
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Json);
  if (entries.length === 0) return [[pointer, value]];
  return entries.flatMap(([key, child]) => leaves(child, `${pointer}/${escapeToken(key)}`));
}

export function valueAt(value: unknown, pointer: string): unknown {
  let current = value;
  for (const token of pointer.split('/').slice(1)) {
    const key = token.replace(/~1/g, '/').replace(/~0/g, '~');
    current = typeof current === 'object' && current !== null ? (current as Json)[key] : undefined;
  }
  return current;
}

/** Pointers whose value differs in `after` (a set value changed, or a set list/map became something else). */
export function changedLeaves(before: unknown, after: unknown, ignore: (pointer: string) => boolean = () => false): string[] {
  return leaves(before)
    .filter(([pointer]) => !ignore(pointer))
    .filter(([pointer, value]) => (typeof value === 'object' ? typeof valueAt(after, pointer) !== 'object' : valueAt(after, pointer) !== value))
    .map(([pointer]) => pointer);
}
