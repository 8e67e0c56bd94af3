// Sysctls can disable security mechanisms or affect every container on the node, so only the
// "safe" ones (namespaced, and isolated from other Pods on the node) are allowed.
// Restricted field: spec.securityContext.sysctls[*].name. Allowed: SAFE_SYSCTLS.
import type { PodSecurityCheck } from '../check.js';
import { asArray, asString, joinQuote, pluralize } from '../pod-view.js';
import { asJsonObject } from '../../../foundation/json-object.js';

/** The names each policy version added to PSA's safe set, newest first. */
const SAFE_SYSCTLS_ADDED: ReadonlyArray<readonly [sinceMinor: number, names: readonly string[]]> = [
  [37, ['net.ipv4.tcp_slow_start_after_idle', 'net.ipv4.tcp_notsent_lowat']],
  [32, ['net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem']],
  [29, ['net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes']],
  [27, ['net.ipv4.ip_local_reserved_ports']],
  [0, ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_unprivileged_port_start']],
];

const safeSysctlsByMinor = new Map<number, ReadonlySet<string>>();

/** PSA's safe set at policy version 1.<minor>. */
export function safeSysctls(minor: number): ReadonlySet<string> {
  let names = safeSysctlsByMinor.get(minor);
  if (names === undefined) {
    names = new Set(SAFE_SYSCTLS_ADDED.filter(([since]) => since <= minor).flatMap(([, added]) => added));
    safeSysctlsByMinor.set(minor, names);
  }
  return names;
}

export const sysctlsCheck: PodSecurityCheck = {
  id: 'sysctls',
  level: 'baseline',
  evaluate(pod, minor) {
    const safe = safeSysctls(minor);
    const forbidden: string[] = [];
    const paths: string[] = [];
    asArray(pod.securityContext?.['sysctls']).forEach((entry, index) => {
      const name = asString(asJsonObject(entry)?.['name']) ?? '';
      if (!safe.has(name)) {
        forbidden.push(name);
        paths.push(`spec.securityContext.sysctls[${index}].name`);
      }
    });
    if (forbidden.length === 0) {
      return null;
    }
    return {
      reason: 'forbidden sysctls',
      message: `pod must not set ${pluralize('sysctl', 'sysctls', forbidden.length)} ${joinQuote(forbidden)} in securityContext.sysctls (only namespaced, node-safe sysctls are allowed)`,
      paths,
    };
  },
};
