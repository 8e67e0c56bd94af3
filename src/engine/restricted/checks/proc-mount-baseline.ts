// The default /proc masks reduce the attack surface and must be kept, unless the Pod runs in
// its own user namespace (spec.hostUsers=false), where an unmasked /proc exposes nothing of the host.
// Restricted field: containers[*].securityContext.procMount. Allowed: undefined, "Default";
// anything when spec.hostUsers is false (policy v1.35+; before, the masks were required of every Pod).
import type { PodSecurityCheck } from '../check.js';
import { findUnmaskedProcMounts } from './proc-mount-restricted.js';
import { USER_NAMESPACE_RELAXATION_MINOR } from './run-as-non-root.js';

export const procMountBaselineCheck: PodSecurityCheck = {
  id: 'procMount',
  level: 'baseline',
  evaluate(pod, minor) {
    return pod.inUserNamespace && minor >= USER_NAMESPACE_RELAXATION_MINOR ? null : findUnmaskedProcMounts(pod);
  },
};
