import { beforeEach, describe, expect, it } from '@jest/globals';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { ConfigMapPolicySource } from '../../src/cluster/config-map-policy-source.js';
import type { ConfigMapIdentity, PolicyEvent } from '../../src/cluster/policy-event-recorder.js';
import { parsePolicy } from '../../src/engine/index.js';
import type { PolicyParseResult } from '../../src/engine/model.js';
import { RecordingLogger } from '../server/webhook-harness.js';
import { BROKEN_POLICY, policyYaml } from './policy-fixtures.js';

function configMap(resourceVersion: string, data: Record<string, string> | undefined, labels: Record<string, string> = {}): V1ConfigMap {
  return { metadata: { namespace: 'secure-defaults', name: 'policy', uid: 'cm-uid', resourceVersion, labels }, data };
}

describe('ConfigMapPolicySource', () => {
  let logger: RecordingLogger;
  let events: Array<{ configMap: ConfigMapIdentity; event: PolicyEvent }>;
  let reloadErrors: number;
  let generationGauge: number;
  let source: ConfigMapPolicySource;
  let eventsFail: boolean;

  beforeEach(() => {
    logger = new RecordingLogger();
    events = [];
    reloadErrors = 0;
    generationGauge = 0;
    eventsFail = false;
    source = new ConfigMapPolicySource({
      configMap: { namespace: 'secure-defaults', name: 'policy' },
      parsePolicy,
      logger,
      metrics: { countPolicyReloadError: () => reloadErrors++, setPolicyGeneration: (g) => (generationGauge = g) },
      events: {
        record: async (cm, event) => {
          if (eventsFail) throw new Error('events is forbidden');
          events.push({ configMap: cm, event });
        },
      },
    });
  });

  it('has no policy until the ConfigMap is read, then serves generation 1', () => {
    expect(source.current()).toBeNull();
    source.replace([configMap('1', { 'policy.yaml': policyYaml('first') })]);
    expect(source.current()?.policy.name).toBe('first');
    expect(source.current()?.generation).toBe(1);
    expect(generationGauge).toBe(1);
    expect(events.map((e) => e.event.reason)).toEqual(['PolicyLoaded']);
  });

  it('takes a valid edit as the next generation', () => {
    source.replace([configMap('1', { 'policy.yaml': policyYaml('first') })]);
    source.apply('MODIFIED', configMap('2', { 'policy.yaml': policyYaml('second') }));
    expect(source.current()).toMatchObject({ generation: 2, policy: { name: 'second' } });
  });

  it('refuses a broken edit as a whole: keeps the last good policy, logs each error with its path, counts it, records a Warning Event', async () => {
    source.replace([configMap('1', { 'policy.yaml': policyYaml('good') })]);
    source.apply('MODIFIED', configMap('2', { 'policy.yaml': BROKEN_POLICY }));
    await Promise.resolve();
    expect(source.current()).toMatchObject({ generation: 1, policy: { name: 'good' } });
    expect(reloadErrors).toBe(1);
    const errorLines = logger.entries.filter((e) => e.level === 'error');
    expect(errorLines.some((e) => e.fields.path === 'spec.fallback.uidRange' && e.message.startsWith('policy error: spec.fallback.uidRange: '))).toBe(true);
    expect(errorLines.some((e) => /policy change refused .*keeping policy "good" \(generation 1\)/.test(e.message))).toBe(true);
    const warning = events.find((e) => e.event.type === 'Warning');
    expect(warning?.event.reason).toBe('PolicyRejected');
    expect(warning?.event.message).toMatch(/^data.policy.yaml refused, keeping policy "good" \(generation 1\): spec.fallback.uidRange: /);
    expect(warning?.configMap).toEqual({ namespace: 'secure-defaults', name: 'policy', uid: 'cm-uid', resourceVersion: '2' });
  });

  it('judges each version once: a relist delivering the same broken version records nothing new', () => {
    source.replace([configMap('1', { 'policy.yaml': policyYaml('good') })]);
    source.apply('MODIFIED', configMap('2', { 'policy.yaml': BROKEN_POLICY }));
    source.replace([configMap('2', { 'policy.yaml': BROKEN_POLICY })]);
    expect(reloadErrors).toBe(1);
    expect(events.filter((e) => e.event.type === 'Warning')).toHaveLength(1);
  });

  it('refuses a ConfigMap without the policy.yaml key, naming it', () => {
    source.replace([configMap('1', { other: 'x' })]);
    expect(source.current()).toBeNull();
    expect(events[0]?.event.message).toMatch(/data\.policy\.yaml: missing \(its data keys are "other"\); put the policy document under the key "policy\.yaml"/);
  });

  it('keeps the generation when only labels change', () => {
    source.replace([configMap('1', { 'policy.yaml': policyYaml('good') })]);
    source.apply('MODIFIED', configMap('2', { 'policy.yaml': policyYaml('good') }, { team: 'platform' }));
    expect(source.current()?.generation).toBe(1);
    expect(events).toHaveLength(1);
  });

  it('keeps the last good policy when the ConfigMap is deleted, and says so', () => {
    source.replace([configMap('1', { 'policy.yaml': policyYaml('good') })]);
    source.apply('DELETED', configMap('3', { 'policy.yaml': policyYaml('good') }));
    expect(source.current()?.policy.name).toBe('good');
    expect(logger.entries.some((e) => e.level === 'warn' && /was deleted; keeping policy "good"/.test(e.message))).toBe(true);
    source.replace([]);
    expect(source.current()?.policy.name).toBe('good');
  });

  it('ignores other ConfigMaps', () => {
    source.apply('ADDED', { metadata: { namespace: 'secure-defaults', name: 'other', resourceVersion: '5' }, data: { 'policy.yaml': BROKEN_POLICY } });
    expect(reloadErrors).toBe(0);
  });

  it('still refuses and keeps serving when the Event cannot be written', async () => {
    eventsFail = true;
    source.replace([configMap('1', { 'policy.yaml': policyYaml('good') })]);
    source.apply('MODIFIED', configMap('2', { 'policy.yaml': BROKEN_POLICY }));
    await new Promise((r) => setImmediate(r));
    expect(source.current()?.policy.name).toBe('good');
    expect(logger.entries.some((e) => e.message === 'could not record an Event on the policy ConfigMap' && e.fields.error === 'events is forbidden')).toBe(true);
  });
});

describe('ConfigMapPolicySource with a parse that answers later (a worker thread)', () => {
  /** A parser whose answers the test releases, in any order; it ignores the abort, as a late worker message would. */
  function heldParser() {
    const held: Array<{ text: string; release: () => void; aborted: () => boolean }> = [];
    const parse = (text: string, signal?: AbortSignal) =>
      new Promise<PolicyParseResult>((resolve) => held.push({ text, release: () => resolve(parsePolicy(text)), aborted: () => signal?.aborted ?? false }));
    return { held, parse };
  }

  function sourceWith(parse: (text: string, signal?: AbortSignal) => Promise<PolicyParseResult>) {
    const logger = new RecordingLogger();
    const events: PolicyEvent[] = [];
    let judged = 0;
    const source = new ConfigMapPolicySource({
      configMap: { namespace: 'secure-defaults', name: 'policy' },
      parsePolicy: parse,
      logger,
      metrics: { countPolicyReloadError: () => undefined, setPolicyGeneration: () => undefined },
      events: { record: async (_cm, event) => void events.push(event) },
      onJudged: () => judged++,
    });
    return { source, logger, events, judged: () => judged };
  }

  it('keeps the last good policy while a version parses, then switches to it whole', async () => {
    const { held, parse } = heldParser();
    const { source, judged } = sourceWith(parse);
    source.replace([configMap('1', { 'policy.yaml': policyYaml('first') })]);
    held[0]!.release();
    await source.settled();
    source.apply('MODIFIED', configMap('2', { 'policy.yaml': policyYaml('second') }));
    expect(source.current()).toMatchObject({ generation: 1, policy: { name: 'first' } });
    held[1]!.release();
    await source.settled();
    expect(source.current()).toMatchObject({ generation: 2, policy: { name: 'second' } });
    expect(judged()).toBe(2);
  });

  it('never applies an older version whose parse finishes after a newer one', async () => {
    const { held, parse } = heldParser();
    const { source, logger, events } = sourceWith(parse);
    source.replace([configMap('1', { 'policy.yaml': policyYaml('first') })]);
    held[0]!.release();
    await source.settled();
    source.apply('MODIFIED', configMap('2', { 'policy.yaml': policyYaml('older') }));
    source.apply('MODIFIED', configMap('3', { 'policy.yaml': policyYaml('newer') }));
    expect(held.map((h) => h.aborted())).toEqual([false, true, false]);
    held[2]!.release();
    await source.settled();
    held[1]!.release();
    await new Promise((r) => setTimeout(r, 10));
    expect(source.current()).toMatchObject({ generation: 2, policy: { name: 'newer' } });
    expect(logger.entries.filter((e) => e.message === 'policy loaded').map((e) => e.fields.policy)).toEqual(['first', 'newer']);
    expect(events.map((e) => e.reason)).toEqual(['PolicyLoaded', 'PolicyLoaded']);
  });

  it('drops a parse when the next version goes back to the policy in force, or the ConfigMap is deleted', async () => {
    const { held, parse } = heldParser();
    const { source } = sourceWith(parse);
    source.replace([configMap('1', { 'policy.yaml': policyYaml('first') })]);
    held[0]!.release();
    await source.settled();
    source.apply('MODIFIED', configMap('2', { 'policy.yaml': policyYaml('passing') }));
    source.apply('MODIFIED', configMap('3', { 'policy.yaml': policyYaml('first') }));
    source.apply('MODIFIED', configMap('4', { 'policy.yaml': policyYaml('deleted-before-parsed') }));
    source.apply('DELETED', configMap('4', { 'policy.yaml': policyYaml('deleted-before-parsed') }));
    for (const h of held) h.release();
    await new Promise((r) => setTimeout(r, 10));
    expect(held).toHaveLength(3);
    expect(source.current()).toMatchObject({ generation: 1, policy: { name: 'first' } });
  });

  it('refuses a version whose parser rejects, keeping the last good policy', async () => {
    let calls = 0;
    const { source, logger } = sourceWith(async (text) => {
      if (++calls === 2) throw new Error('worker gone');
      return parsePolicy(text);
    });
    source.replace([configMap('1', { 'policy.yaml': policyYaml('first') })]);
    await source.settled();
    source.apply('MODIFIED', configMap('2', { 'policy.yaml': policyYaml('second') }));
    await source.settled();
    expect(source.current()).toMatchObject({ generation: 1, policy: { name: 'first' } });
    expect(logger.entries.some((e) => e.message === 'policy error: data.policy.yaml: the policy parser failed: worker gone')).toBe(true);
  });
});
