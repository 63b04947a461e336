// The code's layout holds: no import cycles in lib/, the HTTP layer on top (express only there), the
// flow under it, nothing below either importing them, and no file past ~250 lines (docs/code-layout.md).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const LIB = path.resolve(__dirname, '..', '..', 'lib');
const MAX_LINES = 250;
/** The store conformance suite is one long list of cases, on purpose. */
const LONG_ALLOWED = new Set(['ledger/conformance.ts']);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : name.endsWith('.ts') ? [full] : [];
  });
}

const files = filesUnder(LIB).map((file) => path.relative(LIB, file).split(path.sep).join('/'));

interface Import {
  from: string;
  /** A lib/ file, relative to lib/, or the package name. */
  to: string;
  typeOnly: boolean;
}

/** Every import and re-export of every file, relative ones resolved to the lib/ file they name. */
const imports: Import[] = files.flatMap((file) => {
  const text = readFileSync(path.join(LIB, file), 'utf8');
  const found: Import[] = [];
  for (const match of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm)) {
    const [, type, specifier] = match as unknown as [string, string | undefined, string];
    let to = specifier;
    if (specifier.startsWith('.')) {
      const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
      to = files.includes(`${base}.ts`) ? `${base}.ts` : `${base}/index.ts`;
    }
    found.push({ from: file, to, typeOnly: type !== undefined });
  }
  return found;
});

const inHttp = (file: string): boolean => file.startsWith('http/') || file.startsWith('admin/') || file === 'verifier.ts';
const top = (file: string): boolean => inHttp(file) || file === 'index.ts';

describe('the code layout', () => {
  it('finds the files and their imports it checks', () => {
    expect(files).toEqual(expect.arrayContaining(['verifier.ts', 'flow/verify.ts', 'http/adapter.ts', 'ledger/keys.ts']));
    expect(imports.filter((i) => i.from === 'verifier.ts').length).toBeGreaterThan(3);
    for (const { to } of imports) if (!to.includes('/') || to.endsWith('.ts')) expect(to.endsWith('.ts') ? files : [to]).toContain(to);
  });

  it('has no import cycles in lib/', () => {
    const graph = new Map(files.map((file) => [file, imports.filter((i) => i.from === file && i.to.endsWith('.ts')).map((i) => i.to)]));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, trail: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].join(' → '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('imports express (as a value) only in the HTTP layer', () => {
    const outside = imports.filter((i) => (i.to === 'express' || i.to.startsWith('express/')) && !i.typeOnly && !inHttp(i.from));
    expect(outside).toEqual([]);
  });

  it('lets only the HTTP layer and the index import the flow, and only the index import the HTTP layer', () => {
    const flowFromBelow = imports.filter((i) => i.to.startsWith('flow/') && !i.from.startsWith('flow/') && !top(i.from));
    const httpFromBelow = imports.filter((i) => i.to.startsWith('http/') && !top(i.from));
    expect(flowFromBelow).toEqual([]);
    expect(httpFromBelow).toEqual([]);
  });

  it(`keeps every file under about ${MAX_LINES} lines`, () => {
    const long = files
      .filter((file) => !LONG_ALLOWED.has(file))
      .map((file) => ({ file, lines: readFileSync(path.join(LIB, file), 'utf8').split('\n').length }))
      .filter(({ lines }) => lines > MAX_LINES);
    expect(long).toEqual([]);
  });
});
