// Where a create's time goes, as kube-apiserver itself measures it: its Prometheus /metrics,
// read before and after a run, give per create the time of the mutating admission step, of the
// webhook call (request sent to answer decoded), and how many webhook calls there were (more than
// one per create means reinvocation). Only one namespace is loaded at a time, so the differences
// belong to that run.

/** Every sample line as `name{labels}` → value; comments and malformed lines are skipped. */
export function parsePrometheusText(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    if (space <= 0) continue;
    const value = Number(line.slice(space + 1));
    if (Number.isFinite(value)) samples.set(line.slice(0, space), value);
  }
  return samples;
}

/** Sum of the samples of `metric` whose labels include every one of `labels`. */
export function sumOf(samples: ReadonlyMap<string, number>, metric: string, labels: Readonly<Record<string, string>> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  let total = 0;
  for (const [series, value] of samples) {
    const brace = series.indexOf('{');
    const name = brace === -1 ? series : series.slice(0, brace);
    if (name !== metric) continue;
    const labelText = brace === -1 ? '' : series.slice(brace + 1, -1);
    const present = labelText.split(',');
    if (wanted.every((pair) => present.includes(pair))) total += value;
  }
  return total;
}

export interface AdmissionTimes {
  /** Mean time of the whole mutating admission step (built-in plugins, policies, webhooks, patching), ms per create. */
  readonly mutatingStepMs: number;
  /** Mean duration of one call to the webhook as the API server saw it, ms; NaN without calls. */
  readonly webhookCallMs: number;
  /** Webhook calls per create: 1 normally, 2 when the API server reinvoked it. */
  readonly webhookCallsPerCreate: number;
  /** Mean time of the MutatingAdmissionPolicy plugin, ms per create. */
  readonly policyPluginMs: number;
}

const STEP = 'apiserver_admission_step_admission_duration_seconds';
const WEBHOOK = 'apiserver_admission_webhook_admission_duration_seconds';
const PLUGIN = 'apiserver_admission_controller_admission_duration_seconds';

/** `webhookName` is the webhook's name in its configuration, or undefined for setups without one. */
export function admissionTimes(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>, creates: number, webhookName: string | undefined): AdmissionTimes {
  const delta = (metric: string, labels: Record<string, string>): number => sumOf(after, metric, labels) - sumOf(before, metric, labels);
  const create = { operation: 'CREATE', type: 'admit' };
  const calls = webhookName === undefined ? 0 : delta(`${WEBHOOK}_count`, { ...create, name: webhookName });
  const callSeconds = webhookName === undefined ? 0 : delta(`${WEBHOOK}_sum`, { ...create, name: webhookName });
  return {
    mutatingStepMs: creates > 0 ? (delta(`${STEP}_sum`, create) * 1000) / creates : Number.NaN,
    webhookCallMs: calls > 0 ? (callSeconds * 1000) / calls : Number.NaN,
    webhookCallsPerCreate: creates > 0 ? calls / creates : Number.NaN,
    policyPluginMs: creates > 0 ? (delta(`${PLUGIN}_sum`, { ...create, name: 'MutatingAdmissionPolicy' }) * 1000) / creates : Number.NaN,
  };
}
