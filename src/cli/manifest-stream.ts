// Reading a stream of Kubernetes manifests (multi-document YAML, JSON, `kind: List`) and writing
// it back in the same order, so `helm template … | secure-defaults mutate -f -` returns the
// whole stream with only the workloads changed.
import { Document, isCollection, isNode, parseAllDocuments, parseDocument, type ParsedNode } from 'yaml';
import type { Operation } from '../engine/model.js';
import { UserError } from './user-error.js';
import { editedInPlace, layoutOf, spliceChangedLines } from './yaml-document-edit.js';
import { asJsonObject, type JsonObject } from '../foundation/json-object.js';


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
  readonly source: Document.Parsed<ParsedNode>;
  /** The file it came from ("stdin" for -), and its place there (1-based, empty documents counted). */
  readonly sourceName: string;
  readonly position: number;
  /** The document's own text in the input, without its `---` line. */
  readonly text: string;
  /** True for a `kind: List` (or `*List`) document, whose items are the objects. */
  readonly isList: boolean;
  readonly items: readonly ManifestItem[];
}

function describeObject(value: JsonObject, location: string): ManifestItem {
  const kind = value['kind'];
  if (typeof kind !== 'string' || kind === '') {
    throw new UserError(`${location}: not a Kubernetes object (it has no "kind")`);
  }
  const metadata = asJsonObject(value['metadata']);
  const name = typeof metadata?.['name'] === 'string' ? metadata['name'] : '';
  if (typeof value['apiVersion'] !== 'string' || value['apiVersion'] === '') {
    throw new UserError(`${location}: ${kind}${name === '' ? '' : ` "${name}"`} has no "apiVersion" (e.g. apiVersion: ${kind === 'Pod' ? 'v1' : kind === 'CronJob' || kind === 'Job' ? 'batch/v1' : 'apps/v1'}); every Kubernetes object needs one`);
  }
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
  let end = 0;
  // merge: `<<: *anchor` as kubectl (YAML 1.1) reads it.
  for (const doc of parseAllDocuments(text, { prettyErrors: true, merge: true })) {
    position += 1;
    const location = `${source}: document ${position}`;
    const ownText = text.slice(end, doc.range[2]).replace(/^(?:[ \t]*\n)*---[ \t]*\n/, '');
    end = doc.range[2];
    const [error] = doc.errors;
    if (error !== undefined) {
      // One line: what is wrong, where, and the line it points at.
      const reason = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
      const where = error.linePos?.[0];
      const lineText = where === undefined ? undefined : text.split('\n')[where.line - 1];
      const at = where === undefined ? '' : ` at line ${where.line}, column ${where.col}`;
      const quoted = lineText === undefined || lineText.trim() === '' ? '' : `: ${JSON.stringify(lineText.length > 120 ? `${lineText.slice(0, 119)}…` : lineText)}`;
      throw new UserError(`${location}: invalid YAML${at}: ${reason}${quoted}`);
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
    const object = asJsonObject(value);
    if (object === undefined) {
      throw new UserError(`${location}: not a Kubernetes object (expected a mapping with "kind", got ${Array.isArray(value) ? 'a list' : typeof value})`);
    }
    if (isListKind(object['kind']) && Array.isArray(object['items'])) {
      const items = object['items'].map((entry, index) => {
        const item = asJsonObject(entry);
        const itemLocation = `${location}, item ${index + 1}`;
        if (item === undefined) {
          throw new UserError(`${itemLocation}: not a Kubernetes object (expected a mapping with "kind")`);
        }
        return describeObject(item, itemLocation);
      });
      documents.push({ source: doc, sourceName: source, position, text: ownText, isList: true, items });
    } else {
      documents.push({ source: doc, sourceName: source, position, text: ownText, isList: false, items: [describeObject(object, location)] });
    }
  }
  if (documents.length === 0) {
    throw new UserError(`${source}: no Kubernetes objects in the input`);
  }
  return documents;
}

/** What hardening did to one object: the engine's copy and its patch against the input object. */
export interface Replacement {
  readonly object: unknown;
  readonly patch: readonly Operation[];
}

export interface RenderedDocument {
  readonly document: ManifestDocument;
  /** The document's text as it was read. */
  readonly before: string;
  readonly after: string;
  readonly changed: boolean;
  /** False when the edit could not be made in place and the document was written anew (merge keys). */
  readonly inPlace: boolean;
}

function rebuilt(document: ManifestDocument, replacements: ReadonlyMap<JsonObject, Replacement>): Document {
  const root = document.isList
    ? { ...(document.source.toJS() as JsonObject), items: document.items.map((item) => replacements.get(item.object)?.object ?? item.object) }
    : replacements.get(document.items[0]?.object ?? {})?.object;
  const output = new Document(root);
  // helm's "# Source: …" line sits before the first key, i.e. on the document's root node.
  const { contents } = document.source;
  const comments = [document.source.commentBefore, isNode(contents) ? contents.commentBefore : null].filter(
    (comment): comment is string => typeof comment === 'string' && comment !== '',
  );
  output.commentBefore = comments.length > 0 ? comments.join('\n') : null;
  return output;
}

/**
 * Every document as YAML, in input order. A document with something replaced is edited in place:
 * the engine's patch is applied to its YAML nodes, so all it does not change keeps its layout.
 */
export function renderYamlDocuments(documents: readonly ManifestDocument[], replacements: ReadonlyMap<JsonObject, Replacement>, sourceTexts: ReadonlyMap<string, string>): RenderedDocument[] {
  return documents.map((document) => {
    const changed = document.items.some((item) => replacements.has(item.object));
    // Untouched documents are written exactly as they were read.
    if (!changed) return { document, before: document.text, after: document.text, changed: false, inPlace: true };
    // A JSON document (a flow mapping at the root) asked for as YAML is written as block YAML.
    const { contents } = document.source;
    if (isCollection(contents) && contents.flow === true) return { document, before: document.text, after: rebuilt(document, replacements).toString({ lineWidth: 0 }), changed: true, inPlace: true };
    const layout = layoutOf(sourceTexts.get(document.sourceName) ?? document.text);
    const render = (doc: Document): string => {
      const copy = doc.clone();
      if (copy.directives !== undefined) copy.directives.docStart = null;
      return copy.toString({ lineWidth: 0, indent: layout.indent, indentSeq: layout.indentSeq, flowCollectionPadding: layout.flowCollectionPadding });
    };
    const expected = document.isList
      ? { ...(document.source.toJS({ maxAliasCount: 100 }) as JsonObject), items: document.items.map((item) => replacements.get(item.object)?.object ?? item.object) }
      : replacements.get(document.items[0]?.object ?? {})?.object;
    // Each List item's patch is relative to that item.
    let edited: Document | null = document.source;
    document.items.forEach((item, index) => {
      const patch = replacements.get(item.object)?.patch ?? [];
      if (edited !== null && patch.length > 0) edited = editedInPlace(edited, patch, document.isList ? ['items', index] : []);
    });
    if (edited === null || !isDeepStrictEqualJs(edited, expected)) {
      return { document, before: document.text, after: render(rebuilt(document, replacements)), changed: true, inPlace: false };
    }
    const normalizedBefore = render(document.source);
    const normalizedAfter = render(edited);
    // The library writes every line in its own spacing; only the lines the edit changed are taken
    // from its output, the others stay the input's own.
    const spliced = spliceChangedLines(document.text, normalizedBefore, normalizedAfter);
    const after = spliced !== null && isDeepStrictEqualJs(parseDocument(spliced, { merge: true }), expected) ? spliced : normalizedAfter;
    return { document, before: document.text, after, changed: true, inPlace: true };
  });
}

function isDeepStrictEqualJs(doc: Document, expected: unknown): boolean {
  try {
    return JSON.stringify(canonicalJs(doc.toJS({ maxAliasCount: 100 }))) === JSON.stringify(canonicalJs(expected));
  } catch {
    return false;
  }
}

function canonicalJs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalJs);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonicalJs((value as JsonObject)[key])]),
    );
  }
  return value;
}

/** The stream as YAML, in input order; see renderYamlDocuments. */
export function renderYamlStream(rendered: readonly RenderedDocument[]): string {
  return rendered.map((r) => r.after).join('---\n');
}

/** Every object of the stream, replaced where `replacements` says: one object, or a v1 List. */
export function renderJson(documents: readonly ManifestDocument[], replacements: ReadonlyMap<JsonObject, Replacement>): string {
  const objects = documents.flatMap((document) => document.items.map((item) => replacements.get(item.object)?.object ?? item.object));
  const [only] = objects;
  const root = objects.length === 1 && documents.length === 1 && documents[0]?.isList !== true ? only : { apiVersion: 'v1', kind: 'List', items: objects };
  return `${JSON.stringify(root, null, 2)}\n`;
}
