// An independent oracle for the never-break rules (policies/README.md, "What a Pod gets"), written
// without reusing engine code: what hardening must never take from a container that asked for it.
type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const LISTS = ['initContainers', 'containers', 'ephemeralContainers'];
const IDENTITY = ['runAsUser', 'runAsGroup', 'runAsNonRoot'];

function securityContext(value: unknown): Json {
  return isObject(value) && isObject(value['securityContext']) ? value['securityContext'] : {};
}

function dropped(sc: Json): string[] {
  const caps = sc['capabilities'];
  return isObject(caps) && Array.isArray(caps['drop']) ? caps['drop'].map(String) : [];
}

function addsCapabilities(sc: Json): boolean {
  const caps = sc['capabilities'];
  const added = isObject(caps) && Array.isArray(caps['add']) ? caps['add'] : [];
  return added.some((cap) => cap !== 'NET_BIND_SERVICE' && cap !== 'CAP_NET_BIND_SERVICE');
}

function usesNode(spec: Json, container: Json): boolean {
  if (spec['hostNetwork'] === true || spec['hostPID'] === true || spec['hostIPC'] === true) return true;
  const hostVolumes = (Array.isArray(spec['volumes']) ? spec['volumes'] : []).filter((v) => isObject(v) && isObject(v['hostPath'])).map((v) => (v as Json)['name']);
  const mounts = Array.isArray(container['volumeMounts']) ? container['volumeMounts'] : [];
  return mounts.some((m) => isObject(m) && hostVolumes.includes(m['name']));
}

/**
 * Every promise broken between two Pod specs (before and after hardening), judged on what the Pod
 * asked for: `asked`, which is `before` itself on a first call. On a reinvocation `before` also
 * holds what the webhook's earlier call added, and `asked` is the Pod without it (what its author
 * and the other webhooks wrote), with the containers in the same places.
 * - a privileged container keeps its effective runAsUser, runAsGroup and runAsNonRoot;
 * - a container that runs as root by its own settings (its own or the Pod's runAsUser: 0), or is
 *   privileged, has no capability dropped that it did not drop itself;
 * - a container that runs as root by its own settings and did not ask for runAsNonRoot: true is
 *   not given it (the kubelet would refuse to start it);
 * - a container that uses the node (host namespaces, a hostPath mount) keeps its effective
 *   identity, and its capabilities unless it is set to run as non-root;
 * - a container that adds a capability other than NET_BIND_SERVICE and sets no user (no
 *   runAsUser of its own or of the Pod, no runAsNonRoot: true) keeps its effective identity and
 *   its capabilities;
 * - every other container keeps each identity value that reached it in `before` (hardening moves
 *   values, it never takes one away), runAsNonRoot aside for one that runs as root.
 */
export function brokenPromises(before: unknown, after: unknown, asked: unknown = before): string[] {
  if (!isObject(before) || !isObject(after) || !isObject(asked)) return [];
  const problems: string[] = [];
  const podAsked = securityContext(asked);
  const podBefore = securityContext(before);
  const podAfter = securityContext(after);
  for (const list of LISTS) {
    const wanted = Array.isArray(asked[list]) ? (asked[list] as unknown[]) : [];
    const was = Array.isArray(before[list]) ? (before[list] as unknown[]) : [];
    const now = Array.isArray(after[list]) ? (after[list] as unknown[]) : [];
    wanted.forEach((container, index) => {
      if (!isObject(container) || (container['securityContext'] !== undefined && container['securityContext'] !== null && !isObject(container['securityContext']))) return;
      const scAsked = securityContext(container);
      const scBefore = securityContext(was[index]);
      const scAfter = securityContext(now[index]);
      const name = `${list}[${index}]`;
      const effective = (field: string, sc: Json, pod: Json): unknown => sc[field] ?? pod[field];
      const privileged = scAsked['privileged'] === true;
      const root = effective('runAsUser', scAsked, podAsked) === 0;
      const node = usesNode(asked, container);
      const knownNonRoot = (effective('runAsUser', scAsked, podAsked) ?? 0) !== 0 || effective('runAsNonRoot', scAsked, podAsked) === true;
      // A user of its own (0 included) is the root rule's or no rule's business: only an image's user is kept.
      const adds = addsCapabilities(scAsked) && effective('runAsUser', scAsked, podAsked) === undefined && effective('runAsNonRoot', scAsked, podAsked) !== true;
      const why = privileged ? 'privileged' : node ? 'uses the node' : 'adds capabilities';
      if (privileged || node || adds) {
        for (const field of IDENTITY) {
          const from = effective(field, scAsked, podAsked);
          const to = effective(field, scAfter, podAfter);
          if (from !== to) problems.push(`${name} (${why}): effective ${field} changed from ${String(from)} to ${String(to)}`);
        }
      } else {
        for (const field of IDENTITY) {
          if (field === 'runAsNonRoot' && root) continue;
          const from = effective(field, scBefore, podBefore);
          const to = effective(field, scAfter, podAfter);
          if (from !== undefined && from !== null && from !== to) problems.push(`${name}: effective ${field} ${String(from)} taken away (now ${String(to)})`);
        }
      }
      if (root && effective('runAsNonRoot', scAsked, podAsked) !== true && effective('runAsNonRoot', scAfter, podAfter) === true) {
        problems.push(`${name} (root): given runAsNonRoot: true, which the kubelet refuses for a container that runs as UID 0`);
      }
      if (privileged || root || (node && !knownNonRoot) || adds) {
        const added = dropped(scAfter).filter((cap) => !dropped(scAsked).includes(cap));
        if (added.length > 0) problems.push(`${name} (${privileged ? 'privileged' : root ? 'root' : why}): capabilities ${added.join(', ')} dropped`);
      }
    });
  }
  return problems;
}
