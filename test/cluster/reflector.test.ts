import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { backoffDelayMs } from '../../src/foundation/backoff.js';
import { Reflector, type WatchEventType } from '../../src/cluster/reflector.js';
import { RecordingLogger } from '../server/webhook-harness.js';
import { FakeListWatch } from './fake-list-watch.js';
import { ManualClock } from './manual-clock.js';

interface Item {
  metadata: { name: string; resourceVersion: string };
}
const item = (name: string, resourceVersion: string): Item => ({ metadata: { name, resourceVersion } });

function setup() {
  const clock = new ManualClock();
  const listWatch = new FakeListWatch<Item>();
  const seen: Array<string> = [];
  const logger = new RecordingLogger();
  const reflector = new Reflector<Item>({
    name: 'things',
    listWatch,
    clock,
    logger,
    random: () => 1, // the top of the jitter range: delays are exactly the exponential steps
    backoff: { initialMs: 100, maxMs: 400 },
    minWatchTimeoutSeconds: 60,
    handlers: {
      replace: (items) => seen.push(`replace ${items.map((i) => i.metadata.name).join(',')}`),
      apply: (type: WatchEventType, object) => seen.push(`${type} ${object.metadata.name}`),
    },
  });
  return { clock, listWatch, seen, reflector, logger };
}

describe('Reflector', () => {
  it('lists, then watches from the list resourceVersion and applies events', async () => {
    const { clock, listWatch, seen, reflector } = setup();
    listWatch.listAnswers.push({ items: [item('a', '5')], resourceVersion: '10' });
    reflector.start();
    await clock.advance(0);
    expect(reflector.hasSynced()).toBe(true);
    expect(listWatch.lastWatch().resourceVersion).toBe('10');
    expect(listWatch.lastWatch().timeoutSeconds).toBe(120);
    listWatch.lastWatch().callbacks.onEvent('ADDED', item('b', '11'));
    listWatch.lastWatch().callbacks.onEvent('BOOKMARK', { metadata: { resourceVersion: '15' } });
    listWatch.lastWatch().callbacks.onEvent('DELETED', item('a', '16'));
    expect(seen).toEqual(['replace a', 'ADDED b', 'DELETED a']);

    // The server ends the watch on schedule: resume at once from the last resourceVersion, no relist.
    await clock.advance(60_000);
    listWatch.lastWatch().callbacks.onClose(null);
    await clock.advance(0);
    expect(listWatch.listCalls).toBe(1);
    expect(listWatch.watches).toHaveLength(2);
    expect(listWatch.lastWatch().resourceVersion).toBe('16');
  });

  it('relists after a watch error with capped exponential backoff, and resets once the watch works', async () => {
    const { clock, listWatch, seen, reflector, logger } = setup();
    listWatch.listAnswers.push({ items: [], resourceVersion: '1' });
    reflector.start();
    await clock.advance(0);
    listWatch.lastWatch().callbacks.onClose(new Error('ECONNRESET'));
    await clock.advance(0);
    expect(clock.pendingDelays()).toEqual([100]);
    // Then the API server is down for a while: lists fail.
    listWatch.listAnswers.push(new Error('ECONNREFUSED'), new Error('ECONNREFUSED'), new Error('ECONNREFUSED'));
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      delays.push(clock.pendingDelays()[0]!);
      await clock.advance(clock.pendingDelays()[0]!);
    }
    delays.push(clock.pendingDelays()[0]!);
    expect(delays).toEqual([100, 200, 400, 400]);
    expect(logger.entries.filter((e) => e.level === 'warn').map((e) => e.fields.attempt)).toEqual([1, 2, 3, 4]);

    listWatch.listAnswers.push({ items: [item('x', '7')], resourceVersion: '20' });
    await clock.advance(400);
    expect(seen[seen.length - 1]).toBe('replace x');
    listWatch.lastWatch().callbacks.onEvent('MODIFIED', item('x', '21'));
    listWatch.lastWatch().callbacks.onClose(new Error('ECONNRESET'));
    await clock.advance(0);
    expect(clock.pendingDelays()).toEqual([100]);
  });

  it('relists at once when the watch says 410 Gone', async () => {
    const { clock, listWatch, reflector } = setup();
    listWatch.listAnswers.push({ items: [], resourceVersion: '1' }, { items: [item('fresh', '900')], resourceVersion: '900' });
    reflector.start();
    await clock.advance(0);
    const first = listWatch.lastWatch();
    first.callbacks.onEvent('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 1 (500)' });
    await clock.advance(0);
    expect(first.stopped).toBe(true);
    expect(listWatch.listCalls).toBe(2);
    expect(listWatch.lastWatch().resourceVersion).toBe('900');
  });

  it('restarts a watch that goes silent past its timeout', async () => {
    const { clock, listWatch, reflector } = setup();
    listWatch.listAnswers.push({ items: [], resourceVersion: '1' }, { items: [], resourceVersion: '2' });
    reflector.start();
    await clock.advance(0);
    const silent = listWatch.lastWatch();
    await clock.advance((silent.timeoutSeconds + 30) * 1000 - 1);
    expect(silent.stopped).toBe(false);
    await clock.advance(1);
    expect(silent.stopped).toBe(true);
    await clock.advance(100);
    expect(listWatch.listCalls).toBe(2);
    expect(listWatch.watches).toHaveLength(2);
  });

  it('treats a watch that closes at once without a word as a failure, not a timeout', async () => {
    const { clock, listWatch, reflector } = setup();
    listWatch.listAnswers.push({ items: [], resourceVersion: '1' });
    reflector.start();
    await clock.advance(0);
    listWatch.lastWatch().callbacks.onClose(null);
    await clock.advance(0);
    expect(listWatch.watches).toHaveLength(1);
    expect(clock.pendingDelays()).toEqual([100]);
  });

  it('does nothing more after stop, even when an old watch reports late', async () => {
    const { clock, listWatch, seen, reflector } = setup();
    listWatch.listAnswers.push({ items: [], resourceVersion: '1' });
    reflector.start();
    await clock.advance(0);
    const watch = listWatch.lastWatch();
    reflector.stop();
    expect(watch.stopped).toBe(true);
    watch.callbacks.onEvent('ADDED', item('late', '2'));
    watch.callbacks.onClose(new Error('aborted'));
    await clock.advance(60_000);
    expect(seen).toEqual(['replace ']);
    expect(listWatch.listCalls).toBe(1);
    expect(clock.pendingDelays()).toEqual([]);
  });
});

describe('backoffDelayMs', () => {
  it('stays within [step/2, step], never exceeds the cap, and never shrinks as attempts grow', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 600_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, initialMs, maxMs, r) => {
        const settings = { initialMs, maxMs };
        const step = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30));
        const delay = backoffDelayMs(attempt, settings, () => r);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(step / 2));
        expect(delay).toBeLessThanOrEqual(Math.min(step, maxMs));
        expect(backoffDelayMs(attempt + 1, settings, () => r)).toBeGreaterThanOrEqual(delay);
      }),
    );
  });
});
