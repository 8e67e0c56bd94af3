// Suggests the field a user probably meant when they misspelled one ("runAsNonroot" → "runAsNonRoot").

/** Levenshtein distance, case-insensitive: a wrong case is the most common typo in camelCase keys. */
function editDistance(a: string, b: string): number {
  const left = a.toLowerCase();
  const right = b.toLowerCase();
  let previous = Array.from({ length: right.length + 1 }, (_, i) => i);
  for (let i = 1; i <= left.length; i++) {
    const current = [i];
    for (let j = 1; j <= right.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (left[i - 1] === right[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[right.length] ?? 0;
}

/** The known name closest to `unknown`, or null when none is close enough to be a plausible typo. */
export function closestName(unknown: string, known: readonly string[]): string | null {
  if (unknown.length > 100) return null;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(unknown, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const tolerance = Math.max(2, Math.floor(unknown.length / 3));
  if (bestDistance <= tolerance) return best;
  // A word grown or cut short is a typo too: "warning" for "warn", "enf" for "enforce".
  const lower = unknown.toLowerCase();
  if (lower.length < 3) return null;
  return known.find((candidate) => lower.startsWith(candidate.toLowerCase()) || candidate.toLowerCase().startsWith(lower)) ?? null;
}
