// A read-only, never-throwing view of a Pod or Pod template as decoded JSON/YAML. Checks read
// the Pod through this view only, so no check ever has to guard against `spec.containers`
// being a string or a container being `null`: a field of the wrong type reads as absent,
// just as the API server would refuse to decode it rather than act on it.
import { asJsonObject, type JsonObject } from '../../foundation/json-object.js';

export function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function asBoolean(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

export function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export type ContainerKind = 'initContainers' | 'containers' | 'ephemeralContainers';

export interface ContainerView {
  /** The container's name, or a stand-in such as `containers[2]` when it has none. */
  readonly name: string;
  /** Path of the container in the Pod, e.g. `spec.initContainers[0]`. */
  readonly path: string;
  readonly raw: JsonObject;
  /** `securityContext` when it is an object. */
  readonly securityContext: JsonObject | undefined;
}

export interface PodView {
  readonly annotations: Readonly<Record<string, string>>;
  readonly spec: JsonObject;
  /** `spec.securityContext` when it is an object. */
  readonly securityContext: JsonObject | undefined;
  /** Init containers, then containers, then ephemeral containers: the order PSA visits them in. */
  readonly containers: readonly ContainerView[];
  /** `spec.os.name` is `windows`: the Linux-only restricted checks do not apply. */
  readonly isWindows: boolean;
  /** `spec.hostUsers` is false: the Pod runs in its own user namespace. */
  readonly inUserNamespace: boolean;
}

const CONTAINER_KINDS: readonly ContainerKind[] = ['initContainers', 'containers', 'ephemeralContainers'];

/** Reads `{ metadata?, spec }`; undefined when there is no spec object to check. */
export function readPodView(podLike: unknown): PodView | undefined {
  const pod = asJsonObject(podLike);
  const spec = asJsonObject(pod?.['spec']);
  if (pod === undefined || spec === undefined) {
    return undefined;
  }
  const annotations: Record<string, string> = {};
  const rawAnnotations = asJsonObject(asJsonObject(pod['metadata'])?.['annotations']) ?? {};
  for (const [key, value] of Object.entries(rawAnnotations)) {
    if (typeof value === 'string') {
      annotations[key] = value;
    }
  }
  const containers: ContainerView[] = [];
  for (const kind of CONTAINER_KINDS) {
    asArray(spec[kind]).forEach((entry, index) => {
      const raw = asJsonObject(entry);
      if (raw === undefined) {
        return;
      }
      containers.push({
        name: asString(raw['name']) ?? `${kind}[${index}]`,
        path: `spec.${kind}[${index}]`,
        raw,
        securityContext: asJsonObject(raw['securityContext']),
      });
    });
  }
  return {
    annotations,
    spec,
    securityContext: asJsonObject(spec['securityContext']),
    containers,
    isWindows: asString(asJsonObject(spec['os'])?.['name']) === 'windows',
    inUserNamespace: asBoolean(spec['hostUsers']) === false,
  };
}

/** `"a", "b"` — how PSA quotes lists of names and values (no escaping, exactly as PSA does). */
export function joinQuote(items: readonly string[]): string {
  return items.map((item) => `"${item}"`).join(', ');
}

export function pluralize(singular: string, plural: string, count: number): string {
  return count === 1 ? singular : plural;
}

/** `container "a"` / `containers "a", "b"`. */
export function describeContainers(names: readonly string[]): string {
  return `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;
}

/** Sorted, de-duplicated copy (PSA reports value sets sorted). */
export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/** A value as text for a message, whatever it is (String() throws on some objects). */
export function displayValue(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value === null || value === undefined) {
    return String(value);
  }
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}
