// The one test every layer uses before it reads a field of untrusted input (an AdmissionReview, a
// Pod, a policy document, a manifest): JSON.parse and the YAML parser both hand back plain objects
// for maps, and a YAML `!!binary` value comes back as a Uint8Array, which is not a map.

export type JsonObject = Record<string, unknown>;

/** A JSON object: not null, not a list, not binary data. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** `value` when it is a JSON object, else undefined (for `?.` chains over optional fields). */
export function asJsonObject(value: unknown): JsonObject | undefined {
  return isJsonObject(value) ? value : undefined;
}
