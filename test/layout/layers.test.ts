// Which folder of src/ may import which (type-only imports included: a type import is still a
// dependency a reader has to follow). The ground floor imports nothing of the rest; the engine only
// itself and the floor; the HTTP server reaches the world through the ports, never through the
// allocator or the Kubernetes adapters; only the CLI wires everything together.
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  foundation: [],
  engine: ['foundation'],
  ports: ['engine', 'foundation'],
  metrics: ['ports', 'foundation'],
  admission: ['engine', 'foundation', 'ports'],
  server: ['admission', 'engine', 'foundation', 'ports'],
  allocation: ['engine', 'foundation', 'ports'],
  cluster: ['allocation', 'engine', 'foundation', 'ports'],
  audit: ['admission', 'allocation', 'cluster', 'engine', 'foundation', 'ports'],
  cli: ['admission', 'allocation', 'audit', 'cluster', 'engine', 'foundation', 'metrics', 'ports', 'server'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative module specifier of a file: static imports and exports, and dynamic import(). */
function relativeSpecifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found.filter((specifier) => specifier.startsWith('.'));
}

/** "from-folder → to-folder (file imports specifier)" for every import between top-level folders of src/. */
function crossings(): Array<{ from: string; to: string; line: string }> {
  return sourceFiles('src').flatMap((file) => {
    const from = relative('src', file).split('/')[0]!;
    return relativeSpecifiers(file).map((specifier) => {
      const target = relative('src', normalize(join(dirname(file), specifier)));
      return { from, to: target.split('/')[0]!, line: `${file} imports ${specifier}` };
    });
  });
}

describe('the layers of src/', () => {
  const all = crossings();

  it('knows every top-level folder (a new one must be given its place here)', () => {
    const folders = readdirSync('src', { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    expect(folders.sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  it('sees the imports it judges (guards against a walk that finds nothing)', () => {
    expect(all.some((c) => c.from === 'server' && c.to === 'admission')).toBe(true);
    expect(all.some((c) => c.from === 'cli' && c.to === 'cluster')).toBe(true);
  });

  it.each(Object.keys(ALLOWED))('%s imports only what its layer may', (folder) => {
    const allowed = new Set([folder, ...ALLOWED[folder]!]);
    const wrong = all.filter((c) => c.from === folder && !allowed.has(c.to)).map((c) => c.line);
    expect(wrong).toEqual([]);
  });
});
