// Reads the YAML text of a policy into one plain value, turning every YAML problem into a
// PolicyError with its line and column. Knows nothing of the policy's fields.
import { isMap, isScalar, LineCounter, parseAllDocuments, visit, type Document } from 'yaml';
import type { PolicyError } from './model.js';

export type YamlRead = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly errors: PolicyError[] };

export const DOCUMENT_PATH = '(document)';

/** A ConfigMap holds at most 1 MiB of data, so no policy the cluster can store is larger. */
export const MAX_POLICY_BYTES = 1024 * 1024;
/**
 * Aliases (*name) in one policy. The yaml package resolves each alias by scanning every anchor and
 * alias of the document, so their number must stay small; a policy needs a handful at most.
 */
export const MAX_ALIASES = 100;
/** Duplicate keys reported before the rest are only counted. */
const MAX_DUPLICATE_KEYS = 20;

interface YamlProblem {
  readonly message: string;
  readonly linePos?: readonly { line: number; col: number }[] | undefined;
}

function yamlProblemToError(problem: YamlProblem): PolicyError {
  const position = problem.linePos?.[0];
  // prettyErrors appends " at line N, column M:" plus a source excerpt; the path already says where.
  const cut = problem.message.indexOf(' at line ');
  const message = (cut >= 0 ? problem.message.slice(0, cut) : problem.message).trim();
  return {
    path: position === undefined ? DOCUMENT_PATH : `line ${position.line}, column ${position.col}`,
    message: `YAML syntax error: ${message}; fix the YAML (indentation, quoting, brackets) at that position`,
  };
}

/** A scalar key as it reads in a message: its first 60 characters, quoted. */
function keyText(value: unknown): string {
  const text = String(value);
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

/**
 * Duplicate keys and the number of aliases, in one pass over the document. The yaml package's own
 * duplicate-key check (uniqueKeys) compares each key with every earlier one of its map, which
 * takes minutes on a map of 90,000 keys; a Set per map does it in linear time. Keys compare like
 * the package's default: scalars by value (so 1 and "1" differ), other keys never.
 */
function structureErrors(document: Document.Parsed, lines: LineCounter): PolicyError[] {
  const errors: PolicyError[] = [];
  let duplicates = 0;
  let aliases = 0;
  visit(document, {
    Alias() {
      aliases++;
      return aliases > MAX_ALIASES ? visit.BREAK : undefined;
    },
    Map(_key, map) {
      if (!isMap(map)) return;
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const value = pair.key.value;
        if (!seen.has(value)) {
          seen.add(value);
          continue;
        }
        duplicates++;
        if (duplicates > MAX_DUPLICATE_KEYS) continue;
        const position = pair.key.range === undefined || pair.key.range === null ? undefined : lines.linePos(pair.key.range[0]);
        errors.push({
          path: position === undefined ? DOCUMENT_PATH : `line ${position.line}, column ${position.col}`,
          message: `YAML syntax error: Map keys must be unique; ${keyText(value)} appears again here: remove one of them`,
        });
      }
    },
  });
  if (duplicates > MAX_DUPLICATE_KEYS) {
    errors.push({ path: DOCUMENT_PATH, message: `and ${duplicates - MAX_DUPLICATE_KEYS} more duplicate keys` });
  }
  if (aliases > MAX_ALIASES) {
    errors.push({
      path: DOCUMENT_PATH,
      message: `more than ${MAX_ALIASES} aliases (*name); a policy needs only a few: write the values out, or repeat fewer of them`,
    });
  }
  return errors;
}

export function readSingleYamlDocument(text: string): YamlRead {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_POLICY_BYTES) {
    return {
      ok: false,
      errors: [
        {
          path: DOCUMENT_PATH,
          message: `the policy is ${bytes} bytes, over the ${MAX_POLICY_BYTES}-byte limit (a ConfigMap holds at most 1 MiB); split it or shorten it`,
        },
      ],
    };
  }
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: false, lineCounter: lines });
  if (!Array.isArray(documents) || documents.length === 0) {
    return { ok: false, errors: [{ path: DOCUMENT_PATH, message: 'the policy is empty; write a SecureDefaultsPolicy with apiVersion, kind and spec' }] };
  }
  if (documents.length > 1) {
    return {
      ok: false,
      errors: [
        {
          path: DOCUMENT_PATH,
          message: `found ${documents.length} YAML documents separated by "---"; a policy is exactly one document: keep one and put others in their own file or ConfigMap key`,
        },
      ],
    };
  }
  const document = documents[0]!;
  if (document.errors.length > 0) return { ok: false, errors: document.errors.map(yamlProblemToError) };
  const structure = structureErrors(document, lines);
  if (structure.length > 0) return { ok: false, errors: structure };
  try {
    return { ok: true, value: document.toJS({ maxAliasCount: 100 }) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, errors: [{ path: DOCUMENT_PATH, message: `YAML could not be read: ${reason}; check anchors (&name) and aliases (*name)` }] };
  }
}
