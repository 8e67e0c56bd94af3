// Fills in what a Pod spec leaves unset, copy-on-write: the input is never modified, and every
// object on the way to a change is shallow-copied while untouched subtrees are shared. That keeps
// hardening cheap and lets the patch be derived by comparing references (see additions-patch.ts).
import type { IdDefaults, PodDefaults, SeccompDefault } from './model.js';
import { CONTAINER_LISTS, containersOf, type ContainerList, type ContainerRef } from './pod-containers.js';
import { withMembers } from './object-copy.js';
import { isPlainMap, type PlainMap } from './policy-reader.js';

const POD_SECCOMP_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const CONTAINER_SECCOMP_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';
const SYS_ADMIN = new Set(['SYS_ADMIN', 'CAP_SYS_ADMIN']);
const MAX_NAMES_IN_WARNING = 5;

/** One field the hardener added. */
export interface Injection {
  readonly scope: 'pod' | 'container';
  /** e.g. "runAsUser", "capabilities.drop" */
  readonly field: string;
  /** e.g. "spec.containers[app].securityContext.allowPrivilegeEscalation" */
  readonly path: string;
  /** What was set there; for capabilities.drop, the names added to the list. */
  readonly value: unknown;
}

export interface SpecHardening {
  /** The hardened spec: the input object itself when nothing was added. */
  readonly spec: PlainMap;
  readonly injections: readonly Injection[];
  readonly warnings: readonly string[];
}

export interface HardeningSettings {
  readonly defaults: PodDefaults;
  readonly ids: IdDefaults | null;
  /** The Pod's (or template's) metadata.annotations, for the legacy seccomp annotations. */
  readonly annotations: Readonly<Record<string, unknown>>;
  /** Where the spec sits, for paths and messages: "spec" or "spec.template.spec". */
  readonly specPath: string;
}

export function isUnset(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

export function listNames(names: readonly string[]): string {
  const shown = names.slice(0, MAX_NAMES_IN_WARNING).join(', ');
  return names.length > MAX_NAMES_IN_WARNING ? `${shown} and ${names.length - MAX_NAMES_IN_WARNING} more` : shown;
}

function seccompValue(profile: SeccompDefault): PlainMap {
  return profile.type === 'Localhost' ? { type: 'Localhost', localhostProfile: profile.localhostProfile } : { type: 'RuntimeDefault' };
}

function capabilityList(capabilities: unknown, key: 'add' | 'drop'): unknown[] {
  const list = isPlainMap(capabilities) ? capabilities[key] : undefined;
  return Array.isArray(list) ? list : [];
}

interface ContainerEntry extends ContainerRef {
  /** The container's securityContext when it is an object or unset ({}); null when it is garbage. */
  readonly securityContext: PlainMap | null;
}

/** Every container object of the listed kinds; garbage is reported once and skipped. */
function collectContainers(spec: PlainMap, lists: readonly ContainerList[], specPath: string, warnings: string[]): ContainerEntry[] {
  const refs = containersOf(spec, lists, (problem) => warnings.push(`${specPath}.${problem}`));
  const entries: ContainerEntry[] = new Array(refs.length);
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i]!;
    const raw = ref.container['securityContext'];
    const securityContext = isUnset(raw) ? {} : isPlainMap(raw) ? raw : null;
    if (securityContext === null) warnings.push(`${specPath}.${ref.label}.securityContext is not an object; that container was not hardened`);
    // Spelled out rather than spread: a spread of the ref builds the object key by key on every Pod.
    entries[i] = { list: ref.list, index: ref.index, label: ref.label, name: ref.name, container: ref.container, securityContext };
  }
  return entries;
}

interface ContainerPlan {
  /** Set runAsNonRoot per container: the pod-level default clashed with some container. */
  readonly perContainerRunAsNonRoot: boolean;
  /** The Pod's UID after hardening (explicit or injected), when known. */
  readonly podRunAsUser: unknown;
  /** For `kubectl debug` containers: container-level identity and seccomp where the Pod has none. */
  readonly containerLevelIdentity: boolean;
  readonly podSecurityContext: PlainMap;
}

/** The hardened copy of one container, or the same object when nothing is missing. */
function hardenContainer(entry: ContainerEntry, settings: HardeningSettings, plan: ContainerPlan, injections: Injection[], warnings: string[]): PlainMap {
  const sc = entry.securityContext;
  if (sc === null) return entry.container;
  const { defaults, ids } = settings;
  const where = `${settings.specPath}.${entry.label}`;
  const adds: PlainMap = {};
  let added = false;
  const add = (field: string, value: unknown): void => {
    adds[field] = value;
    added = true;
    injections.push({ scope: 'container', field, path: `${where}.securityContext.${field}`, value });
  };

  if (defaults.allowPrivilegeEscalation !== null && isUnset(sc['allowPrivilegeEscalation'])) {
    const addsSysAdmin = capabilityList(sc['capabilities'], 'add').some((cap) => typeof cap === 'string' && SYS_ADMIN.has(cap));
    if (!defaults.allowPrivilegeEscalation && sc['privileged'] === true) {
      warnings.push(`${where}: allowPrivilegeEscalation: false not added because the container is privileged (the API server refuses that combination)`);
    } else if (!defaults.allowPrivilegeEscalation && addsSysAdmin) {
      warnings.push(`${where}: allowPrivilegeEscalation: false not added because the container adds SYS_ADMIN (the API server refuses that combination)`);
    } else {
      add('allowPrivilegeEscalation', defaults.allowPrivilegeEscalation);
    }
  }

  if (defaults.dropCapabilities.length > 0) {
    const capabilities = sc['capabilities'];
    const drop = isPlainMap(capabilities) ? capabilities['drop'] : undefined;
    if (!isUnset(capabilities) && !isPlainMap(capabilities)) {
      warnings.push(`${where}.securityContext.capabilities is not an object; capabilities were not dropped`);
    } else if (!isUnset(drop) && !Array.isArray(drop)) {
      warnings.push(`${where}.securityContext.capabilities.drop is not a list; capabilities were not dropped`);
    } else {
      const existing = Array.isArray(drop) ? drop : [];
      const missing = defaults.dropCapabilities.filter((cap) => !existing.includes(cap));
      if (missing.length > 0) {
        adds['capabilities'] = withMembers(isPlainMap(capabilities) ? capabilities : {}, { drop: [...existing, ...missing] });
        added = true;
        injections.push({ scope: 'container', field: 'capabilities.drop', path: `${where}.securityContext.capabilities.drop`, value: missing });
      }
    }
  }

  if (defaults.readOnlyRootFilesystem && isUnset(sc['readOnlyRootFilesystem'])) add('readOnlyRootFilesystem', true);

  const psc = plan.podSecurityContext;
  if (plan.containerLevelIdentity) {
    if (ids !== null && isUnset(psc['runAsUser']) && isUnset(sc['runAsUser'])) add('runAsUser', ids.uidRange.min);
    if (ids !== null && isUnset(psc['runAsGroup']) && isUnset(sc['runAsGroup'])) add('runAsGroup', ids.gidRange.min);
  }
  const effectiveUser = adds['runAsUser'] ?? sc['runAsUser'] ?? plan.podRunAsUser;
  const wantsNonRoot = plan.perContainerRunAsNonRoot || (plan.containerLevelIdentity && defaults.runAsNonRoot && isUnset(psc['runAsNonRoot']));
  if (wantsNonRoot && isUnset(sc['runAsNonRoot']) && effectiveUser !== 0) add('runAsNonRoot', true);

  if (plan.containerLevelIdentity && defaults.seccompProfile !== null && isUnset(psc['seccompProfile']) && isUnset(sc['seccompProfile'])) {
    const annotation = `${CONTAINER_SECCOMP_ANNOTATION_PREFIX}${entry.name}`;
    if (settings.annotations[annotation] !== undefined) {
      warnings.push(`${where}: seccompProfile not added because the legacy annotation ${annotation} is set (the API server refuses a mismatch)`);
    } else {
      add('seccompProfile', seccompValue(defaults.seccompProfile));
    }
  }

  if (!added) return entry.container;
  return withMembers(entry.container, { securityContext: withMembers(sc, adds) });
}

/** Replaces the hardened containers in copies of their lists; untouched lists stay shared. */
function assembleSpec(spec: PlainMap, podSecurityContextAdds: PlainMap | null, replaced: Map<ContainerList, Map<number, PlainMap>>): PlainMap {
  if (podSecurityContextAdds === null && replaced.size === 0) return spec;
  const members: PlainMap = {};
  if (podSecurityContextAdds !== null) {
    const current = spec['securityContext'];
    members['securityContext'] = withMembers(isPlainMap(current) ? current : {}, podSecurityContextAdds);
  }
  for (const [list, changes] of replaced) {
    const copy = [...(spec[list] as unknown[])];
    for (const [index, container] of changes) copy[index] = container;
    members[list] = copy;
  }
  return withMembers(spec, members);
}

function hardenContainers(
  entries: readonly ContainerEntry[],
  settings: HardeningSettings,
  plan: ContainerPlan,
  injections: Injection[],
  warnings: string[],
): Map<ContainerList, Map<number, PlainMap>> {
  const replaced = new Map<ContainerList, Map<number, PlainMap>>();
  for (const entry of entries) {
    const hardened = hardenContainer(entry, settings, plan, injections, warnings);
    if (hardened === entry.container) continue;
    let changes = replaced.get(entry.list);
    if (changes === undefined) replaced.set(entry.list, (changes = new Map()));
    changes.set(entry.index, hardened);
  }
  return replaced;
}

/** Pod-level and container-level defaults for a new Pod (or a Pod template). */
export function hardenPodSpec(spec: PlainMap, settings: HardeningSettings): SpecHardening {
  const { defaults, ids, specPath } = settings;
  const injections: Injection[] = [];
  const warnings: string[] = [];
  const entries = collectContainers(spec, CONTAINER_LISTS, specPath, warnings);

  const rawPsc = spec['securityContext'];
  const podScUsable = isUnset(rawPsc) || isPlainMap(rawPsc);
  const psc: PlainMap = isPlainMap(rawPsc) ? rawPsc : {};
  if (!podScUsable) warnings.push(`${specPath}.securityContext is not an object; no pod-level defaults were added`);
  const podAdds: PlainMap = {};
  const add = (field: string, value: unknown): void => {
    podAdds[field] = value;
    injections.push({ scope: 'pod', field, path: `${specPath}.securityContext.${field}`, value });
  };

  let perContainerRunAsNonRoot = false;
  if (podScUsable) {
    if (ids !== null) {
      if (isUnset(psc['runAsUser'])) add('runAsUser', ids.uidRange.min);
      if (isUnset(psc['runAsGroup'])) add('runAsGroup', ids.gidRange.min);
      if (isUnset(psc['fsGroup'])) {
        add('fsGroup', ids.fsGroup);
        if (defaults.fsGroupChangePolicy !== null && isUnset(psc['fsGroupChangePolicy'])) add('fsGroupChangePolicy', defaults.fsGroupChangePolicy);
      }
    }
    if (defaults.runAsNonRoot && isUnset(psc['runAsNonRoot'])) {
      const clashes: string[] = [];
      if (psc['runAsUser'] === 0) clashes.push('the Pod runs as UID 0 (securityContext.runAsUser: 0)');
      const rootContainers = entries.filter((e) => e.securityContext?.['runAsUser'] === 0).map((e) => `"${e.label}"`);
      const optedOut = entries.filter((e) => e.securityContext?.['runAsNonRoot'] === false).map((e) => `"${e.label}"`);
      if (rootContainers.length > 0) clashes.push(`${listNames(rootContainers)} run${rootContainers.length === 1 ? 's' : ''} as UID 0`);
      if (optedOut.length > 0) clashes.push(`${listNames(optedOut)} set${optedOut.length === 1 ? 's' : ''} runAsNonRoot: false`);
      if (clashes.length === 0) add('runAsNonRoot', true);
      else {
        perContainerRunAsNonRoot = true;
        warnings.push(
          `${specPath}.securityContext.runAsNonRoot: true not added because ${clashes.join(' and ')}; it was set on the other containers instead`,
        );
      }
    }
    if (defaults.seccompProfile !== null && isUnset(psc['seccompProfile'])) {
      if (settings.annotations[POD_SECCOMP_ANNOTATION] !== undefined) {
        warnings.push(
          `${specPath}.securityContext.seccompProfile not added because the legacy annotation ${POD_SECCOMP_ANNOTATION} is set (the API server refuses a mismatch); replace the annotation with securityContext.seccompProfile`,
        );
      } else {
        add('seccompProfile', seccompValue(defaults.seccompProfile));
      }
    }
  }

  const plan: ContainerPlan = {
    perContainerRunAsNonRoot,
    podRunAsUser: podAdds['runAsUser'] ?? psc['runAsUser'],
    containerLevelIdentity: false,
    podSecurityContext: psc,
  };
  const replaced = hardenContainers(entries, settings, plan, injections, warnings);
  const hardened = assembleSpec(spec, Object.keys(podAdds).length > 0 ? podAdds : null, replaced);
  return { spec: hardened, injections, warnings };
}

/**
 * For `kubectl debug`: only ephemeral containers not in `existingNames` (the API server refuses
 * changes to ones already added), each given container-level identity and seccomp where the Pod
 * has none, so that it passes "restricted" on its own.
 */
export function hardenNewEphemeralContainers(spec: PlainMap, settings: HardeningSettings, existingNames: ReadonlySet<string>): SpecHardening {
  const injections: Injection[] = [];
  const warnings: string[] = [];
  const entries = collectContainers(spec, ['ephemeralContainers'], settings.specPath, warnings).filter((entry) => !existingNames.has(entry.name));
  const rawPsc = spec['securityContext'];
  const psc: PlainMap = isPlainMap(rawPsc) ? rawPsc : {};
  const plan: ContainerPlan = {
    perContainerRunAsNonRoot: false,
    podRunAsUser: psc['runAsUser'],
    containerLevelIdentity: true,
    podSecurityContext: psc,
  };
  const replaced = hardenContainers(entries, settings, plan, injections, warnings);
  return { spec: assembleSpec(spec, null, replaced), injections, warnings };
}
