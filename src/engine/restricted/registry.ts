// Every Pod Security Standards check, in the order findings are reported (PSA's registry order,
// which test/e2e/pss-oracle.test.ts checks against a real API server). A restricted check that `overrides` a baseline
// check replaces it when the restricted profile is evaluated.
import type { PodSecurityCheck, PodSecurityLevel } from './check.js';
import { LATEST_POLICY_MINOR } from './policy-version.js';
import { allowPrivilegeEscalationCheck } from './checks/allow-privilege-escalation.js';
import { appArmorProfileCheck } from './checks/apparmor-profile.js';
import { capabilitiesBaselineCheck } from './checks/capabilities-baseline.js';
import { capabilitiesRestrictedCheck } from './checks/capabilities-restricted.js';
import { hostNamespacesCheck } from './checks/host-namespaces.js';
import { hostPathVolumesCheck } from './checks/host-path-volumes.js';
import { hostPortsCheck } from './checks/host-ports.js';
import { hostProbesAndHostLifecycleCheck } from './checks/host-probes-and-lifecycle.js';
import { privilegedCheck } from './checks/privileged.js';
import { procMountBaselineCheck } from './checks/proc-mount-baseline.js';
import { procMountRestrictedCheck } from './checks/proc-mount-restricted.js';
import { restrictedVolumesCheck } from './checks/restricted-volumes.js';
import { runAsNonRootCheck } from './checks/run-as-non-root.js';
import { runAsUserCheck } from './checks/run-as-user.js';
import { seccompProfileBaselineCheck } from './checks/seccomp-profile-baseline.js';
import { seccompProfileRestrictedCheck } from './checks/seccomp-profile-restricted.js';
import { seLinuxOptionsCheck } from './checks/selinux-options.js';
import { sysctlsCheck } from './checks/sysctls.js';
import { windowsHostProcessCheck } from './checks/windows-host-process.js';

// PSA sorts check ids (its own: "capabilities_baseline", "seccompProfile_restricted", …) byte-wise
// within each level, baseline first; findings and its refusal message follow that order.
const ALL_CHECKS: readonly PodSecurityCheck[] = [
  appArmorProfileCheck,
  capabilitiesBaselineCheck,
  hostNamespacesCheck,
  hostPathVolumesCheck,
  hostPortsCheck,
  hostProbesAndHostLifecycleCheck,
  privilegedCheck,
  procMountBaselineCheck,
  seLinuxOptionsCheck,
  seccompProfileBaselineCheck,
  sysctlsCheck,
  windowsHostProcessCheck,
  allowPrivilegeEscalationCheck,
  capabilitiesRestrictedCheck,
  procMountRestrictedCheck,
  restrictedVolumesCheck,
  runAsNonRootCheck,
  runAsUserCheck,
  seccompProfileRestrictedCheck,
];

/** The checks that make up a profile at policy version 1.<minor>, overridden baseline checks removed. */
export function checksForLevel(level: PodSecurityLevel, minor: number = LATEST_POLICY_MINOR): readonly PodSecurityCheck[] {
  const inVersion = ALL_CHECKS.filter((check) => (check.sinceMinor ?? 0) <= minor);
  if (level === 'baseline') {
    return inVersion.filter((check) => check.level === 'baseline');
  }
  const overridden = new Set(inVersion.flatMap((check) => (check.level === 'restricted' ? (check.overrides ?? []) : [])));
  return inVersion.filter((check) => check.level === 'restricted' || !overridden.has(check.id));
}
