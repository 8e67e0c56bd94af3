// The API server records a CREATE's field manager before mutating admission runs (handlers/create.go
// calls FieldManager.UpdateNoErrors, then Admit), so a Pod a webhook receives already carries
// managedFields describing every field its creator set. Building the FieldsV1 set from the object
// itself keeps the fixture's size honest as containers are added.

/** List fields whose items Kubernetes merges by key (patchMergeKey / listMapKeys), and the keys. */
const LIST_MAP_KEYS: Readonly<Record<string, readonly string[]>> = {
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  env: ['name'],
  ports: ['containerPort', 'protocol'],
  volumeMounts: ['mountPath'],
  volumes: ['name'],
  ownerReferences: ['uid'],
  imagePullSecrets: ['name'],
};

type FieldSet = { [key: string]: FieldSet };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fieldSetOf(value: Record<string, unknown>, withSelf: boolean): FieldSet {
  const set: FieldSet = withSelf ? { '.': {} } : {};
  for (const [key, child] of Object.entries(value)) {
    set[`f:${key}`] = childSet(key, child);
  }
  return set;
}

function childSet(key: string, value: unknown): FieldSet {
  const mergeKeys = LIST_MAP_KEYS[key];
  if (Array.isArray(value) && mergeKeys !== undefined) {
    const set: FieldSet = { '.': {} };
    for (const item of value) {
      if (!isPlainObject(item)) continue;
      const keyObject = Object.fromEntries(mergeKeys.filter((k) => item[k] !== undefined).map((k) => [k, item[k]]));
      const itemSet = fieldSetOf(item, true);
      // Owner references are recorded as a bare key: the controller never updates their insides.
      set[`k:${JSON.stringify(keyObject)}`] = key === 'ownerReferences' ? {} : itemSet;
    }
    return set;
  }
  // Atomic lists (args, command, tolerations) and scalars are owned as a whole.
  if (!isPlainObject(value) || Object.keys(value).length === 0) return {};
  return fieldSetOf(value, true);
}

export interface ManagedFieldsEntry {
  readonly manager: string;
  readonly operation: 'Update';
  readonly apiVersion: string;
  readonly time: string;
  readonly fieldsType: 'FieldsV1';
  readonly fieldsV1: FieldSet;
}

/** The entry the API server writes for `manager` creating `object` (its metadata and spec). */
export function managedFieldsForCreate(
  manager: string,
  time: string,
  metadata: Record<string, unknown>,
  spec: Record<string, unknown>,
): ManagedFieldsEntry {
  const ownedMetadata = Object.fromEntries(
    Object.entries(metadata).filter(([key]) => ['generateName', 'labels', 'annotations', 'ownerReferences'].includes(key)),
  );
  return {
    manager,
    operation: 'Update',
    apiVersion: 'v1',
    time,
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:metadata': fieldSetOf(ownedMetadata, false), 'f:spec': fieldSetOf(spec, false) },
  };
}
