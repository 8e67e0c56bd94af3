import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createJsonLineLogger, type LogLevel } from '../../src/server/logger.js';

const NOW = Date.UTC(2026, 10, 27, 13, 0, 0, 123);

function capture(level: LogLevel) {
  const lines: string[] = [];
  const logger = createJsonLineLogger({ level, write: (line) => lines.push(line), now: () => NOW });
  return { logger, lines, parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('createJsonLineLogger', () => {
  it('writes one JSON object per line with level, message, timestamp and the fields', () => {
    const { logger, lines, parsed } = capture('info');
    logger.info('admission decision', { uid: 'u1', allowed: true, injected: ['spec.securityContext.runAsUser'], durationMs: 0.25 });
    logger.warn('no fields');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(parsed()).toEqual([
      { level: 'info', message: 'admission decision', timestamp: '2026-11-27T13:00:00.123Z', uid: 'u1', allowed: true, injected: ['spec.securityContext.runAsUser'], durationMs: 0.25 },
      { level: 'warn', message: 'no fields', timestamp: '2026-11-27T13:00:00.123Z' },
    ]);
  });

  it.each([
    ['error', ['error']],
    ['warn', ['error', 'warn']],
    ['info', ['error', 'warn', 'info']],
    ['debug', ['error', 'warn', 'info', 'debug']],
  ] as const)('at level %s writes only %j', (level, written) => {
    const { logger, parsed } = capture(level);
    logger.debug('d', {});
    logger.info('i', {});
    logger.warn('w', {});
    logger.error('e', {});
    expect(parsed().map((entry) => entry.level).sort()).toEqual([...written].sort());
  });

  it('keeps a line valid whatever the message holds', () => {
    const { logger, lines, parsed } = capture('info');
    logger.info('quote " backslash \\ newline \n tab \t unicode \u2028 é');
    expect(lines[0]!.split('\n')).toHaveLength(2);
    expect(parsed()[0]!.message).toBe('quote " backslash \\ newline \n tab \t unicode \u2028 é');
  });

  it('does not let a field overwrite level, message or timestamp', () => {
    const { logger, parsed } = capture('info');
    logger.info('real message', { level: 'error', message: 'fake', timestamp: 'never', other: 1 });
    expect(parsed()[0]).toEqual({
      level: 'info',
      message: 'real message',
      timestamp: '2026-11-27T13:00:00.123Z',
      'field.level': 'error',
      'field.message': 'fake',
      'field.timestamp': 'never',
      other: 1,
    });
  });

  it('writes an Error field as its message, not as {}', () => {
    const { logger, parsed } = capture('info');
    logger.error('watch failed', { error: new Error('connection refused'), attempt: 3 });
    expect(parsed()[0]).toMatchObject({ error: 'connection refused', attempt: 3 });
  });

  it('never throws on fields JSON cannot hold, and says so in the line', () => {
    const { logger, parsed } = capture('info');
    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle.self = cycle;
    expect(() => logger.info('cyclic', { cycle })).not.toThrow();
    expect(() => logger.info('bigint', { big: 10n })).not.toThrow();
    const [first, second] = parsed();
    expect(first).toMatchObject({ level: 'info', message: 'cyclic' });
    expect(first!.logError).toMatch(/could not be written as JSON/);
    expect(second!.logError).toMatch(/BigInt/);
  });

  it('writes any JSON fields back exactly (property)', () => {
    const key = fc.string({ maxLength: 12 }).filter((k) => !['level', 'message', 'timestamp', '__proto__'].includes(k));
    fc.assert(
      fc.property(fc.string(), fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }), (message, fields) => {
        const { logger, lines } = capture('debug');
        logger.debug(message, fields);
        expect(lines).toHaveLength(1);
        // Compared through a JSON round trip: -0 and 0 are the same number in a log line.
        expect(JSON.parse(lines[0]!)).toEqual(JSON.parse(JSON.stringify({ level: 'debug', message, timestamp: '2026-11-27T13:00:00.123Z', ...fields })));
      }),
    );
  });
});
