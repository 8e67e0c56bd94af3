// Sysctls can disable security mechanisms or affect every container on the node, so only the
// "safe" ones (namespaced, and isolated from other Pods on the node) are allowed.
// Restricted field: spec.securityContext.sysctls[*].name. Allowed: SAFE_SYSCTLS.
import type { PodSecurityCheck } from '../check.js';
import { asArray, asObject, asString, joinQuote, pluralize } from '../pod-view.js';

/** PSA's safe set as of policy v1.37 (v1.27, v1.29, v1.32 and v1.37 each added names). */
export const SAFE_SYSCTLS: ReadonlySet<string> = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  'net.ipv4.tcp_slow_start_after_idle',
  'net.ipv4.tcp_notsent_lowat',
]);

export const sysctlsCheck: PodSecurityCheck = {
  id: 'sysctls',
  level: 'baseline',
  evaluate(pod) {
    const forbidden: string[] = [];
    const paths: string[] = [];
    asArray(pod.securityContext?.['sysctls']).forEach((entry, index) => {
      const name = asString(asObject(entry)?.['name']) ?? '';
      if (!SAFE_SYSCTLS.has(name)) {
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
