// The default /proc masks reduce the attack surface and must be kept, unless the Pod runs in
// its own user namespace (spec.hostUsers=false), where an unmasked /proc exposes nothing of the host.
// Restricted field: containers[*].securityContext.procMount. Allowed: undefined, "Default";
// anything when spec.hostUsers is false.
import type { PodSecurityCheck } from '../check.js';
import { findUnmaskedProcMounts } from './proc-mount-restricted.js';

export const procMountBaselineCheck: PodSecurityCheck = {
  id: 'procMount',
  level: 'baseline',
  evaluate(pod) {
    return pod.inUserNamespace ? null : findUnmaskedProcMounts(pod);
  },
};
