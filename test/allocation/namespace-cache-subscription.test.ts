// The namespace cache as the source Pods wait on and the allocator's change feed.
import { describe, expect, it } from '@jest/globals';
import type { V1Namespace } from '@kubernetes/client-node';
import { namespaceChangesFrom } from '../../src/cluster/kube-allocator-run.js';
import { NamespaceCache } from '../../src/cluster/namespace-cache.js';

const ns = (name: string, annotations: Record<string, string> = {}): V1Namespace => ({ metadata: { name, labels: {}, annotations, resourceVersion: '1' } });

describe('NamespaceCache subscriptions', () => {
  it('tells subscribers of adds, updates and every namespace of a relist, not of deletes', () => {
    const cache = new NamespaceCache(async () => null);
    const seen: string[] = [];
    cache.subscribe((info) => seen.push(`${info.name}:${info.annotations['secure-defaults.io/uid-range'] ?? '-'}`));
    cache.replace([ns('a'), ns('b')]);
    cache.apply('ADDED', ns('c'));
    cache.apply('MODIFIED', ns('c', { 'secure-defaults.io/uid-range': '1000-1999' }));
    cache.apply('DELETED', ns('a'));
    expect(seen).toEqual(['a:-', 'b:-', 'c:-', 'c:1000-1999']);
    expect(cache.get('c')?.annotations).toEqual({ 'secure-defaults.io/uid-range': '1000-1999' });
    expect(cache.get('a')).toBeUndefined();
  });

  it('get never reads the API server, unlike lookup', async () => {
    const reads: string[] = [];
    const cache = new NamespaceCache(async (name) => {
      reads.push(name);
      return { name, labels: {}, annotations: {} };
    });
    expect(cache.get('elsewhere')).toBeUndefined();
    expect(reads).toEqual([]);
    expect(await cache.lookup('elsewhere')).not.toBeNull();
    expect(reads).toEqual(['elsewhere']);
  });

  it('stops telling an unsubscribed listener, and one throwing listener does not silence the others', () => {
    const cache = new NamespaceCache(async () => null);
    const seen: string[] = [];
    const stop = cache.subscribe((info) => seen.push(`first ${info.name}`));
    cache.subscribe(() => {
      throw new Error('listener bug');
    });
    cache.subscribe((info) => seen.push(`last ${info.name}`));
    cache.apply('ADDED', ns('x'));
    stop();
    cache.apply('ADDED', ns('y'));
    expect(seen).toEqual(['first x', 'last x', 'last y']);
  });

  it('serves as the allocator change feed until stopped', () => {
    const cache = new NamespaceCache(async () => null);
    let changes = 0;
    const feed = namespaceChangesFrom(cache)(() => (changes += 1));
    cache.apply('ADDED', ns('x'));
    cache.apply('MODIFIED', ns('x'));
    feed.stop();
    cache.apply('MODIFIED', ns('x'));
    expect(changes).toBe(2);
  });
});
