// Builds the collection into ../schematics-dist (never ../dist: see the README): tsc compiles the
// factories; collection.json, the schema.json files and the templates under files/ are copied.
const { execFileSync } = require('node:child_process');
const { cpSync, rmSync } = require('node:fs');
const { basename, join, sep } = require('node:path');

const source = __dirname;
const output = join(__dirname, '..', 'schematics-dist');

rmSync(output, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(source, 'tsconfig.json')], {
  stdio: 'inherit',
});
cpSync(source, output, {
  recursive: true,
  filter: (path) =>
    path === source ||
    path.includes(`${sep}files${sep}`) ||
    basename(path) === 'files' ||
    ['collection.json', 'schema.json'].includes(basename(path)) ||
    !basename(path).includes('.'),
});
