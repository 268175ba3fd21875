import * as ts from 'typescript';

/** Parses a TypeScript file for inspection (positions are the file's own). */
export function parse(path: string, content: string): ts.SourceFile {
  return ts.createSourceFile(path, content, ts.ScriptTarget.Latest, true);
}

/** Inserts `text` at `position`. */
function insertAt(content: string, position: number, text: string): string {
  return content.slice(0, position) + text + content.slice(position);
}

/**
 * Imports `symbols` from `specifier`: into an existing `import { ... } from 'specifier'` when
 * there is one, else as a new import after the last. Symbols already imported are left alone.
 */
export function addNamedImports(path: string, content: string, specifier: string, symbols: string[]): string {
  const source = parse(path, content);
  const imports = source.statements.filter(ts.isImportDeclaration);
  const imported = new Set<string>();
  let target: ts.NamedImports | undefined;
  for (const declaration of imports) {
    const bindings = declaration.importClause?.namedBindings;
    const from = (declaration.moduleSpecifier as ts.StringLiteral).text;
    if (from !== specifier || !bindings || !ts.isNamedImports(bindings)) {
      continue;
    }
    bindings.elements.forEach((element) => imported.add(element.name.text));
    // A value import can take more names; `import type { ... }` cannot.
    if (!declaration.importClause?.isTypeOnly) {
      target ??= bindings;
    }
  }
  const missing = symbols.filter((symbol) => !imported.has(symbol)).sort();
  if (missing.length === 0) {
    return content;
  }
  if (target) {
    const elements = target.elements;
    const last = elements[elements.length - 1];
    return last
      ? insertAt(content, last.getEnd(), `, ${missing.join(', ')}`)
      : insertAt(content, target.getEnd() - 1, ` ${missing.join(', ')} `);
  }
  const line = `import { ${missing.join(', ')} } from '${specifier}';`;
  const lastImport = imports[imports.length - 1];
  return lastImport ? insertAt(content, lastImport.getEnd(), `\n${line}`) : `${line}\n${content}`;
}

/** The statement `const <app> = await NestFactory.create(...)`, with the variable's name. */
export interface NestFactoryCall {
  statement: ts.Statement;
  app: string;
}

/** Whether `node` (under `await`s, casts and parentheses) calls `NestFactory.create`. */
function callsNestFactoryCreate(node: ts.Expression): boolean {
  let expression = node;
  while (ts.isAwaitExpression(expression) || ts.isParenthesizedExpression(expression) || ts.isAsExpression(expression)) {
    expression = expression.expression;
  }
  if (!ts.isCallExpression(expression) || !ts.isPropertyAccessExpression(expression.expression)) {
    return false;
  }
  const callee = expression.expression;
  return callee.name.text === 'create' && ts.isIdentifier(callee.expression) && callee.expression.text === 'NestFactory';
}

/** Finds the statement that creates the app in a main.ts, wherever it is nested. */
export function findNestFactoryCreate(source: ts.SourceFile): NestFactoryCall | undefined {
  let found: NestFactoryCall | undefined;
  const visit = (node: ts.Node): void => {
    if (found) {
      return;
    }
    if (ts.isVariableStatement(node)) {
      for (const declaration of node.declarationList.declarations) {
        if (declaration.initializer && ts.isIdentifier(declaration.name) && callsNestFactoryCreate(declaration.initializer)) {
          found = { statement: node, app: declaration.name.text };
          return;
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Inserts `lines` after `statement`, each on its own line at the statement's indentation. */
export function insertAfterStatement(content: string, statement: ts.Statement, lines: string[]): string {
  const start = statement.getStart();
  const lineStart = content.lastIndexOf('\n', start - 1) + 1;
  const indent = /^[ \t]*/.exec(content.slice(lineStart, start))?.[0] ?? '';
  return insertAt(content, statement.getEnd(), lines.map((line) => `\n${indent}${line}`).join(''));
}
