// serve in standalone mode (--policy FILE) must not load @kubernetes/client-node: it is ~65 MB of
// RSS and most of the live heap, which makes every garbage collection under load dearer. The
// check walks the static imports that survive compilation (`import type` is erased; under
// verbatimModuleSyntax everything else is kept), so a new eager import anywhere below serve.ts
// fails here, while the dynamic import() of cluster mode does not count.
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';

interface Reached {
  /** Package specifiers imported eagerly anywhere in the graph, with the file that imports them. */
  readonly packages: Map<string, string>;
  readonly files: Set<string>;
}

function eagerSpecifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const specifiers: string[] = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      if (statement.importClause?.isTypeOnly) continue;
      specifiers.push((statement.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier !== undefined && !statement.isTypeOnly) {
      specifiers.push((statement.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return specifiers;
}

function staticGraph(entry: string): Reached {
  const reached: Reached = { packages: new Map(), files: new Set() };
  const pending = [resolve(entry)];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (reached.files.has(file)) continue;
    reached.files.add(file);
    for (const specifier of eagerSpecifiers(file)) {
      if (!specifier.startsWith('.')) {
        if (!reached.packages.has(specifier)) reached.packages.set(specifier, file);
        continue;
      }
      const target = join(dirname(file), specifier.replace(/\.js$/, '.ts'));
      if (!existsSync(target)) throw new Error(`${file}: cannot resolve ${specifier} to ${target}`);
      pending.push(target);
    }
  }
  return reached;
}

describe('serve module graph', () => {
  it('loads no Kubernetes client until --policy-configmap asks for it', () => {
    const graph = staticGraph('src/cli/commands/serve.ts');
    // The walk really follows the server's imports (guards against a walk that sees nothing).
    expect([...graph.files].some((f) => f.endsWith('src/server/webhook-app.ts'))).toBe(true);
    expect(graph.packages.has('express')).toBe(true);
    expect(graph.packages.get('@kubernetes/client-node')).toBeUndefined();
  });

  it('the walk does see client-node where it is imported eagerly', () => {
    expect(staticGraph('src/cluster/cluster-sources.ts').packages.has('@kubernetes/client-node')).toBe(true);
  });
});
