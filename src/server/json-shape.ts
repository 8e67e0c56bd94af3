// JSON.parse survives any nesting, but everything after it (structuredClone, JSON.stringify,
// the engine's walks) recurses, so hostile depth is refused before anything else touches the body.
// "__proto__" is refused too: no Kubernetes field or label/annotation key can be named that, and
// an own "__proto__" property turns into a prototype swap as soon as code copies it with Object.assign.

export const MAX_JSON_DEPTH = 100;

/** A description of why `value` is unsafe to process, with the path of the offending part; null when it is fine. */
export function findHostileJsonShape(value: unknown, maxDepth: number = MAX_JSON_DEPTH): string | null {
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
