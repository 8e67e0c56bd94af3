// The containers of a Pod spec, across its three lists, read defensively: the API server has not
// validated the object yet when a webhook sees it.
import { isPlainMap, type PlainMap } from './policy-reader.js';

export const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;
export type ContainerList = (typeof CONTAINER_LISTS)[number];

export interface ContainerRef {
  readonly list: ContainerList;
  readonly index: number;
  /** For paths and messages: "containers[app]", or "containers[2]" when it has no name. */
  readonly label: string;
  /** Its name, or "#2" when it has none. */
  readonly name: string;
  readonly container: PlainMap;
}

/** Every container object in `lists`; a list or entry of the wrong type is described to `onGarbage` and skipped. */
export function containersOf(spec: PlainMap, lists: readonly ContainerList[], onGarbage: (problem: string) => void = () => {}): ContainerRef[] {
  const refs: ContainerRef[] = [];
  for (const list of lists) {
    const containers = spec[list];
    if (containers === undefined || containers === null) continue;
    if (!Array.isArray(containers)) {
      onGarbage(`${list} is not a list; its containers were not hardened`);
      continue;
    }
    for (let index = 0; index < containers.length; index++) {
      const container: unknown = containers[index];
      if (!isPlainMap(container)) {
        onGarbage(`${list}[${index}] is not an object; it was not hardened`);
        continue;
      }
      const named = typeof container['name'] === 'string' && container['name'] !== '';
      const name = named ? (container['name'] as string) : `#${index}`;
      refs.push({ list, index, label: named ? `${list}[${name}]` : `${list}[${index}]`, name, container });
    }
  }
  return refs;
}
