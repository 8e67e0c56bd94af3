// "What happens to a Pod": opt-out, Windows, enforce-mode violations, then the defaults, the
// audit annotation and the JSON patch. Shared by the webhook (decideAdmission) and the CLI
// (hardenManifest, through hardenPodLike).
import { diffAlong } from './additions-patch.js';
import { findViolations } from './enforce-violations.js';
import { mergeInjectedAnnotation } from './injected-annotation.js';
import type { Operation } from 'fast-json-patch';
import {
  INJECTED_ANNOTATION,
  SKIP_ANNOTATION,
  type AdmissionDecision,
  type AdmissionInput,
  type CompiledPolicy,
  type IdDefaults,
  type LeftOutDefault,
  type NamespaceInfo,
  type PolicyMode,
  type Violation,
} from './model.js';

import { CONTAINER_LISTS } from './pod-containers.js';
import { hardenNewEphemeralContainers, hardenPodSpec, isUnset, type Injection, type SpecHardening } from './pod-hardener.js';
import { withMembers } from './object-copy.js';
import { podSecurityWarnings } from './pod-security-warnings.js';
import { windowsPodReason } from './windows-pod.js';
import { WarningList, type ReasonedWarnings } from './warning-reasons.js';
import { isJsonObject, type JsonObject } from '../foundation/json-object.js';


export interface PodLikeOutcome {
  /** The hardened copy (the input object itself when nothing changed). */
  readonly object: JsonObject;
  readonly injections: readonly Injection[];
  /** Including, in warn mode, one per violation in the denial's wording. */
  readonly warnings: ReasonedWarnings;
  /** The mode of the rule that matched the namespace. */
  readonly mode: PolicyMode;
  /** What enforce mode refuses, in every mode (in enforce mode the object is still hardened, for the CLI). */
  readonly violations: readonly Violation[];
  readonly leftOut: readonly LeftOutDefault[];
  /** Paths of Pod-level values an earlier call added that this one moved to the containers (see SpecHardening). */
  readonly removed: readonly string[];
  readonly skipped?: string;
  /** The namespace's IDs and the rule that chose them; absent when the object was not looked at. */
  readonly ids?: IdDefaults | null;
}

export interface PodLikeContext {
  readonly policy: CompiledPolicy;
  readonly namespace: NamespaceInfo;
  readonly target: AdmissionInput['target'];
  /** Where the Pod-like object sits, for messages: "" for a Pod, "spec.template" for a Deployment. */
  readonly basePath: string;
  /** Names of ephemeral containers that already existed (target 'ephemeralContainers'). */
  readonly existingEphemeralNames: ReadonlySet<string>;
}

function joinPath(base: string, field: string): string {
  return base === '' ? field : `${base}.${field}`;
}

/** Past this many, warn mode sums up the rest in one warning: a Pod's author must not flood the API server's warnings. */
export const MAX_WOULD_DENY_WARNINGS = 20;

/** How warn mode reports violations: one warning each, in the denial's own sentence. */
export function wouldDenyWarnings(policyName: string, violations: readonly Violation[]): string[] {
  const prefix = `policy "${policyName}" (warn mode) would deny this Pod in enforce mode:`;
  const warnings = violations.slice(0, MAX_WOULD_DENY_WARNINGS).map((violation) => `${prefix} ${violation.message}`);
  if (violations.length > MAX_WOULD_DENY_WARNINGS) warnings.push(`${prefix} and ${violations.length - MAX_WOULD_DENY_WARNINGS} more violations`);
  return warnings;
}

/** Adds (or merges into) the injected annotation on a copy of the metadata. */
function annotate(podLike: JsonObject, hardening: SpecHardening, metadataPath: string, warnings: WarningList): JsonObject | null {
  const metadata = podLike['metadata'];
  if (!isUnset(metadata) && !isJsonObject(metadata)) {
    warnings.add('unreadable-pod-field', `${metadataPath} is not an object; the ${INJECTED_ANNOTATION} annotation was not added`);
    return null;
  }
  const annotations = isJsonObject(metadata) ? metadata['annotations'] : undefined;
  if (!isUnset(annotations) && !isJsonObject(annotations)) {
    warnings.add('unreadable-pod-field', `${metadataPath}.annotations is not an object; the ${INJECTED_ANNOTATION} annotation was not added`);
    return null;
  }
  const existing = isJsonObject(annotations) ? annotations[INJECTED_ANNOTATION] : undefined;
  const merged = mergeInjectedAnnotation(typeof existing === 'string' ? existing : undefined, hardening.injections, hardening.movedFromPod);
  if (merged.replacedUnreadable || (existing !== undefined && typeof existing !== 'string')) {
    warnings.add('unreadable-pod-field', `${metadataPath}.annotations.${INJECTED_ANNOTATION} was not in the expected format and was replaced`);
  }
  return withMembers(isJsonObject(metadata) ? metadata : {}, {
    annotations: withMembers(isJsonObject(annotations) ? annotations : {}, { [INJECTED_ANNOTATION]: merged.value }),
  });
}

/** Decides on one Pod or Pod template ({metadata, spec}); never modifies it, never throws on garbage. */
export function hardenPodLike(podLike: JsonObject, context: PodLikeContext): PodLikeOutcome {
  const { policy, namespace, target, basePath } = context;
  const metadataPath = joinPath(basePath, 'metadata');
  const specPath = joinPath(basePath, 'spec');
  const warnings = new WarningList();
  const metadata = podLike['metadata'];
  const annotations: JsonObject = isJsonObject(metadata) && isJsonObject(metadata['annotations']) ? metadata['annotations'] : {};
  const resolution = policy.resolveIdDefaultsWithWarnings(namespace);
  const mode = resolution.mode ?? policy.mode;
  let violations: readonly Violation[] = [];
  const unchanged = (skipped: string): PodLikeOutcome => ({ object: podLike, injections: [], warnings, mode, violations, leftOut: [], removed: [], skipped });

  if (annotations[SKIP_ANNOTATION] === 'true') {
    if (policy.allowPodOptOut) return unchanged(`opted out with the annotation ${SKIP_ANNOTATION}: "true"`);
    warnings.add('opt-out-not-allowed', `annotation ${SKIP_ANNOTATION}: "true" is ignored: policy "${policy.name}" does not allow Pods to opt out (spec.allowPodOptOut is false)`);
  }
  const spec = podLike['spec'];
  if (!isJsonObject(spec)) {
    warnings.add('unreadable-pod-field', `${specPath} is not an object; nothing was hardened`);
    return unchanged(`${specPath} is missing or not an object`);
  }

  // Every warning of an ID resolution says why the namespace's range annotation was ignored (IdResolution.warnings).
  warnings.addEach('namespace-range-annotation-ignored', resolution.warnings);
  const ids = resolution.defaults;
  // Judged in every mode (warn reports them, fill exposes them to `audit`), and before the Windows
  // check: a Linux Pod must not dodge enforce mode by adding windowsOptions.
  const existing = context.existingEphemeralNames;
  violations = findViolations(podLike, {
    ids,
    namespace,
    policyName: policy.name,
    basePath,
    judgePod: target === 'pod',
    // For `kubectl debug`, only the ephemeral containers it adds.
    judgeContainer: target === 'pod' ? () => true : (c) => c.path.startsWith('spec.ephemeralContainers[') && !existing.has(c.name),
  });
  if (mode === 'warn') warnings.addEach('would-deny', wouldDenyWarnings(policy.name, violations));
  const windows = windowsPodReason(spec);
  if (windows !== null) return { ...unchanged(`${windows}: Linux security defaults do not apply`), violations, ids };

  const settings = { defaults: policy.defaults, ids, annotations, specPath };
  const hardening: SpecHardening =
    target === 'pod' ? hardenPodSpec(spec, settings) : hardenNewEphemeralContainers(spec, settings, context.existingEphemeralNames);
  warnings.addAll(hardening.warnings);
  const leftOut = hardening.leftOut;
  if (hardening.spec === spec) return { object: podLike, injections: [], warnings, mode, violations, leftOut, removed: [], ids };

  const members: JsonObject = { spec: hardening.spec };
  if (target === 'pod') {
    const annotated = annotate(podLike, hardening, metadataPath, warnings);
    if (annotated !== null) members['metadata'] = annotated;
  }
  const hardened = withMembers(podLike, members);
  const removed = hardening.movedFromPod.map((field) => `${specPath}.securityContext.${field}`);
  return { object: hardened, injections: hardening.injections, warnings, mode, violations, leftOut, removed, ids };
}

function ephemeralContainerNames(pod: unknown): Set<string> {
  const spec = isJsonObject(pod) ? pod['spec'] : undefined;
  const containers = isJsonObject(spec) ? spec['ephemeralContainers'] : undefined;
  const names = new Set<string>();
  if (Array.isArray(containers)) {
    for (const container of containers) if (isJsonObject(container) && typeof container['name'] === 'string') names.add(container['name']);
  }
  return names;
}

/**
 * The patch from `pod` to hardenPodLike's copy of it. The copy differs only in
 * metadata.annotations, spec.securityContext, spec.hostUsers and the securityContext of replaced containers
 * (pod-hardener.ts, annotate above), so only those are compared; a list that changed in any other
 * way (never, today) is compared whole.
 */
function hardeningPatch(pod: JsonObject, hardened: JsonObject): Operation[] {
  const operations: Operation[] = [];
  if (hardened === pod) return operations;
  diffAlong(pod, hardened, ['metadata', 'annotations'], operations);
  diffAlong(pod, hardened, ['spec', 'securityContext'], operations);
  diffAlong(pod, hardened, ['spec', 'hostUsers'], operations);
  const before = pod['spec'];
  const after = hardened['spec'];
  if (before === after || !isJsonObject(before) || !isJsonObject(after)) return operations;
  for (const list of CONTAINER_LISTS) {
    const from = before[list];
    const to = after[list];
    if (from === to) continue;
    if (!Array.isArray(from) || !Array.isArray(to) || from.length !== to.length) {
      diffAlong(pod, hardened, ['spec', list], operations);
      continue;
    }
    for (let index = 0; index < to.length; index++) {
      if (from[index] !== to[index]) diffAlong(pod, hardened, ['spec', list, index, 'securityContext'], operations);
    }
  }
  return operations;
}

/** Violations named in a denial; a Pod with thousands of them gets the first ones and a count. */
const MAX_VIOLATIONS_IN_MESSAGE = 20;

function listViolations(violations: readonly Violation[]): string {
  const shown = violations.slice(0, MAX_VIOLATIONS_IN_MESSAGE).map((v) => v.message).join('; ');
  const more = violations.length - MAX_VIOLATIONS_IN_MESSAGE;
  return more > 0 ? `${shown}; and ${more} more` : shown;
}

/** Both lists in order; the first itself when the second is empty (the usual case: no copy). */
function joinWarnings(first: ReasonedWarnings, second: ReasonedWarnings): ReasonedWarnings {
  if (second.texts.length === 0) return first;
  if (first.texts.length === 0) return second;
  const joined = new WarningList();
  joined.addAll(first);
  joined.addAll(second);
  return joined;
}

export function decideAdmission(input: AdmissionInput): AdmissionDecision {
  const { policy, namespace, pod, target } = input;
  if (!isJsonObject(pod)) {
    return {
      allowed: true,
      mode: policy.mode,
      wouldDeny: [],
      leftOut: [],
      patch: [],
      injected: [],
      warnings: ['the admitted object is not a JSON object; nothing was changed'],
      warningReasons: ['unreadable-pod-field'],
      skipped: 'not a Pod object',
    };
  }
  const outcome = hardenPodLike(pod, {
    policy,
    namespace,
    target,
    basePath: '',
    existingEphemeralNames: target === 'ephemeralContainers' ? ephemeralContainerNames(input.oldPod) : new Set(),
  });
  if (outcome.mode === 'enforce' && outcome.violations.length > 0) {
    const podName = isJsonObject(pod['metadata']) ? pod['metadata']['name'] ?? pod['metadata']['generateName'] : undefined;
    const subject = typeof podName === 'string' ? `Pod "${podName}"` : 'this Pod';
    return {
      allowed: false,
      mode: outcome.mode,
      leftOut: outcome.leftOut,
      message: `policy "${policy.name}" (enforce mode) denies ${subject} in namespace "${namespace.name}": ${listViolations(outcome.violations)}`,
      violations: outcome.violations,
      warnings: outcome.warnings.texts,
      warningReasons: outcome.warnings.reasons,
      ids: outcome.ids ?? null,
    };
  }
  const warnings = joinWarnings(outcome.warnings, podSecurityWarnings(namespace, outcome.object));
  const decision = {
    allowed: true as const,
    mode: outcome.mode,
    wouldDeny: outcome.violations,
    leftOut: outcome.leftOut,
    patch: hardeningPatch(pod, outcome.object),
    injected: outcome.injections.map((injection) => injection.path),
    removed: outcome.removed,
    warnings: warnings.texts,
    warningReasons: warnings.reasons,
    ids: outcome.ids ?? null,
    // The injections themselves (path and value, plain data): nothing is copied per Pod.
    injectedValues: outcome.injections,
  };
  // Added afterwards rather than spread into the literal: a spread makes V8 build the object the slow way.
  return outcome.skipped !== undefined ? { ...decision, skipped: outcome.skipped } : decision;
}
