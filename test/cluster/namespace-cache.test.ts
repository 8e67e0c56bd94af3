import { describe, expect, it } from '@jest/globals';
import { NamespaceCache } from '../../src/cluster/namespace-cache.js';
import type { NamespaceInfo } from '../../src/engine/model.js';

const ns = (name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}) => ({ metadata: { name, labels, annotations, resourceVersion: '1' } });

describe('NamespaceCache', () => {
  it('answers from the watched set, following adds, updates and deletes', async () => {
    const reads: string[] = [];
    const cache = new NamespaceCache(async (name) => {
      reads.push(name);
      return null;
    });
    cache.replace([ns('a', { team: 'x' })]);
    expect(await cache.lookup('a')).toEqual({ name: 'a', labels: { team: 'x' }, annotations: {} });
    cache.apply('MODIFIED', ns('a', { team: 'y' }));
    expect((await cache.lookup('a'))?.labels).toEqual({ team: 'y' });
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

  it('passes a failing read on to the caller (the webhook applies its failure policy)', async () => {
    const cache = new NamespaceCache(async () => {
      throw new Error('connect ECONNREFUSED');
    });
    await expect(cache.lookup('x')).rejects.toThrow('connect ECONNREFUSED');
  });

  it('drops the last-applied-configuration annotation but keeps the rest', async () => {
    const cache = new NamespaceCache(async () => null);
    cache.replace([ns('a', {}, { 'kubectl.kubernetes.io/last-applied-configuration': '{"huge":true}', 'secure-defaults.io/uid-range': '1000-1999' })]);
    expect((await cache.lookup('a'))?.annotations).toEqual({ 'secure-defaults.io/uid-range': '1000-1999' });
  });
});
