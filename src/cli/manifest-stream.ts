// Reading a stream of Kubernetes manifests (multi-document YAML, JSON, `kind: List`) and writing
// it back in the same order, so `helm template … | secure-defaults mutate -f -` returns the
// whole stream with only the workloads changed.
import { Document, isNode, parseAllDocuments } from 'yaml';
import { UserError } from './user-error.js';

export type JsonObject = Record<string, unknown>;

function asObject(value: unknown): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

/** One Kubernetes object of the stream: a document, or an item of a List document. */
export interface ManifestItem {
  readonly object: JsonObject;
  readonly kind: string;
  readonly apiVersion: string;
  /** `metadata.name`, or "" when the object has none (e.g. uses generateName). */
  readonly name: string;
  /** `metadata.namespace`, or undefined. */
  readonly namespace: string | undefined;
  /** "Deployment/web" — how messages name the object. */
  readonly label: string;
  /** "document 2" or "document 2, item 1" — where the object is in the input. */
  readonly location: string;
}

export interface ManifestDocument {
  readonly source: Document;
  /** True for a `kind: List` (or `*List`) document, whose items are the objects. */
  readonly isList: boolean;
  readonly items: readonly ManifestItem[];
}

function describeObject(value: JsonObject, location: string): ManifestItem {
  const kind = value['kind'];
  if (typeof kind !== 'string' || kind === '') {
    throw new UserError(`${location}: not a Kubernetes object (it has no "kind")`);
  }
  const metadata = asObject(value['metadata']);
  const name = typeof metadata?.['name'] === 'string' ? metadata['name'] : '';
  const generateName = typeof metadata?.['generateName'] === 'string' ? metadata['generateName'] : '';
  const namespace = typeof metadata?.['namespace'] === 'string' && metadata['namespace'] !== '' ? metadata['namespace'] : undefined;
  return {
    object: value,
    kind,
    apiVersion: typeof value['apiVersion'] === 'string' ? value['apiVersion'] : '',
    name,
    namespace,
    label: `${kind}/${name !== '' ? name : generateName !== '' ? `${generateName}*` : '(unnamed)'}`,
    location,
  };
}

function isListKind(kind: unknown): boolean {
  return typeof kind === 'string' && kind.endsWith('List');
}

/** Parses every document of `text`; a UserError naming `source` and the document on any problem. */
export function parseManifestStream(text: string, source: string): ManifestDocument[] {
  const documents: ManifestDocument[] = [];
  let position = 0;
  for (const doc of parseAllDocuments(text, { prettyErrors: true })) {
    position += 1;
    const location = `${source}: document ${position}`;
    const [error] = doc.errors;
    if (error !== undefined) {
      const firstLine = error.message.split('\n')[0] ?? error.message;
      throw new UserError(`${location}: invalid YAML: ${firstLine}`);
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (conversionError) {
      // e.g. a "billion laughs" alias bomb, or an alias to an anchor that does not exist
      throw new UserError(`${location}: invalid YAML: ${(conversionError as Error).message}`);
    }
    if (value === null || value === undefined) {
      continue; // an empty document, as between two `---` lines in helm output
    }
    const object = asObject(value);
    if (object === undefined) {
      throw new UserError(`${location}: not a Kubernetes object (expected a mapping with "kind", got ${Array.isArray(value) ? 'a list' : typeof value})`);
    }
    if (isListKind(object['kind']) && Array.isArray(object['items'])) {
      const items = object['items'].map((entry, index) => {
        const item = asObject(entry);
        const itemLocation = `${location}, item ${index + 1}`;
        if (item === undefined) {
          throw new UserError(`${itemLocation}: not a Kubernetes object (expected a mapping with "kind")`);
        }
        return describeObject(item, itemLocation);
      });
      documents.push({ source: doc, isList: true, items });
    } else {
      documents.push({ source: doc, isList: false, items: [describeObject(object, location)] });
    }
  }
  if (documents.length === 0) {
    throw new UserError(`${source}: no Kubernetes objects in the input`);
  }
  return documents;
}

/**
 * The stream as YAML, in input order. `replacements` maps an input object to what to write
 * instead; documents with nothing replaced keep their text, comments included.
 */
export function renderYamlStream(documents: readonly ManifestDocument[], replacements: ReadonlyMap<JsonObject, unknown>): string {
  const rendered = documents.map((document) => {
    const changed = document.items.some((item) => replacements.has(item.object));
    if (!changed) {
      const copy = document.source.clone();
      if (copy.directives !== undefined) {
        copy.directives.docStart = null;
      }
      return copy.toString({ lineWidth: 0 });
    }
    const root = document.isList
      ? {
          ...(document.source.toJS() as JsonObject),
          items: document.items.map((item) => replacements.get(item.object) ?? item.object),
        }
      : replacements.get(document.items[0]?.object ?? {});
    const output = new Document(root);
    // helm's "# Source: …" line sits before the first key, i.e. on the document's root node.
    const { contents } = document.source;
    const comments = [document.source.commentBefore, isNode(contents) ? contents.commentBefore : null].filter(
      (comment): comment is string => typeof comment === 'string' && comment !== '',
    );
    output.commentBefore = comments.length > 0 ? comments.join('\n') : null;
    return output.toString({ lineWidth: 0 });
  });
  return rendered.join('---\n');
}

/** Every object of the stream, replaced where `replacements` says: one object, or a v1 List. */
export function renderJson(documents: readonly ManifestDocument[], replacements: ReadonlyMap<JsonObject, unknown>): string {
  const objects = documents.flatMap((document) => document.items.map((item) => replacements.get(item.object) ?? item.object));
  const [only] = objects;
  const root = objects.length === 1 && documents.length === 1 && documents[0]?.isList !== true ? only : { apiVersion: 'v1', kind: 'List', items: objects };
  return `${JSON.stringify(root, null, 2)}\n`;
}
