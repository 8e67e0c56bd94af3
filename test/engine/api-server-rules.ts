// An independent oracle for the tests: the combinations of securityContext fields that the API
// server (pkg/apis/core/validation) or the kubelet refuse, written without reusing engine code.
type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'];

function containersOf(spec: Json): Json[] {
  return CONTAINER_LISTS.flatMap((list) => (Array.isArray(spec[list]) ? (spec[list] as unknown[]).filter(isObject) : []));
}

/** Human-readable descriptions of every refused combination in a Pod spec. */
export function refusedCombinations(spec: unknown, annotations: unknown = {}): string[] {
  if (!isObject(spec)) return [];
  const problems: string[] = [];
  const psc = isObject(spec['securityContext']) ? spec['securityContext'] : {};
  const notes = isObject(annotations) ? annotations : {};
  const legacyPodSeccomp = notes['seccomp.security.alpha.kubernetes.io/pod'];
  if (legacyPodSeccomp !== undefined && isObject(psc['seccompProfile'])) {
    const type = psc['seccompProfile']['type'];
    const matches = (type === 'RuntimeDefault' && (legacyPodSeccomp === 'runtime/default' || legacyPodSeccomp === 'docker/default')) || (type === 'Unconfined' && legacyPodSeccomp === 'unconfined');
    if (!matches) problems.push('pod seccompProfile does not match the legacy annotation');
  }
  for (const container of containersOf(spec)) {
    const name = String(container['name']);
    const sc = isObject(container['securityContext']) ? container['securityContext'] : {};
    const caps = isObject(sc['capabilities']) && Array.isArray(sc['capabilities']['add']) ? (sc['capabilities']['add'] as unknown[]) : [];
    if (sc['allowPrivilegeEscalation'] === false && sc['privileged'] === true) problems.push(`${name}: allowPrivilegeEscalation false with privileged`);
    if (sc['allowPrivilegeEscalation'] === false && (caps.includes('CAP_SYS_ADMIN') || caps.includes('SYS_ADMIN'))) {
      problems.push(`${name}: allowPrivilegeEscalation false with SYS_ADMIN`);
    }
    const nonRoot = sc['runAsNonRoot'] ?? psc['runAsNonRoot'];
    const uid = sc['runAsUser'] ?? psc['runAsUser'];
    if (nonRoot === true && uid === 0) problems.push(`${name}: runAsNonRoot true with runAsUser 0 (the kubelet refuses to start it)`);
    if (isObject(sc['seccompProfile']) && sc['seccompProfile']['type'] === 'Localhost' && typeof sc['seccompProfile']['localhostProfile'] !== 'string') {
      problems.push(`${name}: Localhost seccomp without localhostProfile`);
    }
  }
  return problems;
}
