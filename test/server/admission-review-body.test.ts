import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseAdmissionReviewBody } from '../../src/server/admission-review-body.js';
import { readAdmissionReview, readParsedAdmissionReview } from '../../src/server/admission-review.js';

// The two places whose managedFields are checked but not built, counted from `request` as the
// hostile-shape check counts (MAX_JSON_DEPTH = 100): the value sits at depth 3, so it may hold 97
// levels of containers.
const MANAGED_FIELDS_LEVELS_ALLOWED = 97;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The FieldsV1 entry the API server records for a `kubectl apply` of `containers`. */
function managedFieldsEntry(containers: readonly string[]): Json {
  return {
    manager: 'kubectl-client-side-apply',
    operation: 'Update',
    apiVersion: 'v1',
    time: '2026-11-27T16:03:45Z',
    fieldsType: 'FieldsV1',
    fieldsV1: {
      'f:metadata': { 'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} }, 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': {
        'f:containers': Object.fromEntries(
          containers.map((name) => [`k:{"name":"${name}"}`, { '.': {}, 'f:image': {}, 'f:imagePullPolicy': {}, 'f:name': {}, 'f:resources': {} }]),
        ),
        'f:restartPolicy': {},
      },
    },
  };
}

function pod(options: { name?: string; annotations?: Record<string, Json>; containers?: Json[]; managedFields?: Json } = {}): Record<string, Json> {
  const name = options.name ?? 'web-7d9f8';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'team-a',
      uid: '0b5a3c5e-6f0e-4c77-9d1f-1a2b3c4d5e6f',
      labels: { app: 'web' },
      annotations: options.annotations ?? { 'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"v1","kind":"Pod"}\n' },
      ...(options.managedFields !== undefined ? { managedFields: options.managedFields } : {}),
    },
    spec: {
      containers: options.containers ?? [{ name: 'app', image: 'nginx:1.27', imagePullPolicy: 'IfNotPresent', resources: {} }],
      restartPolicy: 'Always',
    },
  };
}

function review(request: Record<string, Json>): Record<string, Json> {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'f0e1d2c3-b4a5-4697-8899-aabbccddeeff',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'team-a',
      operation: 'CREATE',
      userInfo: { username: 'alice' },
      dryRun: false,
      ...request,
    },
  };
}

const createReview = review({ object: pod({ managedFields: [managedFieldsEntry(['app'])] }) });

const ephemeralUpdate = review({
  operation: 'UPDATE',
  subResource: 'ephemeralcontainers',
  object: pod({
    managedFields: [managedFieldsEntry(['app']), { manager: 'kubectl-debug', operation: 'Update', subresource: 'ephemeralcontainers', fieldsV1: { 'f:spec': { 'f:ephemeralContainers': {} } } }],
  }),
  oldObject: pod({ managedFields: [managedFieldsEntry(['app'])] }),
});

/** JSON.parse of `body`, less the managedFields of request.object and request.oldObject. */
function withoutManagedFields(text: string): unknown {
  const value = JSON.parse(text) as { request?: Record<string, { metadata?: Record<string, unknown> } | undefined> };
  for (const key of ['object', 'oldObject']) {
    const metadata = value.request?.[key]?.metadata;
    if (metadata !== undefined && metadata !== null && typeof metadata === 'object') delete metadata.managedFields;
  }
  return value;
}

function reasonJsonParseGives(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return `request body is not valid JSON (${(error as Error).message}); expected an AdmissionReview (admission.k8s.io/v1)`;
  }
  throw new Error('test fixture is valid JSON');
}

function nestedArrays(levels: number, inner = '1'): string {
  return '['.repeat(levels) + inner + ']'.repeat(levels);
}

/** The create review's text with `value` (JSON text) as request.object.metadata.managedFields. */
function createReviewWithManagedFields(valueText: string): string {
  return JSON.stringify(review({ object: pod({ managedFields: 'MANAGED' }) })).replace('"MANAGED"', valueText);
}

/** A create review with a stray 0xff byte in a label before managedFields and in a field after it. */
function notUtf8Body(): Buffer {
  const [before, after] = JSON.stringify(createReview).split('"managedFields":');
  const label = '"app":"web"';
  const policy = '"restartPolicy":"Always"';
  const withBadLabel = before!.split(label);
  const withBadPolicy = after!.split(policy);
  return Buffer.concat([
    Buffer.from(withBadLabel[0] + '"app":"w'),
    Buffer.from([0xff]),
    Buffer.from('eb"' + withBadLabel[1] + '"managedFields":' + withBadPolicy[0] + '"restartPolicy":"Al'),
    Buffer.from([0xc3]),
    Buffer.from('ways"' + withBadPolicy[1]),
  ]);
}

// 'skipped': the shortcut applies, so the value is JSON.parse less the two managedFields.
// 'either': a body the shortcut may pass on; parsed whole, it keeps every managedFields, which is
// as good (nothing reads them). Either way nothing else may change.
type Expectation = 'skipped' | 'either';

describe('parseAdmissionReviewBody on valid bodies', () => {
  const placeholderText = JSON.stringify('\u0000secure-defaults: managedFields checked, not parsed');
  it.each<[string, string | Buffer, Expectation]>([
    ['a Pod CREATE with managedFields', JSON.stringify(createReview), 'skipped'],
    ['the same, indented as kubectl would', JSON.stringify(createReview, null, 2), 'skipped'],
    ['the same, indented with tabs and CRLF', JSON.stringify(createReview, null, '\t').replace(/\n/g, '\r\n'), 'skipped'],
    ['an ephemeralcontainers UPDATE with object and oldObject both carrying managedFields', JSON.stringify(ephemeralUpdate), 'skipped'],
    ['managedFields only on oldObject', JSON.stringify(review({ operation: 'UPDATE', object: pod(), oldObject: pod({ managedFields: [managedFieldsEntry(['app'])] }) })), 'skipped'],
    ['managedFields absent', JSON.stringify(review({ object: pod() })), 'either'],
    ['empty managedFields', JSON.stringify(review({ object: pod({ managedFields: [] }) })), 'skipped'],
    ['managedFields null', JSON.stringify(review({ object: pod({ managedFields: null }) })), 'skipped'],
    ['managedFields a string', JSON.stringify(review({ object: pod({ managedFields: 'x' }) })), 'skipped'],
    ['whitespace before the colon', JSON.stringify(createReview).replace('"managedFields":', '"managedFields" :'), 'either'],
    ['whitespace after the colon', JSON.stringify(createReview).replace('"managedFields":', '"managedFields": \n '), 'skipped'],
    ['a key x\\"managedFields elsewhere', JSON.stringify(review({ object: pod({ annotations: { 'x"managedFields': 'keep me' }, managedFields: [managedFieldsEntry(['app'])] }) })), 'either'],
    ['a key x\\"managedFields and no managedFields', JSON.stringify(review({ object: pod({ annotations: { 'x"managedFields': { keep: ['me'] } } }) })), 'either'],
    ['an annotation named managedFields', JSON.stringify(review({ object: pod({ annotations: { managedFields: 'keep me' }, managedFields: [managedFieldsEntry(['app'])] }) })), 'either'],
    ['an annotation named managedFields, no real managedFields', JSON.stringify(review({ object: pod({ annotations: { managedFields: 'keep me' } }) })), 'either'],
    [
      'managedFields inside a container (an unknown field)',
      JSON.stringify(review({ object: pod({ containers: [{ name: 'app', image: 'nginx', managedFields: [{ keep: 'me' }] }], managedFields: [managedFieldsEntry(['app'])] }) })),
      'either',
    ],
    ['managedFields at request level', JSON.stringify(review({ managedFields: { keep: 'me' }, object: pod() })), 'either'],
    [
      'three managedFields occurrences',
      JSON.stringify(review({ operation: 'UPDATE', object: pod({ managedFields: [managedFieldsEntry(['a'])] }), oldObject: pod({ managedFields: [managedFieldsEntry(['b'])] }), managedFields: 3 })),
      'either',
    ],
    ['a body that already contains the placeholder text', JSON.stringify(review({ object: pod({ annotations: { note: 'PLACEHOLDER' }, managedFields: [managedFieldsEntry(['app'])] }) })).replace('"PLACEHOLDER"', placeholderText), 'either'],
    ['the placeholder text as the managedFields value itself', createReviewWithManagedFields(placeholderText), 'either'],
    // The placeholder, unskipped at a place it is looked for, could vouch for a skipped value elsewhere.
    [
      'the placeholder text as an unskipped managedFields, with one elsewhere',
      JSON.stringify(review({ object: pod({ managedFields: 'HERE', containers: [{ name: 'app', managedFields: { keep: 'me' } }] }) })).replace('"managedFields":"HERE"', `"managedFields" :${placeholderText}`),
      'either',
    ],
    ['a duplicate managedFields key (the last one wins)', JSON.stringify(createReview).replace('"managedFields":', '"managedFields":{"first":1},"managedFields":'), 'either'],
    ['a __proto__ key outside managedFields', JSON.stringify(createReview).replace('"labels":{', '"labels":{"__proto__":{"polluted":true},'), 'skipped'],
    ['a \\u escape in a key outside managedFields', JSON.stringify(createReview).replace('"labels":{', '"labels":{"\\u0061pp2":"x",'), 'skipped'],
    ['a \\u escape in a key inside managedFields', createReviewWithManagedFields('[{"\\u0061":1}]'), 'either'],
    ['a string value spelling "managedFields":', JSON.stringify(review({ object: pod({ annotations: { note: '"managedFields":[1,2]' }, managedFields: [managedFieldsEntry(['app'])] }) })), 'skipped'],
    ['multi-byte UTF-8 before, inside and after managedFields', JSON.stringify(review({ object: pod({ annotations: { note: 'é€😀' }, managedFields: [{ manager: 'ключ-менеджер 😀' }] }), name: 'naïve-☃' })), 'skipped'],
    ['bytes that are not UTF-8 before and after managedFields', notUtf8Body(), 'skipped'],
  ])('%s', (_label, body, expectation) => {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const text = bytes.toString('utf8');
    const parsed = parseAdmissionReviewBody(bytes);
    expect(parsed).toEqual({ ok: true, value: expect.anything() });
    if (!parsed.ok) return;
    if (expectation === 'skipped') expect(parsed.value).toStrictEqual(withoutManagedFields(text));
    else expect([JSON.parse(text), withoutManagedFields(text)]).toContainEqual(parsed.value);
  });

  it('keeps the fields named like managedFields that are not the two it skips', () => {
    const body = JSON.stringify(
      review({
        object: pod({
          annotations: { managedFields: 'annotation', 'x"managedFields': 'quoted' },
          containers: [{ name: 'app', image: 'nginx', managedFields: ['container'] }],
          managedFields: [managedFieldsEntry(['app'])],
        }),
      }),
    );
    const parsed = parseAdmissionReviewBody(Buffer.from(body));
    if (!parsed.ok) throw new Error(parsed.reason);
    const object = (parsed.value as { request: { object: { metadata: { annotations: unknown }; spec: { containers: unknown[] } } } }).request.object;
    expect(object.metadata.annotations).toEqual({ managedFields: 'annotation', 'x"managedFields': 'quoted' });
    expect(object.spec.containers[0]).toMatchObject({ managedFields: ['container'] });
  });
});

describe('parseAdmissionReviewBody on bodies JSON.parse refuses', () => {
  const valid = JSON.stringify(createReview);
  it.each<[string, string]>([
    ['invalid JSON inside managedFields (trailing comma)', createReviewWithManagedFields('[{"manager":"a",}]')],
    ['invalid JSON inside managedFields (leading zero)', createReviewWithManagedFields('[01]')],
    ['invalid JSON inside managedFields (raw newline in a string)', createReviewWithManagedFields('["a\nb"]')],
    ['an unterminated managedFields', valid.slice(0, valid.indexOf('"managedFields":') + 30)],
    ['garbage right after managedFields', createReviewWithManagedFields('[] x')],
    ['invalid JSON after a valid managedFields', valid.replace('"restartPolicy":"Always"', '"restartPolicy":Always')],
    ['invalid JSON before a valid managedFields', valid.replace('"kind":"AdmissionReview"', '"kind":AdmissionReview')],
    ['trailing data after the review', `${valid} {}`],
    ['a missing closing brace', valid.slice(0, -1)],
    ['a second value after the first', `${valid}${valid}`],
  ])('%s: the reason JSON.parse gives', (_label, body) => {
    expect(parseAdmissionReviewBody(Buffer.from(body))).toEqual({ ok: false, reason: reasonJsonParseGives(body) });
  });

  it.each(['', ' ', '\n\t\r '])('a blank body %j', (body) => {
    expect(parseAdmissionReviewBody(Buffer.from(body))).toEqual({ ok: false, reason: 'request body is empty; expected an AdmissionReview (admission.k8s.io/v1) as JSON' });
  });
});

describe('readAdmissionReview with hostile managedFields', () => {
  const where = {
    object: (value: string) => createReviewWithManagedFields(value),
    oldObject: (value: string) =>
      JSON.stringify(review({ operation: 'UPDATE', object: pod({ managedFields: [managedFieldsEntry(['app'])] }), oldObject: pod({ managedFields: 'MANAGED' }) })).replace(
        '"MANAGED"',
        value,
      ),
  };

  it.each(['object', 'oldObject'] as const)('takes the deepest nesting allowed in %s.metadata.managedFields, without building it', (key) => {
    const body = where[key](nestedArrays(MANAGED_FIELDS_LEVELS_ALLOWED));
    const reading = readAdmissionReview(body);
    expect(reading.kind).toBe('request');
    if (reading.kind !== 'request') return;
    const object = (key === 'object' ? reading.request.object : reading.request.oldObject) as { metadata: Record<string, unknown> };
    expect(object.metadata).not.toHaveProperty('managedFields');
  });

  it.each<[string, 'object' | 'oldObject', string, RegExp]>([
    ['one level too deep', 'object', nestedArrays(MANAGED_FIELDS_LEVELS_ALLOWED + 1), /^request\.object\.metadata\.managedFields(\[0\])+: JSON is nested deeper than 100 levels$/],
    ['one level too deep', 'oldObject', nestedArrays(MANAGED_FIELDS_LEVELS_ALLOWED + 1), /^request\.oldObject\.metadata\.managedFields(\[0\])+: JSON is nested deeper than 100 levels$/],
    ['far too deep', 'object', '[{"a":' + nestedArrays(5000) + '}]', /^request\.object\.metadata\.managedFields\[0\]\.a(\[0\])+: JSON is nested deeper than 100 levels$/],
    ['a __proto__ key', 'object', '[{"manager":"a","fieldsV1":{"__proto__":{"polluted":true}}}]', /^request\.object\.metadata\.managedFields\[0\]\.fieldsV1\.__proto__: the key "__proto__" is not allowed$/],
    ['a __proto__ key', 'oldObject', '{"__proto__":1}', /^request\.oldObject\.metadata\.managedFields\.__proto__: the key "__proto__" is not allowed$/],
    ['a __proto__ key spelt with \\u escapes', 'object', '[{"\\u005f_proto__":[]}]', /^request\.object\.metadata\.managedFields\[0\]\.__proto__: the key "__proto__" is not allowed$/],
  ])('%s in %s.metadata.managedFields is unusable, naming the path', (_label, key, value, reason) => {
    const body = where[key](value);
    const reading = readAdmissionReview(body);
    expect(reading).toEqual({ kind: 'unusable', uid: 'f0e1d2c3-b4a5-4697-8899-aabbccddeeff', apiVersion: 'admission.k8s.io/v1', reason: expect.stringMatching(reason) });
    // Exactly what reading the whole parse gives.
    expect(reading).toEqual(readParsedAdmissionReview(JSON.parse(body)));
  });
});

// The placeholder the shortcut substitutes is recognised by value, and a body could hold that value
// spelt differently (here with \u0064 for "d"). Put at object.metadata.managedFields (with a space
// before the colon, so it is not itself skipped), it would stand in for a skipped value elsewhere,
// whose depth would then escape the hostile-shape check. The placeholder starts with U+0000, which
// JSON can only spell \u0000, so a body containing that escape is parsed whole.
describe('a body spelling the placeholder another way', () => {
  const disguisedPlaceholder = '"\\u0000secure-defaults: managedFields checked, not parse\\u0064"';
  const body = JSON.stringify(review({ object: { metadata: { managedFields: 'DISGUISED' }, spec: { deeper: { managedFields: 'SKIPPED' } } } }))
    .replace('"managedFields":"DISGUISED"', `"managedFields" :${disguisedPlaceholder}`)
    .replace('"SKIPPED"', '{"keep":"me"}');

  it('still parses to what JSON.parse gives', () => {
    const parsed = parseAdmissionReviewBody(Buffer.from(body));
    expect([JSON.parse(body), withoutManagedFields(body)]).toContainEqual(parsed.ok ? parsed.value : parsed);
  });

  // One level deeper than the two skipped places, the most a skipped value may nest is too deep.
  const deep = body.replace('{"keep":"me"}', nestedArrays(MANAGED_FIELDS_LEVELS_ALLOWED));

  it('is refused as too deep when parsed whole', () => {
    expect(readParsedAdmissionReview(JSON.parse(deep))).toMatchObject({ kind: 'unusable', reason: expect.stringMatching(/^request\.object\.spec\.deeper\.managedFields(\[0\])+: JSON is nested deeper/) });
  });

  it('is refused as too deep by readAdmissionReview too', () => {
    expect(readAdmissionReview(deep)).toEqual(readParsedAdmissionReview(JSON.parse(deep)));
  });
});

describe('parseAdmissionReviewBody properties', () => {
  /** How many containers are open at once at the deepest point of a parsed value. */
  function containerDepth(value: unknown): number {
    if (value === null || typeof value !== 'object') return 0;
    const children = Array.isArray(value) ? value : Object.values(value);
    return 1 + children.reduce((deepest: number, child) => Math.max(deepest, containerDepth(child)), 0);
  }
  function hasProtoKey(value: unknown): boolean {
    if (value === null || typeof value !== 'object') return false;
    return Object.keys(value).some((key) => key === '__proto__' || hasProtoKey((value as Record<string, unknown>)[key]));
  }

  const someJson = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>;
  // Hostile values are written as text: a JS object with a "__proto__" key must come from JSON.parse.
  const tooDeepOrNearly = fc
    .tuple(fc.integer({ min: MANAGED_FIELDS_LEVELS_ALLOWED - 3, max: MANAGED_FIELDS_LEVELS_ALLOWED + 2 }), fc.boolean(), fc.jsonValue({ maxDepth: 2 }))
    .map(([levels, objects, inner]) => JSON.parse((objects ? '{"f":'.repeat(levels) : '['.repeat(levels)) + JSON.stringify(inner) + (objects ? '}' : ']').repeat(levels)) as Json);
  const withProtoKey = fc
    .tuple(someJson, someJson)
    .map(([outer, inner]) => JSON.parse(`[${JSON.stringify(outer)},{"manager":"m","__proto__":${JSON.stringify(inner)}}]`) as Json);
  const managedFields = fc.oneof({ weight: 4, arbitrary: someJson }, { weight: 1, arbitrary: tooDeepOrNearly }, { weight: 1, arbitrary: withProtoKey });
  const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });
  // Decoys are rare enough that many bodies have none and take the shortcut.
  const rarely = <T>(arbitrary: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });

  interface GeneratedPod {
    managedFields: Json | undefined;
    labels: Record<string, string>;
    annotationDecoy: Json | undefined;
    containerDecoy: Json | undefined;
    extra: Json;
  }
  const generatedPod: fc.Arbitrary<GeneratedPod> = fc.record({
    managedFields: maybe(managedFields),
    labels: fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
    // Decoys: keys named managedFields where the webhook must keep them.
    annotationDecoy: rarely(someJson),
    containerDecoy: rarely(someJson),
    extra: someJson,
  });

  function podFrom(generated: GeneratedPod): Json {
    const metadata: Record<string, Json> = { name: 'p', labels: generated.labels };
    if (generated.annotationDecoy !== undefined) metadata.annotations = { managedFields: generated.annotationDecoy };
    if (generated.managedFields !== undefined) metadata.managedFields = generated.managedFields;
    const container: Record<string, Json> = { name: 'app', image: 'nginx' };
    if (generated.containerDecoy !== undefined) container.managedFields = generated.containerDecoy;
    return { apiVersion: 'v1', kind: 'Pod', metadata, spec: { containers: [container], extra: generated.extra } };
  }

  const generatedReview = fc.record({
    uid: fc.string({ minLength: 1, maxLength: 8 }),
    operation: fc.constantFrom('CREATE', 'UPDATE'),
    object: generatedPod,
    oldObject: maybe(generatedPod),
    requestDecoy: rarely(someJson),
    indent: fc.constantFrom(undefined, undefined, 1, 2, '\t'),
  });

  it('reads the same as JSON.parse, less the two managedFields when the shortcut applies', () => {
    fc.assert(
      fc.property(generatedReview, (generated) => {
        const pods = [generated.object, ...(generated.oldObject !== undefined ? [generated.oldObject] : [])];
        const request: Record<string, Json> = { operation: generated.operation, uid: generated.uid, object: podFrom(generated.object) };
        if (generated.oldObject !== undefined) request.oldObject = podFrom(generated.oldObject);
        if (generated.requestDecoy !== undefined) request.managedFields = generated.requestDecoy;
        const text = JSON.stringify(review(request), null, generated.indent);
        const body = Buffer.from(text);

        const skippedValues = pods.flatMap((p) => (p.managedFields !== undefined ? [p.managedFields] : []));
        const hostile = skippedValues.some((value) => containerDepth(value) > MANAGED_FIELDS_LEVELS_ALLOWED || hasProtoKey(value));
        // Any other "managedFields": in the text (decoys, or one inside generated keys) may send
        // the body the whole-parse way; without them the shortcut must apply.
        const keyMatches = text.split('"managedFields":').length - 1;
        const shortcutExpected = !hostile && skippedValues.length > 0 && keyMatches === skippedValues.length;

        const parsed = parseAdmissionReviewBody(body);
        if (!parsed.ok) throw new Error(parsed.reason);
        if (hostile) expect(parsed.value).toStrictEqual(JSON.parse(text));
        else if (shortcutExpected) expect(parsed.value).toStrictEqual(withoutManagedFields(text));
        else expect([JSON.parse(text), withoutManagedFields(text)]).toContainEqual(parsed.value);

        const before = readParsedAdmissionReview(JSON.parse(text));
        const now = readAdmissionReview(body);
        expect(now.kind).toBe(before.kind);
        expect('reason' in now ? now.reason : null).toBe('reason' in before ? before.reason : null);
        if (hostile) expect(now).toEqual(before);
        if (shortcutExpected) expect(now).toStrictEqual(readParsedAdmissionReview(withoutManagedFields(text)));
      }),
      { numRuns: 300 },
    );
  });
});
