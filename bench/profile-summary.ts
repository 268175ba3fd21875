/**
 * Where a bench app spent its CPU: `node dist/bench/bench/profile-summary.js <file.cpuprofile> [top]`
 * on a profile from `npm run bench -- --cpu-prof <dir>`. Startup (module loading, Nest's bootstrap)
 * and idle time are left out; the rest is grouped by function, by package and by layer.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const LAYERS: Array<[RegExp, string]> = [
  [/lanarky-openai\/src\//, 'library (@lanarky/openai)'],
  [/\/bench\/app\//, 'bench app code'],
  [/node_modules\/openai\//, 'openai SDK'],
  [/node_modules\/@nestjs\//, 'Nest'],
  [/node_modules\/rxjs\//, 'rxjs'],
  [/node_modules\/(ws|express|body-parser|router|raw-body|class-validator|class-transformer)\//, 'ws, express, validation'],
  [/undici|webstreams|internal\/encoding/, 'Node fetch (undici, web streams)'],
  [/^node:/, 'Node core (http, net, streams)'],
];

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/dist\/bench\//, '');
  return `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
}

function layer(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName === '(garbage collector)' ? 'garbage collector' : `native: ${functionName}`;
  return LAYERS.find(([pattern]) => pattern.test(url))?.[1] ?? 'other';
}

function summarise(file: string, top: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  profile.nodes.forEach((node) => node.children?.forEach((child) => parents.set(child, node.id)));
  const startup = new Map<number, boolean>();
  const isStartup = (id: number): boolean => {
    const known = startup.get(id);
    if (known !== undefined) return known;
    const node = nodes.get(id)!;
    const { url, functionName } = node.callFrame;
    const own = url.includes('cjs/loader') || functionName === 'compileForInternalLoader';
    const parent = parents.get(id);
    const result = own || (parent !== undefined && isStartup(parent));
    startup.set(id, result);
    return result;
  };
  const byFunction = new Map<string, number>();
  const byLayer = new Map<string, number>();
  let busy = 0;
  let skipped = 0;
  profile.samples.forEach((id, i) => {
    const node = nodes.get(id)!;
    const micros = profile.timeDeltas[i] ?? 0;
    if (node.callFrame.functionName === '(idle)') return;
    if (isStartup(id)) {
      skipped += micros;
      return;
    }
    busy += micros;
    byFunction.set(label(node), (byFunction.get(label(node)) ?? 0) + micros);
    byLayer.set(layer(node), (byLayer.get(layer(node)) ?? 0) + micros);
  });
  const table = (entries: Map<string, number>, count: number) =>
    [...entries]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, micros]) => `${(micros / 1000).toFixed(0).padStart(7)} ms ${((100 * micros) / busy).toFixed(1).padStart(5)}%  ${name}`)
      .join('\n');
  return [
    `${file}: ${(busy / 1000).toFixed(0)} ms busy after startup (${(skipped / 1000).toFixed(0)} ms of startup left out)`,
    '-- by layer (self time)',
    table(byLayer, 20),
    `-- top ${top} functions (self time)`,
    table(byFunction, top),
  ].join('\n');
}

const [, , ...args] = process.argv;
const top = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 30);
const files = args.filter((arg) => arg.endsWith('.cpuprofile'));
if (files.length === 0) {
  console.error('usage: node dist/bench/bench/profile-summary.js <file.cpuprofile>... [top]');
  process.exit(2);
}
files.forEach((file) => console.log(`${summarise(file, top)}\n`));
