// The labels a controller puts on the Pods it creates, beyond its template's: the API server
// matches the webhook's objectSelector against the Pod as created, so a selector on one of these
// labels decides whether the webhook sees the Pod. Where the audit can know the value from the
// object it lists (names, uids, status.updateRevision, an annotation), it does; where the value is
// a hash the controller computes, it is "present, value unknown", never a guess. Pure.
//
// Checked against kubernetes/kubernetes (1.35–1.37) pkg/controller and the well-known labels:
// - Deployment: its ReplicaSet's template gets `pod-template-hash` (a hash of the template and
//   collisionCount), which the ReplicaSet's Pods carry. A ReplicaSet's own template already has it.
// - StatefulSet: `controller-revision-hash` (the ControllerRevision's name: status.updateRevision,
//   or status.currentRevision for ordinals below a rolling-update partition),
//   `statefulset.kubernetes.io/pod-name` (<name>-<ordinal>), `apps.kubernetes.io/pod-index` (<ordinal>).
// - DaemonSet: `controller-revision-hash` (the revision's hash) and `pod-template-generation`
//   (the annotation deprecated.daemonset.template.generation the API server keeps on the DaemonSet).
// - Job: the API server writes `batch.kubernetes.io/controller-uid`, `batch.kubernetes.io/job-name`,
//   `controller-uid`, `job-name` into the template when the Job is created (unless
//   spec.manualSelector), and the job controller adds `batch.kubernetes.io/job-completion-index`
//   to an Indexed Job's Pods. A CronJob's Jobs get the same, with a name and uid not known yet.
// ReplicationControllers, standalone ReplicaSets and Pods get nothing added.
import { asJsonObject, type JsonObject } from '../foundation/json-object.js';

/** What the audit knows of a label's value on the Pods a controller creates. */
export type PossibleValues =
  /**
   * Set, to one of `count` values (`has` answers in constant time); `listed` holds them when
   * there are few, so a long value list is checked against them instead of the other way round.
   */
  | { readonly kind: 'one-of'; readonly count: number; readonly has: (value: string) => boolean; readonly sample: string; readonly listed?: readonly string[] }
  /** Set, to a value the audit cannot know; `why` says what it is. */
  | { readonly kind: 'unknown'; readonly why: string };

export interface ControllerLabel {
  readonly key: string;
  readonly values: PossibleValues;
}

const known = (value: string): PossibleValues => ({ kind: 'one-of', count: 1, has: (v) => v === value, sample: value, listed: [value] });
const unknown = (why: string): PossibleValues => ({ kind: 'unknown', why });

function oneOfStrings(values: readonly string[]): PossibleValues {
  const set = new Set(values);
  return { kind: 'one-of', count: set.size, has: (v) => set.has(v), sample: values[0] ?? '', listed: [...set] };
}

/** At most this many values are listed; more (a StatefulSet's Pod names) are only tested. */
const MAX_LISTED = 16;

/** `${prefix}${n}` for the whole numbers n in [start, start + count), without listing them. */
function ordinals(prefix: string, start: number, count: number): PossibleValues {
  return {
    kind: 'one-of',
    count,
    has: (value) => {
      if (!value.startsWith(prefix)) return false;
      const length = value.length - prefix.length;
      // Canonical decimal only ("07" is not ordinal 7), short enough to be exact.
      if (length < 1 || length > 10 || (length > 1 && value.charCodeAt(prefix.length) === 48)) return false;
      let n = 0;
      for (let i = prefix.length; i < value.length; i++) {
        const digit = value.charCodeAt(i) - 48;
        if (digit < 0 || digit > 9) return false;
        n = n * 10 + digit;
      }
      return n >= start && n < start + count;
    },
    sample: `${prefix}${start}`,
    ...(count <= MAX_LISTED ? { listed: Array.from({ length: count }, (_, i) => `${prefix}${start + i}`) } : {}),
  };
}

function wholeNumber(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : fallback;
}

function stringAt(object: JsonObject | undefined, key: string): string | undefined {
  const value = object?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function jobLabels(jobSpec: JsonObject | undefined, name: string | undefined, uid: string | undefined, fromCronJob: boolean): ControllerLabel[] {
  const labels: ControllerLabel[] = [];
  if (jobSpec?.['manualSelector'] !== true) {
    const jobName = fromCronJob ? unknown('the name of the Job the CronJob creates (<cronjob>-<scheduled time>)') : name === undefined ? unknown('the Job\'s name') : known(name);
    const jobUid = fromCronJob ? unknown('the uid of the Job the CronJob creates') : uid === undefined ? unknown('the Job\'s uid') : known(uid);
    labels.push(
      { key: 'batch.kubernetes.io/controller-uid', values: jobUid },
      { key: 'batch.kubernetes.io/job-name', values: jobName },
      { key: 'controller-uid', values: jobUid },
      { key: 'job-name', values: jobName },
    );
  }
  if (jobSpec?.['completionMode'] === 'Indexed') {
    // completions is required for an Indexed Job; without one, any index.
    const completions = wholeNumber(jobSpec['completions'], -1);
    labels.push({ key: 'batch.kubernetes.io/job-completion-index', values: completions > 0 ? ordinals('', 0, completions) : unknown('the completion index') });
  }
  return labels;
}

/** The labels the workload's controller adds to each Pod it creates (they override the template's). */
export function controllerAddedLabels(kind: string, object: JsonObject): readonly ControllerLabel[] {
  const metadata = asJsonObject(object['metadata']);
  const spec = asJsonObject(object['spec']);
  const status = asJsonObject(object['status']);
  const name = stringAt(metadata, 'name');
  switch (kind) {
    case 'Deployment':
      return [{ key: 'pod-template-hash', values: unknown('a hash of the Pod template the Deployment controller computes') }];
    case 'StatefulSet': {
      const revisions = [stringAt(status, 'updateRevision'), stringAt(status, 'currentRevision')].filter((r): r is string => r !== undefined);
      const start = wholeNumber(asJsonObject(spec?.['ordinals'])?.['start'], 0);
      // The Pods it runs, or with 0 replicas the first one it would create when scaled up.
      const count = Math.max(1, wholeNumber(spec?.['replicas'], 1));
      return [
        { key: 'controller-revision-hash', values: revisions.length > 0 ? oneOfStrings(revisions) : unknown('the name of the StatefulSet\'s revision (status.updateRevision is not set yet)') },
        { key: 'statefulset.kubernetes.io/pod-name', values: name === undefined ? unknown('the Pod\'s name') : ordinals(`${name}-`, start, count) },
        { key: 'apps.kubernetes.io/pod-index', values: ordinals('', start, count) },
      ];
    }
    case 'DaemonSet': {
      const generation = stringAt(asJsonObject(metadata?.['annotations']), 'deprecated.daemonset.template.generation');
      return [
        { key: 'controller-revision-hash', values: unknown('a hash of the DaemonSet\'s revision its controller computes') },
        { key: 'pod-template-generation', values: generation === undefined ? unknown('the DaemonSet\'s template generation') : known(generation) },
      ];
    }
    case 'Job':
      return jobLabels(spec, name, stringAt(metadata, 'uid'), false);
    case 'CronJob':
      return jobLabels(asJsonObject(asJsonObject(spec?.['jobTemplate'])?.['spec']), undefined, undefined, true);
    default:
      return [];
  }
}
