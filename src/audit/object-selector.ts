// Which Pods the API server sends to the webhook at all, as far as the webhook configuration's
// objectSelector decides it: a Pod whose labels it does not match is never seen by the webhook,
// so the audit reports it as not sent instead of judging it. Pure: the configuration comes in
// as JSON (the audit reads it from the cluster, or takes --object-selector).
import { compileLabelsMatcher, type LabelSelector } from '../engine/namespace-matcher.js';
import { readSelector } from '../engine/policy-parser.js';
import type { PolicyError } from '../engine/model.js';
import { PolicyErrorList } from '../engine/policy-reader.js';
import { asJsonObject, type JsonObject } from '../foundation/json-object.js';
import type { ControllerLabel } from './controller-labels.js';
import { compileSelectorDecider, type SelectorDecision } from './selector-decision.js';

/** The chart's mutating webhook (charts/secure-defaults/templates/webhooks.yaml). */
export const POD_WEBHOOK_NAME = 'pods.secure-defaults.io';

export interface ObjectScope {
  /** False when the API server would not send a Pod with these labels. */
  readonly sends: (podLabels: Readonly<Record<string, string>>) => boolean;
  /** The same, for a Pod whose controller adds labels, some of unknown value (selector-decision.ts). */
  readonly decide: (podLabels: Readonly<Record<string, string>>, added: readonly ControllerLabel[]) => SelectorDecision;
  /** The selector as kubectl writes one ("team=a,tier in (api,web),!legacy"), cut when long. */
  readonly text: string;
  /** What the report says of a Pod not sent. */
  readonly reason: string;
  /** What the report says of a Pod the audit cannot tell is sent, given why. */
  readonly cannotTell: (why: string) => string;
}

export type ObjectScopeResult = { readonly ok: true; readonly scope: ObjectScope | null } | { readonly ok: false; readonly errors: readonly PolicyError[] };

/** Longest selector text repeated in every excluded workload's reason. */
const MAX_SELECTOR_TEXT = 200;

export function requirementText(selector: LabelSelector): string {
  const parts: string[] = [];
  let length = 0;
  const add = (part: string): boolean => {
    parts.push(part);
    length += part.length + 1;
    return length <= MAX_SELECTOR_TEXT;
  };
  for (const [key, value] of Object.entries(selector.matchLabels)) if (!add(`${key}=${value}`)) break;
  if (length <= MAX_SELECTOR_TEXT) {
    for (const { key, operator, values } of selector.matchExpressions) {
      const list = (): string => `(${values.slice(0, 20).join(',')}${values.length > 20 ? ',…' : ''})`;
      const part = operator === 'In' ? `${key} in ${list()}` : operator === 'NotIn' ? `${key} notin ${list()}` : operator === 'Exists' ? key : `!${key}`;
      if (!add(part)) break;
    }
  }
  const text = parts.join(',');
  return text.length > MAX_SELECTOR_TEXT ? `${text.slice(0, MAX_SELECTOR_TEXT)}…` : text;
}

/**
 * A webhook's objectSelector or namespaceSelector at `path`, validated as the API server validates
 * a LabelSelector; null when it selects everything (absent, null or {}).
 */
export function readWebhookSelector(value: unknown, path: string): { readonly ok: true; readonly selector: LabelSelector | null } | { readonly ok: false; readonly errors: readonly PolicyError[] } {
  if (value === undefined || value === null) return { ok: true, selector: null };
  const errors = new PolicyErrorList();
  const selector = readSelector(errors, value, path);
  if (selector === undefined || errors.errors.length > 0) return { ok: false, errors: errors.errors };
  if (Object.keys(selector.matchLabels).length === 0 && selector.matchExpressions.length === 0) return { ok: true, selector: null };
  return { ok: true, selector };
}

/**
 * The objectSelector at `path` (absent, null or {} selects every Pod: no scope), validated as the
 * API server validates a LabelSelector; `source` names where it came from in the reason.
 */
export function objectScopeOf(value: unknown, path: string, source: string): ObjectScopeResult {
  const read = readWebhookSelector(value, path);
  if (!read.ok) return read;
  const selector = read.selector;
  if (selector === null) return { ok: true, scope: null };
  const text = requirementText(selector);
  return {
    ok: true,
    scope: {
      sends: compileLabelsMatcher(selector),
      decide: compileSelectorDecider(selector),
      text,
      reason: `not sent to the webhook: objectSelector ${JSON.stringify(text)} (${source}) does not match the Pod's labels`,
      cannotTell: (why) => `cannot tell whether the API server sends it to the webhook: objectSelector ${JSON.stringify(text)} (${source}) depends on a label's value: ${why}`,
    },
  };
}

/** The pod webhook's objectSelector (or namespaceSelector) in a MutatingWebhookConfiguration, with its field path. */
export function podWebhookSelector(configuration: JsonObject, field: 'objectSelector' | 'namespaceSelector' = 'objectSelector'): { readonly found: true; readonly value: unknown; readonly path: string } | { readonly found: false; readonly names: readonly string[] } {
  const webhooks = configuration['webhooks'];
  const names: string[] = [];
  if (Array.isArray(webhooks)) {
    for (let index = 0; index < webhooks.length; index++) {
      const webhook = asJsonObject(webhooks[index]);
      const name = webhook?.['name'];
      if (name === POD_WEBHOOK_NAME) return { found: true, value: webhook?.[field], path: `webhooks[${index}].${field}` };
      if (typeof name === 'string' && names.length < 10) names.push(name);
    }
  }
  return { found: false, names };
}

/** The labels a Pod is created with (string values only: the API server stores no others). */
export function podLabels(pod: JsonObject): Readonly<Record<string, string>> {
  const labels = asJsonObject(asJsonObject(pod['metadata'])?.['labels']);
  if (labels === undefined) return {};
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of Object.entries(labels)) if (typeof value === 'string') out[key] = value;
  return out;
}
