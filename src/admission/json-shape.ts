// JSON.parse survives any nesting, but everything after it (structuredClone, JSON.stringify,
// the engine's walks) recurses, so hostile depth is refused before anything else touches the body.
// "__proto__" is refused too: no Kubernetes field or label/annotation key can be named that, and
// an own "__proto__" property turns into a prototype swap as soon as code copies it with Object.assign.

export const MAX_JSON_DEPTH = 100;

/**
 * Whether `value` is safe, without building anything: this runs on every admission request, and
 * a typical Pod has about a thousand JSON nodes. Recursion is bounded by `maxDepth`.
 */
function isSafeJsonShape(value: unknown, depth: number, maxDepth: number): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (depth >= maxDepth) return false;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) if (!isSafeJsonShape(value[index], depth + 1, maxDepth)) return false;
    return true;
  }
  // JSON.parse makes plain objects with no enumerable inherited keys, so for-in sees own keys only
  // and allocates no key array.
  for (const key in value) {
    if (key === '__proto__') return false;
    if (!isSafeJsonShape((value as Record<string, unknown>)[key], depth + 1, maxDepth)) return false;
  }
  return true;
}

/** A description of why `value` is unsafe to process, with the path of the offending part; null when it is fine. */
export function findHostileJsonShape(value: unknown, maxDepth: number = MAX_JSON_DEPTH): string | null {
  if (isSafeJsonShape(value, 0, maxDepth)) return null;
  return describeHostileJsonShape(value, maxDepth);
}

/** The walk that names the path; run only once the fast check has found something (exported for tests). */
export function describeHostileJsonShape(value: unknown, maxDepth: number): string | null {
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value, depth: 0, path: '' }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item.value === null || typeof item.value !== 'object') continue;
    if (item.depth >= maxDepth) {
      return `${item.path || '(root)'}: JSON is nested deeper than ${maxDepth} levels`;
    }
    if (Array.isArray(item.value)) {
      item.value.forEach((child, index) => stack.push({ value: child, depth: item.depth + 1, path: `${item.path}[${index}]` }));
      continue;
    }
    for (const key of Object.keys(item.value)) {
      const path = item.path ? `${item.path}.${key}` : key;
      if (key === '__proto__') return `${path}: the key "__proto__" is not allowed`;
      stack.push({ value: (item.value as Record<string, unknown>)[key], depth: item.depth + 1, path });
    }
  }
  return null;
}
