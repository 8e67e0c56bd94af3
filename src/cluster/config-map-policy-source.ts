// The PolicySource a cluster deployment uses: the policy document in a ConfigMap, fed by a
// Reflector. A change that does not parse or validate is refused as a whole; the last good policy
// stays in force, every error is logged with its path, counted, and recorded as a Warning Event
// on the ConfigMap. A deleted ConfigMap also leaves the last good policy in force. The parse may
// answer later (a worker thread): admissions keep the last good policy meanwhile, a newer version
// arriving during the parse replaces it (the older one is never applied), and the switch to a
// new policy is one assignment.
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { PolicyError, PolicyParseResult } from '../engine/model.js';
import type { Logger } from '../foundation/logger.js';
import { describePolicyError, describePolicyErrors, POLICY_KEY, policyTextOfConfigMap } from '../engine/policy-config-map.js';
import { LatestOnly } from '../foundation/latest-only.js';
import type { ConfigMapRef, PolicyLoadMetrics, PolicySnapshot, PolicySource, PolicyTextParser } from '../ports/admission-ports.js';
import type { ConfigMapIdentity, PolicyEvent, PolicyEventRecorder } from './policy-event-recorder.js';
import type { ReflectorHandlers, WatchEventType } from './reflector.js';

export interface ConfigMapPolicySourceOptions {
  readonly configMap: ConfigMapRef;
  readonly parsePolicy: PolicyTextParser;
  readonly logger: Logger;
  readonly metrics: PolicyLoadMetrics;
  readonly events: PolicyEventRecorder;
  /** Told after each version is judged, also when the parse answered later (announces new policies). */
  readonly onJudged?: () => void;
}

export class ConfigMapPolicySource implements PolicySource, ReflectorHandlers<V1ConfigMap> {
  private readonly options: ConfigMapPolicySourceOptions;
  private snapshot: PolicySnapshot | null = null;
  private acceptedText: string | null = null;
  /** The last version judged, so a relist that delivers it again does not log and record it twice. */
  private lastJudgedVersion: string | null = null;
  private present = false;
  private reportedMissing = false;
  private readonly parsing = new LatestOnly();

  constructor(options: ConfigMapPolicySourceOptions) {
    this.options = options;
  }

  current(): PolicySnapshot | null {
    return this.snapshot;
  }

  /** Resolves once no policy text is being parsed (tests, and callers that must see the outcome). */
  settled(): Promise<void> {
    return this.parsing.settled();
  }

  /** Drops a parse in progress (shutdown). */
  stop(): void {
    this.parsing.cancel();
  }

  replace(items: readonly V1ConfigMap[]): void {
    const mine = items.find((item) => this.isMine(item));
    if (mine) this.judge(mine);
    else this.gone('is missing');
  }

  apply(type: WatchEventType, object: V1ConfigMap): void {
    if (!this.isMine(object)) return;
    if (type === 'DELETED') this.gone('was deleted');
    else this.judge(object);
  }

  private isMine(object: V1ConfigMap): boolean {
    const { namespace, name } = this.options.configMap;
    return object.metadata?.namespace === namespace && object.metadata?.name === name;
  }

  private gone(what: string): void {
    const { namespace, name } = this.options.configMap;
    const hadIt = this.present;
    this.present = false;
    // The newest state is "no ConfigMap": a parse of the text it held before must not land now.
    this.parsing.cancel();
    this.lastJudgedVersion = null;
    if (!hadIt && this.reportedMissing) return;
    this.reportedMissing = true;
    const keeping = this.snapshot ? `keeping policy "${this.snapshot.policy.name}" (generation ${this.snapshot.generation})` : 'no policy is loaded';
    this.options.logger.warn(`policy ConfigMap ${namespace}/${name} ${what}; ${keeping}`, { configMap: `${namespace}/${name}` });
  }

  private judge(configMap: V1ConfigMap): void {
    this.present = true;
    this.reportedMissing = false;
    const version = configMap.metadata?.resourceVersion ?? '';
    if (version !== '' && version === this.lastJudgedVersion) return;
    this.lastJudgedVersion = version;
    const identity: ConfigMapIdentity = {
      namespace: this.options.configMap.namespace,
      name: this.options.configMap.name,
      uid: configMap.metadata?.uid,
      resourceVersion: version,
    };
    const document = policyTextOfConfigMap(configMap.data);
    if (!document.ok) {
      this.refuse(identity, [document.error]);
      return;
    }
    const text = document.text;
    // Whatever was being parsed is older than this version: it must not be applied after it.
    this.parsing.cancel();
    // Labels, annotations or other keys changed: same policy, same generation.
    if (text === this.acceptedText) return;
    this.parsing.run(
      (signal) => this.options.parsePolicy(text, signal),
      (parsed) => this.settle(identity, text, parsed),
      (error) => this.settle(identity, text, { ok: false, errors: [{ path: `data.${POLICY_KEY}`, message: `the policy parser failed: ${(error as Error).message}` }] }),
    );
  }

  private settle(identity: ConfigMapIdentity, text: string, parsed: PolicyParseResult): void {
    this.accept(identity, text, parsed);
    this.options.onJudged?.();
  }

  private accept(identity: ConfigMapIdentity, text: string, parsed: PolicyParseResult): void {
    const version = identity.resourceVersion;
    if (!parsed.ok) {
      this.refuse(identity, parsed.errors);
      return;
    }
    const generation = (this.snapshot?.generation ?? 0) + 1;
    this.snapshot = { policy: parsed.policy, generation };
    this.acceptedText = text;
    this.options.metrics.setPolicyGeneration(generation);
    this.options.logger.info('policy loaded', {
      configMap: `${identity.namespace}/${identity.name}`,
      resourceVersion: version,
      policy: parsed.policy.name,
      mode: parsed.policy.mode,
      generation,
      warnings: parsed.warnings,
    });
    const warnings = parsed.warnings.length > 0 ? ` with warnings: ${parsed.warnings.join('; ')}` : '';
    this.record(identity, { type: 'Normal', reason: 'PolicyLoaded', message: `policy "${parsed.policy.name}" is in use (generation ${generation})${warnings}` });
  }

  private refuse(identity: ConfigMapIdentity, errors: readonly PolicyError[]): void {
    const keeping = this.snapshot ? `keeping policy "${this.snapshot.policy.name}" (generation ${this.snapshot.generation})` : 'no policy is loaded';
    this.options.metrics.countPolicyReloadError();
    for (const error of errors) {
      this.options.logger.error(`policy error: ${describePolicyError(error)}`, {
        configMap: `${identity.namespace}/${identity.name}`,
        resourceVersion: identity.resourceVersion,
        path: error.path,
      });
    }
    this.options.logger.error(`policy change refused (${errors.length} error${errors.length === 1 ? '' : 's'}); ${keeping}`, {
      configMap: `${identity.namespace}/${identity.name}`,
      resourceVersion: identity.resourceVersion,
    });
    this.record(identity, {
      type: 'Warning',
      reason: 'PolicyRejected',
      message: `data.${POLICY_KEY} refused, ${keeping}: ${describePolicyErrors(errors)}`,
    });
  }

  private record(identity: ConfigMapIdentity, event: PolicyEvent): void {
    // An Event is a courtesy: failing to write one must not affect the policy decision.
    this.options.events.record(identity, event).catch((error: unknown) => {
      this.options.logger.warn('could not record an Event on the policy ConfigMap', {
        configMap: `${identity.namespace}/${identity.name}`,
        reason: event.reason,
        error: error instanceof Error ? error.message : String(error),
      });
    });
  }
}
