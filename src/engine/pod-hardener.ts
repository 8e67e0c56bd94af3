// Fills in what a Pod spec leaves unset, copy-on-write: the input is never modified, and every
// object on the way to a change is shallow-copied while untouched subtrees are shared. That keeps
// hardening cheap and lets the patch be derived by comparing references (see additions-patch.ts).
import type { IdDefaults, LeftOutDefault, LeftOutReason, PodDefaults, SeccompDefault } from './model.js';
import { CONTAINER_LISTS, containersOf, type ContainerList, type ContainerRef } from './pod-containers.js';
import { earlierPodIdentity, type PodIdentityField } from './earlier-injections.js';
import { withMembers, withoutMembers } from './object-copy.js';
import { applyUserNamespaceDefault } from './user-namespace-default.js';
import { WarningList, type ReasonedWarnings } from './warning-reasons.js';
import { isJsonObject, type JsonObject } from '../foundation/json-object.js';


const POD_SECCOMP_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const CONTAINER_SECCOMP_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';
const SYS_ADMIN = new Set(['SYS_ADMIN', 'CAP_SYS_ADMIN']);
const MAX_NAMES_IN_WARNING = 5;

/** One field the hardener added. */
export interface Injection {
  readonly scope: 'pod' | 'container';
  /** e.g. "runAsUser", "capabilities.drop" */
  readonly field: string;
  /** e.g. "spec.containers[0].securityContext.allowPrivilegeEscalation" */
  readonly path: string;
  /** What was set there; for capabilities.drop, the names added to the list. */
  readonly value: unknown;
}

export interface SpecHardening {
  /** The hardened spec: the input object itself when nothing was added. */
  readonly spec: JsonObject;
  readonly injections: readonly Injection[];
  readonly warnings: ReasonedWarnings;
  /** Defaults left out of containers that asked for privilege, root or the node (also in warnings). */
  readonly leftOut: readonly LeftOutDefault[];
  /**
   * Pod-level fields an earlier call of the webhook added that this one removed, having set them on
   * the containers instead (reinvocation after another webhook changed the Pod); usually empty.
   */
  readonly movedFromPod: readonly PodIdentityField[];
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

function seccompValue(profile: SeccompDefault): JsonObject {
  return profile.type === 'Localhost' ? { type: 'Localhost', localhostProfile: profile.localhostProfile } : { type: 'RuntimeDefault' };
}

function capabilityList(capabilities: unknown, key: 'add' | 'drop'): unknown[] {
  const list = isJsonObject(capabilities) ? capabilities[key] : undefined;
  return Array.isArray(list) ? list : [];
}

/**
 * What a container asked for that the defaults must not take away (never-break rules, see
 * policies/README.md): null where nothing is kept.
 */
interface ContainerStance {
  /** No runAsUser/runAsGroup/runAsNonRoot may reach it, from its own securityContext or the Pod's. */
  readonly keepsIdentity: LeftOutReason | null;
  /** No capabilities.drop is added. */
  readonly keepsCapabilities: LeftOutReason | null;
}

const HARDEN_ALL: ContainerStance = { keepsIdentity: null, keepsCapabilities: null };

interface ContainerEntry extends ContainerRef {
  /** The container's securityContext when it is an object or unset ({}); null when it is garbage. */
  readonly securityContext: JsonObject | null;
  readonly stance: ContainerStance;
}

/** What of the node a Pod spec uses: its host namespaces, and the names of its hostPath volumes. */
interface NodeUse {
  /** hostNetwork, hostPID or hostIPC is true. */
  readonly hostNamespaces: boolean;
  readonly hostPathVolumes: ReadonlySet<string>;
}

const HOST_NAMESPACES = ['hostNetwork', 'hostPID', 'hostIPC'] as const;

function nodeUseOf(spec: JsonObject): NodeUse {
  const hostNamespaces = HOST_NAMESPACES.some((field) => spec[field] === true);
  const hostPathVolumes = new Set<string>();
  const volumes = spec['volumes'];
  if (Array.isArray(volumes)) {
    for (const volume of volumes) {
      if (isJsonObject(volume) && isJsonObject(volume['hostPath']) && typeof volume['name'] === 'string') hostPathVolumes.add(volume['name']);
    }
  }
  return { hostNamespaces, hostPathVolumes };
}

function mountsHostPath(container: JsonObject, hostPathVolumes: ReadonlySet<string>): boolean {
  if (hostPathVolumes.size === 0) return false;
  const mounts = container['volumeMounts'];
  return Array.isArray(mounts) && mounts.some((mount) => isJsonObject(mount) && typeof mount['name'] === 'string' && hostPathVolumes.has(mount['name']));
}

/**
 * The one capability the restricted profile lets a container add; a container that adds only it is
 * built to run as non-root (port 80 with file capabilities) and is hardened like any other.
 */
const RESTRICTED_ADDABLE = 'NET_BIND_SERVICE';

/** capabilities.add names something beyond NET_BIND_SERVICE (any entry, even one the API server would refuse). */
function addsPowerfulCapability(sc: JsonObject): boolean {
  return capabilityList(sc['capabilities'], 'add').some((capability) => capability !== RESTRICTED_ADDABLE && capability !== `CAP_${RESTRICTED_ADDABLE}`);
}

/**
 * The never-break rules for one container, judged on what the Pod asked for (never on what is
 * injected): privileged keeps everything; root by its own settings keeps its capabilities; a
 * container that uses the node keeps its image's user, and its capabilities unless it is known to
 * run as non-root; one that adds capabilities without a user of its own keeps its image's user
 * and its capabilities, since under an injected non-root UID they would not be effective.
 */
function stanceOf(sc: JsonObject, container: JsonObject, psc: JsonObject, nodeUse: NodeUse, defaults: PodDefaults): ContainerStance {
  if (defaults.keepRequestedPrivileges === false) return HARDEN_ALL;
  if (sc['privileged'] === true) return { keepsIdentity: 'privileged', keepsCapabilities: 'privileged' };
  const ownUser = typeof sc['runAsUser'] === 'number' ? sc['runAsUser'] : typeof psc['runAsUser'] === 'number' ? psc['runAsUser'] : undefined;
  const node = nodeUse.hostNamespaces || mountsHostPath(container, nodeUse.hostPathVolumes);
  const nonRoot = (ownUser !== undefined && ownUser !== 0) || (sc['runAsNonRoot'] ?? psc['runAsNonRoot']) === true;
  if (ownUser === 0) return { keepsIdentity: node ? 'usesNode' : null, keepsCapabilities: 'runsAsRoot' };
  if (node) return { keepsIdentity: 'usesNode', keepsCapabilities: nonRoot ? null : 'usesNode' };
  if (!nonRoot && addsPowerfulCapability(sc)) return { keepsIdentity: 'addsCapabilities', keepsCapabilities: 'addsCapabilities' };
  return HARDEN_ALL;
}

/**
 * Every container object of the listed kinds; garbage is reported once and skipped. Stances are
 * judged against `psc`, the Pod's securityContext as the Pod asked for it.
 */
function collectContainers(spec: JsonObject, lists: readonly ContainerList[], specPath: string, defaults: PodDefaults, warnings: WarningList, psc: JsonObject): ContainerEntry[] {
  const refs = containersOf(spec, lists, (problem) => warnings.add('unreadable-pod-field', `${specPath}.${problem}`));
  const entries: ContainerEntry[] = new Array(refs.length);
  const nodeUse = nodeUseOf(spec);
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i]!;
    const raw = ref.container['securityContext'];
    const securityContext = isUnset(raw) ? {} : isJsonObject(raw) ? raw : null;
    if (securityContext === null) warnings.add('unreadable-pod-field', `${specPath}.${ref.label}.securityContext is not an object; that container was not hardened`);
    const stance = securityContext === null ? HARDEN_ALL : stanceOf(securityContext, ref.container, psc, nodeUse, defaults);
    // Spelled out rather than spread: a spread of the ref builds the object key by key on every Pod.
    entries[i] = { list: ref.list, index: ref.index, label: ref.label, name: ref.name, container: ref.container, securityContext, stance };
  }
  return entries;
}

type IdentityField = PodIdentityField;

const LEFT_OUT_BECAUSE: Record<LeftOutReason, (many: boolean) => string> = {
  privileged: (many) => `${many ? 'are' : 'is'} privileged and keep${many ? '' : 's'} the user, group and capabilities ${many ? 'they ask' : 'it asks'} for`,
  runsAsRoot: (many) => `run${many ? '' : 's'} as root (runAsUser: 0 of ${many ? 'their' : 'its'} own or of the Pod) and keep${many ? '' : 's'} ${many ? 'their' : 'its'} capabilities`,
  usesNode: (many) => `use${many ? '' : 's'} the node (hostNetwork, hostPID, hostIPC or a hostPath volume) and keep${many ? '' : 's'} the user ${many ? 'their images run' : 'its image runs'} as`,
  addsCapabilities: (many) =>
    `add${many ? '' : 's'} capabilities without a user of ${many ? 'their' : 'its'} own and keep${many ? '' : 's'} the user ${many ? 'their images run' : 'its image runs'} as (under another, non-root user added capabilities are not effective) and ${many ? 'their' : 'its'} capabilities`,
};

/** What containers did not get, gathered so that the warnings about it can be grouped. */
interface HardeningNotes {
  readonly leftOut: LeftOutDefault[];
  /** Quoted names of containers that got no allowPrivilegeEscalation: false, by the API server's reason. */
  readonly escalationClashes: { readonly privileged: string[]; readonly sysAdmin: string[] };
}

function newNotes(): HardeningNotes {
  return { leftOut: [], escalationClashes: { privileged: [], sysAdmin: [] } };
}

/**
 * One warning per reason and set of fields, naming the containers (at most a few, then a count):
 * bounded however many containers a Pod has.
 */
function addGroupedWarnings(warnings: WarningList, notes: HardeningNotes, specPath: string): void {
  for (const [names, reason, why] of [
    [notes.escalationClashes.privileged, 'privileged-container', (many: boolean) => `${many ? 'they are' : 'it is'} privileged`],
    [notes.escalationClashes.sysAdmin, 'sys-admin-capability', (many: boolean) => `${many ? 'they add' : 'it adds'} SYS_ADMIN`],
  ] as const) {
    if (names.length === 0) continue;
    const many = names.length > 1;
    warnings.add(
      reason,
      `${specPath}: allowPrivilegeEscalation: false not added to ${many ? 'containers' : 'container'} ${listNames(names)} because ${why(many)} (the API server refuses that combination)`,
    );
  }
  warnings.addEach('kept-requested-privileges', leftOutWarnings(notes.leftOut, specPath));
}

function leftOutWarnings(leftOut: readonly LeftOutDefault[], specPath: string): string[] {
  const groups = new Map<string, { reason: LeftOutReason; fields: readonly string[]; names: string[] }>();
  for (const entry of leftOut) {
    const key = `${entry.reason} ${entry.fields.join(',')}`;
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { reason: entry.reason, fields: entry.fields, names: [] }));
    group.names.push(`"${entry.container}"`);
  }
  return [...groups.values()].map(({ reason, fields, names }) => {
    const many = names.length > 1;
    return `${specPath}: ${many ? 'containers' : 'container'} ${listNames(names)} ${LEFT_OUT_BECAUSE[reason](many)}: ${fields.join(', ')} not added (spec.defaults.keepRequestedPrivileges)`;
  });
}

interface ContainerPlan {
  /** Set runAsNonRoot per container: the pod-level default clashed with some container. */
  readonly perContainerRunAsNonRoot: boolean;
  /** Set runAsUser/runAsGroup per container: at pod level they would reach a container that keeps its identity. */
  readonly perContainerIds: ReadonlySet<'runAsUser' | 'runAsGroup'>;
  /** The Pod's UID after hardening (explicit or injected), when known. */
  readonly podRunAsUser: unknown;
  /** For `kubectl debug` containers: container-level identity and seccomp where the Pod has none. */
  readonly containerLevelIdentity: boolean;
  readonly podSecurityContext: JsonObject;
}

/** The hardened copy of one container, or the same object when nothing is missing. */
function hardenContainer(
  entry: ContainerEntry,
  settings: HardeningSettings,
  plan: ContainerPlan,
  injections: Injection[],
  warnings: WarningList,
  notes: HardeningNotes,
): JsonObject {
  const sc = entry.securityContext;
  if (sc === null) return entry.container;
  const { defaults, ids } = settings;
  const { keepsIdentity, keepsCapabilities } = entry.stance;
  const where = `${settings.specPath}.${entry.label}`;
  const adds: JsonObject = {};
  let added = false;
  const add = (field: string, value: unknown): void => {
    adds[field] = value;
    added = true;
    injections.push({ scope: 'container', field, path: `${where}.securityContext.${field}`, value });
  };
  const kept: string[] = [];
  let keptCapabilities = false;

  if (defaults.allowPrivilegeEscalation !== null && isUnset(sc['allowPrivilegeEscalation'])) {
    const addsSysAdmin = capabilityList(sc['capabilities'], 'add').some((cap) => typeof cap === 'string' && SYS_ADMIN.has(cap));
    if (!defaults.allowPrivilegeEscalation && sc['privileged'] === true) {
      notes.escalationClashes.privileged.push(`"${entry.name}"`);
    } else if (!defaults.allowPrivilegeEscalation && addsSysAdmin) {
      notes.escalationClashes.sysAdmin.push(`"${entry.name}"`);
    } else {
      add('allowPrivilegeEscalation', defaults.allowPrivilegeEscalation);
    }
  }

  if (defaults.dropCapabilities.length > 0 && keepsCapabilities !== null) {
    const existing = capabilityList(sc['capabilities'], 'drop');
    keptCapabilities = defaults.dropCapabilities.some((cap) => !existing.includes(cap));
  } else if (defaults.dropCapabilities.length > 0) {
    const capabilities = sc['capabilities'];
    const drop = isJsonObject(capabilities) ? capabilities['drop'] : undefined;
    if (!isUnset(capabilities) && !isJsonObject(capabilities)) {
      warnings.add('unreadable-pod-field', `${where}.securityContext.capabilities is not an object; capabilities were not dropped`);
    } else if (!isUnset(drop) && !Array.isArray(drop)) {
      warnings.add('unreadable-pod-field', `${where}.securityContext.capabilities.drop is not a list; capabilities were not dropped`);
    } else {
      const existing = Array.isArray(drop) ? drop : [];
      const missing = defaults.dropCapabilities.filter((cap) => !existing.includes(cap));
      if (missing.length > 0) {
        adds['capabilities'] = withMembers(isJsonObject(capabilities) ? capabilities : {}, { drop: [...existing, ...missing] });
        added = true;
        injections.push({ scope: 'container', field: 'capabilities.drop', path: `${where}.securityContext.capabilities.drop`, value: missing });
      }
    }
  }

  if (defaults.readOnlyRootFilesystem && isUnset(sc['readOnlyRootFilesystem'])) add('readOnlyRootFilesystem', true);

  const psc = plan.podSecurityContext;
  const identity = (field: IdentityField, value: unknown): void => {
    if (keepsIdentity === null) add(field, value);
    else kept.push(field);
  };
  for (const [field, range] of [['runAsUser', ids?.uidRange], ['runAsGroup', ids?.gidRange]] as const) {
    const wanted = plan.containerLevelIdentity ? isUnset(psc[field]) : plan.perContainerIds.has(field);
    if (range !== undefined && wanted && isUnset(sc[field])) identity(field, range.min);
  }
  const effectiveUser = adds['runAsUser'] ?? sc['runAsUser'] ?? plan.podRunAsUser;
  const wantsNonRoot = plan.perContainerRunAsNonRoot || (plan.containerLevelIdentity && defaults.runAsNonRoot && isUnset(psc['runAsNonRoot']));
  if (wantsNonRoot && isUnset(sc['runAsNonRoot']) && effectiveUser !== 0) identity('runAsNonRoot', true);
  if (keptCapabilities) kept.push('capabilities.drop');
  const reason = keepsIdentity ?? keepsCapabilities;
  if (kept.length > 0 && reason !== null) notes.leftOut.push({ container: entry.name, path: where, fields: kept, reason });

  if (plan.containerLevelIdentity && defaults.seccompProfile !== null && isUnset(psc['seccompProfile']) && isUnset(sc['seccompProfile'])) {
    const annotation = `${CONTAINER_SECCOMP_ANNOTATION_PREFIX}${entry.name}`;
    if (settings.annotations[annotation] !== undefined) {
      warnings.add('legacy-seccomp-annotation', `${where}: seccompProfile not added because the legacy annotation ${annotation} is set (the API server refuses a mismatch)`);
    } else {
      add('seccompProfile', seccompValue(defaults.seccompProfile));
    }
  }

  if (!added) return entry.container;
  return withMembers(entry.container, { securityContext: withMembers(sc, adds) });
}

/** Replaces the hardened containers in copies of their lists; untouched lists stay shared. */
function assembleSpec(spec: JsonObject, podSecurityContextAdds: JsonObject | null, replaced: Map<ContainerList, Map<number, JsonObject>>): JsonObject {
  if (podSecurityContextAdds === null && replaced.size === 0) return spec;
  const members: JsonObject = {};
  if (podSecurityContextAdds !== null) {
    const current = spec['securityContext'];
    members['securityContext'] = withMembers(isJsonObject(current) ? current : {}, podSecurityContextAdds);
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
  warnings: WarningList,
  notes: HardeningNotes,
): Map<ContainerList, Map<number, JsonObject>> {
  const replaced = new Map<ContainerList, Map<number, JsonObject>>();
  for (const entry of entries) {
    const hardened = hardenContainer(entry, settings, plan, injections, warnings, notes);
    if (hardened === entry.container) continue;
    let changes = replaced.get(entry.list);
    if (changes === undefined) replaced.set(entry.list, (changes = new Map()));
    changes.set(entry.index, hardened);
  }
  return replaced;
}

/** Number-neutral: several containers are named in one group. */
const MUST_NOT_INHERIT_BECAUSE: Record<LeftOutReason, string> = {
  privileged: 'privileged',
  usesNode: 'using the node',
  addsCapabilities: 'adding capabilities without a user of its own',
  runsAsRoot: 'running as UID 0',
};

/**
 * Why a container must not inherit a Pod-level `field` that it leaves unset (the never-break rules:
 * it keeps its image's user, or runs as root and would be refused by runAsNonRoot: true), or null.
 */
function mustNotInherit(entry: ContainerEntry, field: IdentityField, podRunAsUser: unknown): LeftOutReason | null {
  const sc = entry.securityContext;
  if (sc === null || !isUnset(sc[field])) return null;
  if (entry.stance.keepsIdentity !== null) return entry.stance.keepsIdentity;
  return field === 'runAsNonRoot' && (sc['runAsUser'] ?? podRunAsUser) === 0 ? 'runsAsRoot' : null;
}

interface PodLevelMove {
  readonly fields: readonly PodIdentityField[];
  /** Each container that must not inherit one of `fields`, with the first reason found. */
  readonly blockers: readonly { readonly name: string; readonly reason: LeftOutReason }[];
}

const NO_MOVE: PodLevelMove = { fields: [], blockers: [] };

/**
 * Which of the Pod-level fields an earlier call of ours added (`ours`) now reach a container that
 * must not inherit them: a later webhook added or changed a container after that call. None when
 * some container's securityContext is unreadable: it could not be given the values instead.
 */
function planMove(ours: ReadonlySet<PodIdentityField>, entries: readonly ContainerEntry[], podRunAsUser: unknown): PodLevelMove {
  if (ours.size === 0 || entries.some((entry) => entry.securityContext === null)) return NO_MOVE;
  const fields: PodIdentityField[] = [];
  const blockers = new Map<ContainerEntry, LeftOutReason>();
  for (const field of ours) {
    let reaches = false;
    for (const entry of entries) {
      const reason = mustNotInherit(entry, field, podRunAsUser);
      if (reason === null) continue;
      reaches = true;
      if (!blockers.has(entry)) blockers.set(entry, reason);
    }
    if (reaches) fields.push(field);
  }
  return fields.length === 0 ? NO_MOVE : { fields, blockers: [...blockers].map(([entry, reason]) => ({ name: entry.name, reason })) };
}

function moveWarning(move: PodLevelMove, specPath: string): string {
  const byReason = new Map<LeftOutReason, string[]>();
  for (const { name, reason } of move.blockers) {
    let names = byReason.get(reason);
    if (names === undefined) byReason.set(reason, (names = []));
    names.push(`"${name}"`);
  }
  const reached = [...byReason].map(([reason, names]) => `${names.length > 1 ? 'containers' : 'container'} ${listNames(names)} (${MUST_NOT_INHERIT_BECAUSE[reason]})`);
  const many = move.fields.length > 1;
  return (
    `${specPath}.securityContext: ${move.fields.join(', ')}, added by an earlier call of this webhook, moved from the Pod to each container that does not set ${many ? 'them' : 'it'}, ` +
    `so that ${many ? 'they do' : 'it does'} not reach ${reached.join(' or ')}: the Pod changed after it was hardened (another webhook added or changed a container)`
  );
}

/** Pod-level and container-level defaults for a new Pod (or a Pod template). */
export function hardenPodSpec(spec: JsonObject, settings: HardeningSettings): SpecHardening {
  const { defaults, ids, specPath } = settings;
  const injections: Injection[] = [];
  const warnings = new WarningList();
  const notes = newNotes();
  const rawPsc = spec['securityContext'];
  const podScUsable = isUnset(rawPsc) || isJsonObject(rawPsc);
  const receivedPsc: JsonObject = isJsonObject(rawPsc) ? rawPsc : {};
  // On reinvocation, what an earlier call of ours put at Pod level is not what the Pod asked for:
  // containers are judged without it (a sidecar added since that adds capabilities has no user of its own).
  const ours = earlierPodIdentity(receivedPsc, settings.annotations, ids, defaults);
  const entries = collectContainers(spec, CONTAINER_LISTS, specPath, defaults, warnings, ours.size === 0 ? receivedPsc : withoutMembers(receivedPsc, ours));
  // A pod-level value reaches every container that does not set the field itself.
  const reachesKeeper = (field: IdentityField): boolean =>
    entries.some((entry) => entry.stance.keepsIdentity !== null && isUnset(entry.securityContext?.[field]));
  // Our own values that now reach a container that must not inherit them leave the Pod level; the
  // rules below then set them per container, as for a Pod that had that container from the start.
  const move = planMove(ours, entries, receivedPsc['runAsUser']);
  const psc = move.fields.length === 0 ? receivedPsc : withoutMembers(receivedPsc, move.fields);
  const base = move.fields.length === 0 ? spec : withMembers(spec, { securityContext: psc });
  if (move.fields.length > 0) warnings.add('reinvocation-moved-to-containers', moveWarning(move, specPath));
  if (!podScUsable) warnings.add('unreadable-pod-field', `${specPath}.securityContext is not an object; no pod-level defaults were added`);
  const podAdds: JsonObject = {};
  const add = (field: string, value: unknown): void => {
    podAdds[field] = value;
    injections.push({ scope: 'pod', field, path: `${specPath}.securityContext.${field}`, value });
  };

  let perContainerRunAsNonRoot = false;
  const perContainerIds = new Set<'runAsUser' | 'runAsGroup'>();
  if (podScUsable) {
    if (ids !== null) {
      for (const [field, value] of [['runAsUser', ids.uidRange.min], ['runAsGroup', ids.gidRange.min]] as const) {
        if (!isUnset(psc[field])) continue;
        if (reachesKeeper(field)) perContainerIds.add(field);
        else add(field, value);
      }
      if (isUnset(psc['fsGroup'])) {
        add('fsGroup', ids.fsGroup);
        if (defaults.fsGroupChangePolicy !== null && isUnset(psc['fsGroupChangePolicy'])) add('fsGroupChangePolicy', defaults.fsGroupChangePolicy);
      }
    }
    if (defaults.runAsNonRoot && isUnset(psc['runAsNonRoot'])) {
      const clashes: string[] = [];
      if (psc['runAsUser'] === 0) clashes.push('the Pod runs as UID 0 (securityContext.runAsUser: 0)');
      const rootContainers = entries.filter((e) => e.securityContext?.['runAsUser'] === 0).map((e) => `"${e.name}"`);
      const optedOut = entries.filter((e) => e.securityContext?.['runAsNonRoot'] === false).map((e) => `"${e.name}"`);
      if (rootContainers.length > 0) clashes.push(`${listNames(rootContainers)} run${rootContainers.length === 1 ? 's' : ''} as UID 0`);
      if (optedOut.length > 0) clashes.push(`${listNames(optedOut)} set${optedOut.length === 1 ? 's' : ''} runAsNonRoot: false`);
      if (clashes.length === 0 && reachesKeeper('runAsNonRoot')) perContainerRunAsNonRoot = true;
      else if (clashes.length === 0) add('runAsNonRoot', true);
      else {
        perContainerRunAsNonRoot = true;
        // Taken off the Pod level again: the warning about the move says why.
        if (!move.fields.includes('runAsNonRoot')) warnings.add(
          'container-runs-as-root',
          `${specPath}.securityContext.runAsNonRoot: true not added because ${clashes.join(' and ')}; it was set on the other containers instead`,
        );
      }
    }
    if (defaults.seccompProfile !== null && isUnset(psc['seccompProfile'])) {
      if (settings.annotations[POD_SECCOMP_ANNOTATION] !== undefined) {
        warnings.add(
          'legacy-seccomp-annotation',
          `${specPath}.securityContext.seccompProfile not added because the legacy annotation ${POD_SECCOMP_ANNOTATION} is set (the API server refuses a mismatch); replace the annotation with securityContext.seccompProfile`,
        );
      } else {
        add('seccompProfile', seccompValue(defaults.seccompProfile));
      }
    }
  }

  const moved = [...perContainerIds, ...(perContainerRunAsNonRoot && reachesKeeper('runAsNonRoot') ? (['runAsNonRoot'] as const) : [])].filter(
    (field) => !move.fields.includes(field),
  );
  if (moved.length > 0 && entries.some((entry) => entry.securityContext !== null && entry.stance.keepsIdentity === null)) {
    warnings.add('moved-to-containers', `${specPath}.securityContext: ${moved.join(', ')} set on each container instead of the Pod, so that they do not reach the containers that keep their own`);
  }
  const plan: ContainerPlan = {
    perContainerRunAsNonRoot,
    perContainerIds,
    podRunAsUser: podAdds['runAsUser'] ?? psc['runAsUser'],
    containerLevelIdentity: false,
    podSecurityContext: psc,
  };
  const replaced = hardenContainers(entries, settings, plan, injections, warnings, notes);
  let hardened = assembleSpec(base, Object.keys(podAdds).length > 0 ? podAdds : null, replaced);
  if (defaults.hostUsers === false) {
    const userNamespace = applyUserNamespaceDefault(spec, hardened, specPath);
    hardened = userNamespace.spec;
    if (userNamespace.injected) injections.push({ scope: 'pod', field: 'hostUsers', path: `${specPath}.hostUsers`, value: false });
    if (userNamespace.warning !== null) warnings.add('user-namespace-not-added', userNamespace.warning);
  }
  addGroupedWarnings(warnings, notes, specPath);
  return { spec: hardened, injections, warnings, leftOut: notes.leftOut, movedFromPod: move.fields };
}

/**
 * For `kubectl debug`: only ephemeral containers not in `existingNames` (the API server refuses
 * changes to ones already added), each given container-level identity and seccomp where the Pod
 * has none, so that it passes "restricted" on its own.
 */
export function hardenNewEphemeralContainers(spec: JsonObject, settings: HardeningSettings, existingNames: ReadonlySet<string>): SpecHardening {
  const injections: Injection[] = [];
  const warnings = new WarningList();
  const notes = newNotes();
  const rawPsc = spec['securityContext'];
  const psc: JsonObject = isJsonObject(rawPsc) ? rawPsc : {};
  const entries = collectContainers(spec, ['ephemeralContainers'], settings.specPath, settings.defaults, warnings, psc).filter(
    (entry) => !existingNames.has(entry.name),
  );
  const plan: ContainerPlan = {
    perContainerRunAsNonRoot: false,
    perContainerIds: new Set(),
    podRunAsUser: psc['runAsUser'],
    containerLevelIdentity: true,
    podSecurityContext: psc,
  };
  const replaced = hardenContainers(entries, settings, plan, injections, warnings, notes);
  addGroupedWarnings(warnings, notes, settings.specPath);
  return { spec: assembleSpec(spec, null, replaced), injections, warnings, leftOut: notes.leftOut, movedFromPod: [] };
}
