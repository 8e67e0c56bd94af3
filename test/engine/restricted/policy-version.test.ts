// Policy versions read as Pod Security Admission reads its *-version labels.
import { describe, expect, it } from '@jest/globals';
import { LATEST_POLICY_MINOR, OLDEST_MODELLED_MINOR, parsePssVersion } from '../../../src/engine/restricted/index.js';

describe('parsePssVersion', () => {
  it.each([
    ['latest', LATEST_POLICY_MINOR],
    ['v1.35', 35],
    ['v1.37', 37],
    [`v1.${OLDEST_MODELLED_MINOR}`, OLDEST_MODELLED_MINOR],
    // PSA evaluates a version newer than it knows with its newest checks.
    ['v1.40', LATEST_POLICY_MINOR],
  ])('%s applies the v1.%s rules', (text, minor) => {
    const parsed = parsePssVersion(text);
    expect(parsed).toEqual({ ok: true, resolved: { version: text, minor } });
  });

  it('a version older than modelled is checked with the oldest modelled rules, and says so', () => {
    const parsed = parsePssVersion('v1.20');
    expect(parsed.ok && parsed.resolved.minor).toBe(OLDEST_MODELLED_MINOR);
    expect(parsed.ok && parsed.resolved.note).toBe('policy version v1.20 is older than v1.25, the oldest modelled; checked with the v1.25 rules');
  });

  it.each(['', 'v1', 'v1.035', 'v2.1', '1.35', 'V1.35', 'v1.35 ', 'latest\n', 'v1.-1', 'v1.99999999999'])('%j is refused with the forms accepted', (text) => {
    const parsed = parsePssVersion(text);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toContain('use "latest" or "v1.<minor>", e.g. "v1.35"');
  });

  it('a long bad value is shortened in the message', () => {
    const parsed = parsePssVersion('x'.repeat(100_000));
    expect(!parsed.ok && parsed.error.length).toBeLessThan(200);
  });
});
