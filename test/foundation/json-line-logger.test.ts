import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createJsonLineLogger } from '../../src/foundation/json-line-logger.js';
import type { LogLevel } from '../../src/foundation/logger.js';

const NOW = Date.UTC(2026, 10, 27, 13, 0, 0, 123);

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A logger whose writes are recorded; `lines` splits them, once the turn's batch has been written. */
function capture(level: LogLevel) {
  const writes: string[] = [];
  const logger = createJsonLineLogger({ level, write: (text) => writes.push(text), now: () => NOW });
  const lines = (): string[] => writes.join('').split(/(?<=\n)/).filter((line) => line !== '');
  const parsed = async (): Promise<Array<Record<string, unknown>>> => {
    await nextTurn();
    return lines().map((line) => JSON.parse(line) as Record<string, unknown>);
  };
  return { logger, writes, lines, parsed };
}

describe('createJsonLineLogger', () => {
  it('writes one JSON object per line with level, message, timestamp and the fields', async () => {
    const { logger, lines, parsed } = capture('info');
    logger.info('admission decision', { uid: 'u1', allowed: true, injected: ['spec.securityContext.runAsUser'], durationMs: 0.25 });
    logger.warn('no fields');
    const entries = await parsed();
    expect(lines()).toHaveLength(2);
    for (const line of lines()) expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(entries).toEqual([
      { level: 'info', message: 'admission decision', timestamp: '2026-11-27T13:00:00.123Z', uid: 'u1', allowed: true, injected: ['spec.securityContext.runAsUser'], durationMs: 0.25 },
      { level: 'warn', message: 'no fields', timestamp: '2026-11-27T13:00:00.123Z' },
    ]);
  });

  it.each([
    ['error', ['error']],
    ['warn', ['error', 'warn']],
    ['info', ['error', 'warn', 'info']],
    ['debug', ['error', 'warn', 'info', 'debug']],
  ] as const)('at level %s writes only %j', async (level, written) => {
    const { logger, parsed } = capture(level);
    logger.debug('d', {});
    logger.info('i', {});
    logger.warn('w', {});
    logger.error('e', {});
    expect((await parsed()).map((entry) => entry.level).sort()).toEqual([...written].sort());
  });

  it('keeps a line valid whatever the message holds', async () => {
    const { logger, lines, parsed } = capture('info');
    logger.info('quote " backslash \\ newline \n tab \t unicode \u2028 é');
    const entries = await parsed();
    expect(lines()).toHaveLength(1);
    expect(entries[0]!.message).toBe('quote " backslash \\ newline \n tab \t unicode \u2028 é');
  });

  it('does not let a field overwrite level, message or timestamp', async () => {
    const { logger, parsed } = capture('info');
    logger.info('real message', { level: 'error', message: 'fake', timestamp: 'never', other: 1 });
    expect((await parsed())[0]).toEqual({
      level: 'info',
      message: 'real message',
      timestamp: '2026-11-27T13:00:00.123Z',
      'field.level': 'error',
      'field.message': 'fake',
      'field.timestamp': 'never',
      other: 1,
    });
  });

  it('writes an Error field as its message, not as {}', async () => {
    const { logger, parsed } = capture('info');
    logger.error('watch failed', { error: new Error('connection refused'), attempt: 3 });
    expect((await parsed())[0]).toMatchObject({ error: 'connection refused', attempt: 3 });
  });

  it('never throws on fields JSON cannot hold, and says so in the line', async () => {
    const { logger, parsed } = capture('info');
    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle.self = cycle;
    expect(() => logger.info('cyclic', { cycle })).not.toThrow();
    expect(() => logger.info('bigint', { big: 10n })).not.toThrow();
    const [first, second] = await parsed();
    expect(first).toMatchObject({ level: 'info', message: 'cyclic' });
    expect(first!.logError).toMatch(/could not be written as JSON/);
    expect(second!.logError).toMatch(/BigInt/);
  });

  it('writes the lines of one turn in one write, in order, and nothing before the turn ends', async () => {
    const { logger, writes, parsed } = capture('info');
    for (let i = 0; i < 50; i++) logger.info('decision', { i });
    expect(writes).toEqual([]);
    const entries = await parsed();
    expect(writes).toHaveLength(1);
    expect(entries.map((entry) => entry.i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    logger.warn('next turn');
    await nextTurn();
    expect(writes).toHaveLength(2);
  });

  it('writes a turn\'s lines early once they pass 64 KiB, so a busy turn cannot buffer without bound', async () => {
    const { logger, writes, lines } = capture('info');
    const big = 'x'.repeat(1000);
    for (let i = 0; i < 200; i++) logger.info('big', { big, i });
    expect(writes.length).toBeGreaterThanOrEqual(2);
    for (const text of writes) expect(text.length).toBeLessThan(64 * 1024 + 2000);
    await nextTurn();
    expect(lines().map((line) => (JSON.parse(line) as { i: number }).i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('writes any JSON fields back exactly (property)', async () => {
    const key = fc.string({ maxLength: 12 }).filter((k) => !['level', 'message', 'timestamp', '__proto__'].includes(k));
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }), async (message, fields) => {
        const { logger, lines } = capture('debug');
        logger.debug(message, fields);
        await nextTurn();
        expect(lines()).toHaveLength(1);
        // Compared through a JSON round trip: -0 and 0 are the same number in a log line.
        expect(JSON.parse(lines()[0]!)).toEqual(JSON.parse(JSON.stringify({ level: 'debug', message, timestamp: '2026-11-27T13:00:00.123Z', ...fields })));
      }),
    );
  });
});
