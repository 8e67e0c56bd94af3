import { describe, expect, it } from '@jest/globals';
import { withMembers } from '../../src/engine/object-copy.js';

describe('withMembers', () => {
  it('copies, adds and replaces members without touching the original', () => {
    const original = { name: 'app', image: 'x', securityContext: { privileged: false } };
    const copy = withMembers(original, { securityContext: { runAsNonRoot: true }, ports: [] });
    expect(copy).toEqual({ name: 'app', image: 'x', securityContext: { runAsNonRoot: true }, ports: [] });
    expect(original).toEqual({ name: 'app', image: 'x', securityContext: { privileged: false } });
    expect(Object.keys(copy)).toEqual(['name', 'image', 'securityContext', 'ports']);
  });

  // YAML or JSON can carry an own "__proto__" member; Object.assign would turn it into a prototype swap.
  it.each([
    ['in the object', JSON.parse('{"__proto__": {"polluted": true}, "name": "app"}'), {}],
    ['in the members', { name: 'app' }, JSON.parse('{"__proto__": {"polluted": true}}')],
  ])('keeps a "__proto__" member %s as a plain member', (_where, object, members) => {
    const copy = withMembers(object as Record<string, unknown>, members as Record<string, unknown>);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect((copy as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value).toEqual({ polluted: true });
  });
});
