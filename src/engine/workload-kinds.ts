// Which manifests are workloads the engine hardens, and where each keeps its Pod template: one
// table for hardenManifest and for the CLI, which passes every other kind through.

interface WorkloadKind {
  /** API groups serving the kind, "" being the core group ("v1"). */
  readonly groups: readonly string[];
  /** Field names down to the Pod template; [] for a Pod itself. */
  readonly templatePath: readonly string[];
}

const WORKLOAD_KINDS: Readonly<Record<string, WorkloadKind>> = {
  Pod: { groups: [''], templatePath: [] },
  Deployment: { groups: ['apps', 'extensions'], templatePath: ['spec', 'template'] },
  StatefulSet: { groups: ['apps'], templatePath: ['spec', 'template'] },
  DaemonSet: { groups: ['apps', 'extensions'], templatePath: ['spec', 'template'] },
  ReplicaSet: { groups: ['apps', 'extensions'], templatePath: ['spec', 'template'] },
  ReplicationController: { groups: [''], templatePath: ['spec', 'template'] },
  Job: { groups: ['batch'], templatePath: ['spec', 'template'] },
  CronJob: { groups: ['batch'], templatePath: ['spec', 'jobTemplate', 'spec', 'template'] },
};

export const SUPPORTED_WORKLOADS =
  'secure-defaults hardens Pods and the Pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs and CronJobs';

export function workloadKind(apiVersion: string, kind: string): WorkloadKind | undefined {
  const workload = Object.hasOwn(WORKLOAD_KINDS, kind) ? WORKLOAD_KINDS[kind] : undefined;
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  return workload !== undefined && workload.groups.includes(group) ? workload : undefined;
}

/** True for the Pods and Pod-template workloads the engine hardens (by kind and API group). */
export function isWorkload(apiVersion: string, kind: string): boolean {
  return workloadKind(apiVersion, kind) !== undefined;
}

export interface PodTemplate {
  /** "spec.template." for a Deployment, "" for a Pod: prefixes the template's own field paths. */
  readonly pathPrefix: string;
  readonly podLike: unknown;
}

/** The Pod or Pod template of a workload object; undefined for other kinds. */
export function podTemplateOf(apiVersion: string, kind: string, object: unknown): PodTemplate | undefined {
  const workload = workloadKind(apiVersion, kind);
  if (workload === undefined) {
    return undefined;
  }
  let current: unknown = object;
  for (const key of workload.templatePath) {
    current = typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[key] : undefined;
  }
  return { pathPrefix: workload.templatePath.map((key) => `${key}.`).join(''), podLike: current };
}
