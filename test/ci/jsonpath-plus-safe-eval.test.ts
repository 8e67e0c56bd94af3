// @kubernetes/client-node evaluates kubeconfig auth-provider paths (token-key, expiry-key) with
// jsonpath-plus. 10.4.0, the newest 10.x, runs a crafted path as JavaScript in its default "safe"
// mode; package.json "overrides" pins 11.3.0. This runs upstream's own exploit payloads (harmless:
// they set a global) against the copy client-node actually loads, so dropping the override fails here.
import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const CLIENT_NODE = fileURLToPath(new URL('../../node_modules/@kubernetes/client-node/package.json', import.meta.url));
const fromClientNode = createRequire(CLIENT_NODE);
const { JSONPath } = fromClientNode('jsonpath-plus') as { JSONPath: (options: { path: string; json: unknown }) => unknown };

const probe = globalThis as { JSONPATH_PROBE?: string };
const set = (tag: string): string => `globalThis.JSONPATH_PROBE="${tag}";0`;

describe('the jsonpath-plus that @kubernetes/client-node loads', () => {
  it('is a release with the 2026 safe-eval fixes', () => {
    const version = (fromClientNode('jsonpath-plus/package.json') as { version: string }).version;
    expect(Number(version.split('.')[0])).toBeGreaterThanOrEqual(11);
  });

  it.each([
    ['Function via getPrototypeOf(...).constructor', `$..[?(@.constructor[( @.getPrototypeOf(@).constructor('${set('direct')}')() )])]`],
    ['Function via .call', `$..[?(@.constructor[( @.getPrototypeOf(@).constructor.call(0,'${set('call')}')() )])]`],
    ['Function via .apply', `$..[?(@.constructor[( @.getPrototypeOf(@).constructor.apply(0,['${set('apply')}'])() )])]`],
    ['Function via .bind', `$..[?(@.constructor[( @.getPrototypeOf(@).constructor.bind(0)('${set('bind')}')() )])]`],
  ])('does not run code from a path (%s)', (_name, path) => {
    probe.JSONPATH_PROBE = 'not run';
    try {
      JSONPath({ path, json: { a: {} } });
    } catch {
      // refusing the path with an error is the fixed behaviour; only running it is a failure
    }
    expect(probe.JSONPATH_PROBE).toBe('not run');
  });

  it('still answers the token paths client-node uses', () => {
    expect(JSONPath({ path: '$.credential.access_token', json: { credential: { access_token: 'tok' } } })).toEqual(['tok']);
  });
});
