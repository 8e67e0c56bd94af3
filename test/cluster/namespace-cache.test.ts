import { describe, expect, it } from '@jest/globals';
import { NamespaceCache, NOT_OPTED_IN_RECHECK_MS } from '../../src/cluster/namespace-cache.js';
import type { NamespaceInfo } from '../../src/engine/model.js';

const OPT_IN = 'secure-defaults.io/inject';
const ns = (name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}) => ({ metadata: { name, labels, annotations, resourceVersion: '1' } });

describe('NamespaceCache', () => {
  it('answers from the watched set, following adds, updates and deletes', async () => {
    const reads: string[] = [];
    const cache = new NamespaceCache(async (name) => {
      reads.push(name);
      return null;
    });
    cache.replace([ns('a', { [OPT_IN]: 'enabled', team: 'x' })]);
    expect(await cache.lookup('a')).toEqual({ name: 'a', labels: { [OPT_IN]: 'enabled', team: 'x' }, annotations: {} });
    cache.apply('MODIFIED', ns('a', { [OPT_IN]: 'enabled', team: 'y' }));
    expect((await cache.lookup('a'))?.labels).toEqual({ [OPT_IN]: 'enabled', team: 'y' });
    cache.apply('DELETED', ns('a'));
    expect(await cache.lookup('a')).toBeNull();
    expect(reads).toEqual(['a']);
  });

  it('falls back to a direct read for a namespace the watch has not delivered yet', async () => {
    const fresh: NamespaceInfo = { name: 'just-created', labels: { 'secure-defaults.io/inject': 'enabled' }, annotations: {} };
    const cache = new NamespaceCache(async (name) => (name === fresh.name ? fresh : null));
    cache.replace([]);
    expect(await cache.lookup('just-created')).toEqual(fresh);
    expect(await cache.lookup('never')).toBeNull();
  });

  it('re-reads a namespace it holds as not opted in (the label may be on its way), at most once per interval', async () => {
    const reads: string[] = [];
    let apiServerLabels: Record<string, string> = { [OPT_IN]: 'enabled' };
    let now = 1_000_000;
    const cache = new NamespaceCache(async (name) => {
      reads.push(name);
      return { name, labels: apiServerLabels, annotations: {} };
    }, () => now);
    cache.replace([ns('late', {})]);
    // The watch has not delivered the label yet; the API server already has it.
    expect((await cache.lookup('late'))?.labels).toEqual({ [OPT_IN]: 'enabled' });
    expect(reads).toEqual(['late']);
    // Within the interval the cached view is used, so a namespace that really is not opted in
    // cannot turn every Pod into an API call.
    apiServerLabels = {};
    now += NOT_OPTED_IN_RECHECK_MS - 1;
    expect((await cache.lookup('late'))?.labels).toEqual({});
    expect(reads).toEqual(['late']);
    now += 1;
    await cache.lookup('late');
    expect(reads).toEqual(['late', 'late']);
  });

  it('keeps the cached view when that re-read fails', async () => {
    const cache = new NamespaceCache(async () => {
      throw new Error('connect ECONNREFUSED');
    });
    cache.replace([ns('quiet', { team: 'x' })]);
    expect(await cache.lookup('quiet')).toEqual({ name: 'quiet', labels: { team: 'x' }, annotations: {} });
  });

  it('passes a failing read on to the caller (the webhook applies its failure policy)', async () => {
    const cache = new NamespaceCache(async () => {
      throw new Error('connect ECONNREFUSED');
    });
    await expect(cache.lookup('x')).rejects.toThrow('connect ECONNREFUSED');
  });

  it('drops the last-applied-configuration annotation but keeps the rest', async () => {
    const cache = new NamespaceCache(async () => null);
    cache.replace([ns('a', { [OPT_IN]: 'enabled' }, { 'kubectl.kubernetes.io/last-applied-configuration': '{"huge":true}', 'secure-defaults.io/uid-range': '1000-1999' })]);
    expect((await cache.lookup('a'))?.annotations).toEqual({ 'secure-defaults.io/uid-range': '1000-1999' });
  });
});
