import { isJsonObject, type JsonObject } from '../foundation/json-object.js';
// The containers of a Pod spec, across its three lists, read defensively: the API server has not
// validated the object yet when a webhook sees it.

export const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;
export type ContainerList = (typeof CONTAINER_LISTS)[number];

export interface ContainerRef {
  readonly list: ContainerList;
  readonly index: number;
  /**
   * For paths: "containers[2]", the field path the API server and Pod Security Admission use
   * (the same one `check` reports), so that one container has one path in every message.
   */
  readonly label: string;
  /** Its name for messages (`container "app"`), or its path "containers[2]" when it has none. */
  readonly name: string;
  readonly container: JsonObject;
}

/** Every container object in `lists`; a list or entry of the wrong type is described to `onGarbage` and skipped. */
export function containersOf(spec: JsonObject, lists: readonly ContainerList[], onGarbage: (problem: string) => void = () => {}): ContainerRef[] {
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
      if (!isJsonObject(container)) {
        onGarbage(`${list}[${index}] is not an object; it was not hardened`);
        continue;
      }
      const label = `${list}[${index}]`;
      const name = typeof container['name'] === 'string' && container['name'] !== '' ? container['name'] : label;
      refs.push({ list, index, label, name, container });
    }
  }
  return refs;
}
