// Reads the YAML text of a policy into one plain value, turning every YAML problem into a
// PolicyError with its line and column. Knows nothing of the policy's fields.
import { parseAllDocuments } from 'yaml';
import type { PolicyError } from './model.js';

export type YamlRead = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly errors: PolicyError[] };

export const DOCUMENT_PATH = '(document)';

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

export function readSingleYamlDocument(text: string): YamlRead {
  const documents = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
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
  try {
    return { ok: true, value: document.toJS({ maxAliasCount: 100 }) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, errors: [{ path: DOCUMENT_PATH, message: `YAML could not be read: ${reason}; check anchors (&name) and aliases (*name)` }] };
  }
}
