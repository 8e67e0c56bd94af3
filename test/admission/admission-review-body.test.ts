import { describe, expect, it } from '@jest/globals';
import { parseAdmissionReviewBody } from '../../src/admission/admission-review-body.js';
import { readAdmissionReview } from '../../src/admission/admission-review.js';

// Bodies are parsed whole by JSON.parse; the hostile-shape check then enforces the limits on the
// parsed value. managedFields, most of a real Pod's bytes and objects, is where a hostile author
// (or a bug in a field manager) would hide depth or a "__proto__" key, so the limits are tested
// there. Counted from `request` as the check counts (MAX_JSON_DEPTH = 100), managedFields' value
// sits at depth 3 and may hold 97 levels of containers.
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

describe('parseAdmissionReviewBody on valid bodies', () => {
  it.each<[string, string | Buffer]>([
    ['a Pod CREATE with managedFields', JSON.stringify(createReview)],
    ['the same, indented as kubectl would', JSON.stringify(createReview, null, 2)],
    ['the same, indented with tabs and CRLF', JSON.stringify(createReview, null, '\t').replace(/\n/g, '\r\n')],
    ['an ephemeralcontainers UPDATE with object and oldObject both carrying managedFields', JSON.stringify(ephemeralUpdate)],
    ['multi-byte UTF-8', JSON.stringify(review({ object: pod({ annotations: { note: 'é€😀' }, managedFields: [{ manager: 'ключ-менеджер 😀' }] }), name: 'naïve-☃' }))],
    ['bytes that are not UTF-8 (decoded as U+FFFD, as a string body would be)', notUtf8Body()],
  ])('%s: what JSON.parse gives, managedFields included', (_label, body) => {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    expect(parseAdmissionReviewBody(bytes)).toStrictEqual({ ok: true, value: JSON.parse(bytes.toString('utf8')) });
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

  it.each(['object', 'oldObject'] as const)('takes the deepest nesting allowed in %s.metadata.managedFields, and keeps it', (key) => {
    const body = where[key](nestedArrays(MANAGED_FIELDS_LEVELS_ALLOWED));
    const reading = readAdmissionReview(body);
    expect(reading.kind).toBe('request');
    if (reading.kind !== 'request') return;
    const object = (key === 'object' ? reading.request.object : reading.request.oldObject) as { metadata: Record<string, unknown> };
    expect(object.metadata['managedFields']).toEqual(JSON.parse(nestedArrays(MANAGED_FIELDS_LEVELS_ALLOWED)));
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
  });
});
