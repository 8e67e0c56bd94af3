// The allocator process's log lines, written to a fake stream: the fields operators read (level,
// message, time, identity) on every line, the caller's fields after them, and no field that can
// pass for another replica's identity or rewrite the level.
import { describe, expect, it } from '@jest/globals';
import { createAllocatorLogger, type LineSink } from '../../src/cli/allocator-log.js';

const NOW = Date.UTC(2026, 11, 1, 9, 30, 0, 5);
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class FakeStream implements LineSink {
  readonly writes: string[] = [];
  write(text: string): boolean {
    this.writes.push(text);
    return true;
  }
  async lines(): Promise<Array<Record<string, unknown>>> {
    await nextTurn();
    const text = this.writes.join('');
    expect(text.endsWith('\n')).toBe(true);
    return text.slice(0, -1).split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

describe('createAllocatorLogger', () => {
  it('writes level, message, time and identity first on every line, then the fields, at every level', async () => {
    const stream = new FakeStream();
    const logger = createAllocatorLogger('allocator-a', stream, () => NOW);
    logger.info('pass', { outcome: 'done', allocated: 3, problems: 0 });
    logger.debug('lease renewed');
    logger.error('ledger write failed', { error: new Error('conflict') });
    const lines = await stream.lines();
    expect(lines).toEqual([
      { level: 'info', message: 'pass', time: '2026-12-01T09:30:00.005Z', identity: 'allocator-a', outcome: 'done', allocated: 3, problems: 0 },
      { level: 'debug', message: 'lease renewed', time: '2026-12-01T09:30:00.005Z', identity: 'allocator-a' },
      { level: 'error', message: 'ledger write failed', time: '2026-12-01T09:30:00.005Z', identity: 'allocator-a', error: 'conflict' },
    ]);
    expect(Object.keys(lines[0]!).slice(0, 4)).toEqual(['level', 'message', 'time', 'identity']);
    // One turn, one write: the lines of a pass reach stdout together.
    expect(stream.writes).toHaveLength(1);
  });

  it('a field named like a line field is kept aside, never taking over identity, level or time', async () => {
    const stream = new FakeStream();
    const logger = createAllocatorLogger('allocator-b', stream, () => NOW);
    logger.warn('lost the lease', { identity: 'allocator-a', level: 'info', time: 'never', message: 'other', holder: 'allocator-a' });
    const [line] = await stream.lines();
    expect(line).toEqual({
      level: 'warn',
      message: 'lost the lease',
      time: '2026-12-01T09:30:00.005Z',
      identity: 'allocator-b',
      'field.identity': 'allocator-a',
      'field.level': 'info',
      'field.time': 'never',
      'field.message': 'other',
      holder: 'allocator-a',
    });
  });

  it('an identity that needs escaping still makes one valid line', async () => {
    const stream = new FakeStream();
    createAllocatorLogger('node "7"\nsecond line', stream, () => NOW).info('allocator started', { namespace: 'secure-defaults' });
    const lines = await stream.lines();
    expect(lines).toEqual([{ level: 'info', message: 'allocator started', time: '2026-12-01T09:30:00.005Z', identity: 'node "7"\nsecond line', namespace: 'secure-defaults' }]);
  });
});
