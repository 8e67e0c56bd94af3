// Setting the SELinux type is restricted, and setting a custom SELinux user or role is forbidden.
// Restricted fields: seLinuxOptions.type at pod and container level (allowed: undefined, "",
// container_t, container_init_t, container_kvm_t, and container_engine_t from policy v1.31);
// seLinuxOptions.user and .role at pod and container level (allowed: undefined, "").
import type { PodSecurityCheck } from '../check.js';
import { asString, describeContainers, joinQuote, pluralize, sortedUnique } from '../pod-view.js';
import { asJsonObject, type JsonObject } from '../../../foundation/json-object.js';

const ALLOWED_SELINUX_TYPES_1_0: ReadonlySet<string> = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t']);
const ALLOWED_SELINUX_TYPES_1_31: ReadonlySet<string> = new Set([...ALLOWED_SELINUX_TYPES_1_0, 'container_engine_t']);

/** The SELinux types policy version 1.<minor> allows. */
export function allowedSeLinuxTypes(minor: number): ReadonlySet<string> {
  return minor >= 31 ? ALLOWED_SELINUX_TYPES_1_31 : ALLOWED_SELINUX_TYPES_1_0;
}

export const seLinuxOptionsCheck: PodSecurityCheck = {
  id: 'seLinuxOptions',
  level: 'baseline',
  evaluate(pod, minor) {
    const allowedTypes = allowedSeLinuxTypes(minor);
    const badTypes: string[] = [];
    let setUser = false;
    let setRole = false;
    const paths: string[] = [];

    /** True when the options at `path` break the rule; records what was wrong. */
    const breaksRule = (securityContext: JsonObject | undefined, path: string): boolean => {
      const options = asJsonObject(securityContext?.['seLinuxOptions']);
      if (options === undefined) {
        return false;
      }
      let bad = false;
      const type = asString(options['type']) ?? '';
      if (!allowedTypes.has(type)) {
        bad = true;
        badTypes.push(type);
        paths.push(`${path}.seLinuxOptions.type`);
      }
      if ((asString(options['user']) ?? '') !== '') {
        bad = true;
        setUser = true;
        paths.push(`${path}.seLinuxOptions.user`);
      }
      if ((asString(options['role']) ?? '') !== '') {
        bad = true;
        setRole = true;
        paths.push(`${path}.seLinuxOptions.role`);
      }
      return bad;
    };

    const setters: string[] = [];
    if (breaksRule(pod.securityContext, 'spec.securityContext')) {
      setters.push('pod');
    }
    const badContainers = pod.containers
      .filter((c) => breaksRule(c.securityContext, `${c.path}.securityContext`))
      .map((c) => c.name);
    if (badContainers.length > 0) {
      setters.push(describeContainers(badContainers));
    }
    if (setters.length === 0) {
      return null;
    }
    const problems: string[] = [];
    const types = sortedUnique(badTypes);
    if (types.length > 0) {
      problems.push(`${pluralize('type', 'types', types.length)} ${joinQuote(types)}`);
    }
    if (setUser) {
      problems.push('user may not be set');
    }
    if (setRole) {
      problems.push('role may not be set');
    }
    return {
      reason: 'seLinuxOptions',
      message: `${setters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${problems.join('; ')}`,
      paths,
    };
  },
};
