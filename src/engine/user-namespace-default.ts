// spec.defaults.hostUsers: false — run Pods in their own user namespace, where UID 0 in the
// container is an unprivileged UID on the node. Injected only where the Pod can run that way:
// the API server refuses hostUsers: false beside hostNetwork, hostPID, hostIPC and volumeDevices
// (pkg/apis/core/validation validateHostUsers), and what asks for the node itself (a privileged
// container, an added capability, a hostPath volume) would get only the Pod's own namespace's
// worth of it. Nor where the Pod would run as an ID the user namespace does not map: the kubelet
// maps 65536 IDs per Pod (KubeletConfiguration userNamespaces.idsPerPod, default 65536), so a UID
// range above 65535 cannot apply inside it. Such Pods keep the node's user namespace, and a
// warning says why.
import { withMembers } from './object-copy.js';
import { isJsonObject, type JsonObject } from '../foundation/json-object.js';


/** Names listed in a warning before "and N more": a Pod may have thousands of containers. */
const NAMES_SHOWN = 3;

/** The highest UID/GID inside a Pod's user namespace with the kubelet's default 65536 IDs per Pod. */
export const HIGHEST_USER_NAMESPACE_ID = 65535;

/** The first UID/GID the hardened Pod would run with that its user namespace cannot map, and where. */
function unmappableId(hardened: JsonObject): string | null {
  const tooHigh = (value: unknown): value is number => typeof value === 'number' && value > HIGHEST_USER_NAMESPACE_ID;
  const podContext = isJsonObject(hardened['securityContext']) ? hardened['securityContext'] : {};
  for (const field of ['runAsUser', 'runAsGroup', 'fsGroup'] as const) {
    if (tooHigh(podContext[field])) return `${podContext[field]} (spec.securityContext.${field})`;
  }
  const groups = podContext['supplementalGroups'];
  if (Array.isArray(groups)) {
    const index = groups.findIndex(tooHigh);
    if (index !== -1) return `${groups[index]} (spec.securityContext.supplementalGroups[${index}])`;
  }
  for (const list of ['initContainers', 'containers'] as const) {
    const containers = hardened[list];
    if (!Array.isArray(containers)) continue;
    for (let index = 0; index < containers.length; index++) {
      const container: unknown = containers[index];
      const context = isJsonObject(container) && isJsonObject(container['securityContext']) ? container['securityContext'] : {};
      for (const field of ['runAsUser', 'runAsGroup'] as const) {
        if (tooHigh(context[field])) return `${context[field]} (spec.${list}[${index}].securityContext.${field})`;
      }
    }
  }
  return null;
}

function listed(kind: string, names: readonly string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).map((name) => `"${name}"`);
  const rest = names.length - shown.length;
  return `${kind} ${shown.join(', ')}${rest > 0 ? ` and ${rest} more` : ''}`;
}

function nameOf(entry: JsonObject, fallback: string): string {
  return typeof entry['name'] === 'string' ? entry['name'] : fallback;
}

/**
 * Why `spec` cannot run in a user namespace, in a sentence each; empty when it can. Linear in the
 * containers and volumes, and each reason names at most NAMES_SHOWN of them.
 */
export function userNamespaceBlockers(spec: JsonObject): string[] {
  const reasons: string[] = [];
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (spec[field] === true) reasons.push(`it sets ${field}: true (the API server refuses it with hostUsers: false)`);
  }
  const privileged: string[] = [];
  const addsCapabilities: string[] = [];
  const usesDevices: string[] = [];
  for (const list of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    const containers = spec[list];
    if (!Array.isArray(containers)) continue;
    containers.forEach((container: unknown, index) => {
      if (!isJsonObject(container)) return;
      const name = nameOf(container, `${list}[${index}]`);
      const securityContext = isJsonObject(container['securityContext']) ? container['securityContext'] : {};
      if (securityContext['privileged'] === true) privileged.push(name);
      const capabilities = isJsonObject(securityContext['capabilities']) ? securityContext['capabilities'] : {};
      if (Array.isArray(capabilities['add']) && capabilities['add'].some((capability) => capability !== 'NET_BIND_SERVICE')) addsCapabilities.push(name);
      if (Array.isArray(container['volumeDevices']) && container['volumeDevices'].length > 0) usesDevices.push(name);
    });
  }
  if (privileged.length > 0) reasons.push(`${listed(privileged.length === 1 ? 'container' : 'containers', privileged)} privileged (privilege would reach only the Pod's own user namespace)`);
  if (addsCapabilities.length > 0) {
    reasons.push(`${listed(addsCapabilities.length === 1 ? 'container' : 'containers', addsCapabilities)} add capabilities (they would act only inside the Pod's user namespace)`);
  }
  if (usesDevices.length > 0) reasons.push(`${listed(usesDevices.length === 1 ? 'container' : 'containers', usesDevices)} use volumeDevices (the API server refuses them with hostUsers: false)`);
  const hostPaths: string[] = [];
  const volumes = spec['volumes'];
  if (Array.isArray(volumes)) {
    volumes.forEach((volume: unknown, index) => {
      if (isJsonObject(volume) && volume['hostPath'] !== undefined && volume['hostPath'] !== null) hostPaths.push(nameOf(volume, `volumes[${index}]`));
    });
  }
  if (hostPaths.length > 0) reasons.push(`${listed(hostPaths.length === 1 ? 'hostPath volume' : 'hostPath volumes', hostPaths)} (files on the node belong to the node's users)`);
  return reasons;
}

export interface UserNamespaceDecision {
  /** The spec with hostUsers: false added, or the input itself. */
  readonly spec: JsonObject;
  readonly injected: boolean;
  readonly warning: string | null;
}

/** Adds hostUsers: false to a Pod spec that leaves hostUsers unset and can run in a user namespace. */
export function applyUserNamespaceDefault(original: JsonObject, hardened: JsonObject, specPath: string): UserNamespaceDecision {
  if (original['hostUsers'] !== undefined && original['hostUsers'] !== null) return { spec: hardened, injected: false, warning: null };
  const blockers = userNamespaceBlockers(original);
  const unmappable = unmappableId(hardened);
  if (unmappable !== null) {
    blockers.push(
      `it would run as ID ${unmappable}, above ${HIGHEST_USER_NAMESPACE_ID}, the highest ID inside a Pod's user namespace (give the namespace a UID/GID range within 1-${HIGHEST_USER_NAMESPACE_ID})`,
    );
  }
  if (blockers.length > 0) {
    return {
      spec: hardened,
      injected: false,
      warning: `${specPath}.hostUsers: false not added, the Pod keeps the node's user namespace, because ${blockers.join('; ')}`,
    };
  }
  return { spec: withMembers(hardened, { hostUsers: false }), injected: true, warning: null };
}
