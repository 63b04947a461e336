// The packed tarball, installed into fresh projects: require(), import and a TypeScript consumer all work.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const run = (cmd: string, args: string[], cwd: string): string =>
  execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false' },
  });

let project: string;
let work: string;

beforeAll(() => {
  if (!existsSync(path.join(ROOT, 'dist', 'index.js'))) run('npm', ['run', 'build'], ROOT);
  work = mkdtempSync(path.join(tmpdir(), 'khx-pack-'));
  run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], ROOT);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack produced no tarball');
  project = path.join(work, 'consumer');
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }));
  run(
    'npm',
    ['install', '--prefer-offline', '--no-package-lock', path.join(work, tarball), 'express@5', '@types/express@5', '@types/node@20'],
    project,
  );
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships dist and README only, no sources or tests', () => {
    const listing = run(
      'tar',
      [
        '-tzf',
        path.join(
          work,
          readdirSync(work).find((f) => f.endsWith('.tgz'))!,
        ),
      ],
      work,
    );
    expect(listing).toContain('package/dist/index.js');
    expect(listing).toContain('package/dist/index.d.ts');
    expect(listing).toContain('package/README.md');
    expect(listing).not.toMatch(/package\/(lib|__tests__)\//);
  });

  it('works with require() and answers a real request', () => {
    writeFileSync(
      path.join(project, 'cjs.js'),
      `
const http = require('node:http');
const express = require('express');
const { khaltiVerifier, MemoryStore, KhaltiClient, KhaltiError, isKhaltiError } = require('khalti-express');
let thrown;
try { khaltiVerifier({ secretKey: 'k', expectedAmount: () => 1000 }); } catch (e) { thrown = e; }
const app = express();
const router = khaltiVerifier({ secretKey: 'k', expectedAmount: () => 1000, onVerified: () => {}, store: new MemoryStore() });
app.use(router);
const server = app.listen(0, '127.0.0.1', () => {
  const req = http.request({ port: server.address().port, host: '127.0.0.1', path: '/khalti/verify', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
    let text = '';
    res.on('data', (c) => (text += c));
    res.on('end', () => {
      server.close();
      console.log(JSON.stringify({
        status: res.statusCode, body: JSON.parse(text), client: router.client instanceof KhaltiClient,
        thrown: isKhaltiError(thrown) && thrown instanceof KhaltiError ? thrown.code : null,
      }));
    });
  });
  req.end('{"amount":1000}');
});
`,
    );
    const result = JSON.parse(run('node', ['cjs.js'], project));
    expect(result).toEqual({
      status: 400,
      body: { ok: false, error: { code: 'invalid_request', message: expect.any(String), details: ['orderId', 'token'] } },
      client: true,
      thrown: 'invalid_option',
    });
  });

  it('works with ESM import, including the conformance entry point', () => {
    writeFileSync(
      path.join(project, 'esm.mjs'),
      `
import { khaltiVerifier, MemoryStore, isKhaltiError } from 'khalti-express';
import { runStoreConformance } from 'khalti-express/conformance';
import { createKhaltiSandbox } from 'khalti-express/sandbox';
console.log([typeof khaltiVerifier, typeof MemoryStore, typeof isKhaltiError, typeof runStoreConformance, typeof createKhaltiSandbox].join(','));
`,
    );
    expect(run('node', ['esm.mjs'], project).trim()).toBe('function,function,function,function,function');
  });

  it("imports every subpath of the exports map from ESM, the store drivers being the shop's own", () => {
    // The drivers are optional peer dependencies: a shop installs the one its store needs.
    for (const driver of ['pg', 'ioredis', 'better-sqlite3', 'mysql2']) {
      const link = path.join(project, 'node_modules', driver);
      if (!existsSync(link)) symlinkSync(path.join(ROOT, 'node_modules', driver), link, 'dir');
    }
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    const subpaths = Object.keys(manifest.exports).filter((p) => p !== './package.json');
    const lines = subpaths.map((p, i) => `import * as m${i} from '${p === '.' ? 'khalti-express' : `khalti-express/${p.slice(2)}`}';`);
    writeFileSync(
      path.join(project, 'every.mjs'),
      `${lines.join('\n')}\nconsole.log(JSON.stringify([${subpaths.map((_, i) => `Object.keys(m${i}).length`).join(', ')}]));\n`,
    );
    const counts = JSON.parse(run('node', ['every.mjs'], project)) as number[];
    expect(counts).toHaveLength(subpaths.length);
    for (const count of counts) expect(count).toBeGreaterThan(0);
  });

  it('type-checks an ESM TypeScript consumer ("type": "module", nodenext)', () => {
    const esm = path.join(work, 'esm-consumer');
    mkdirSync(esm, { recursive: true });
    if (!existsSync(path.join(esm, 'node_modules'))) symlinkSync(path.join(project, 'node_modules'), path.join(esm, 'node_modules'), 'dir');
    writeFileSync(
      path.join(esm, 'package.json'),
      JSON.stringify({ name: 'esm-consumer', private: true, type: 'module', version: '1.0.0' }),
    );
    writeFileSync(
      path.join(esm, 'shop.ts'),
      `
import express from 'express';
import { khaltiVerifier, MemoryStore, KhaltiError, type KhaltiVerifierOptions, type ReconcileSummary } from 'khalti-express';
import { createKhaltiSandbox, type KhaltiSandbox } from 'khalti-express/sandbox';
import { runStoreConformance } from 'khalti-express/conformance';

const price: KhaltiVerifierOptions['expectedAmount'] = (orderId, req) => (req === undefined ? 1000 : orderId.length);
const app = express();
const router = khaltiVerifier({ secretKey: 'k', expectedAmount: price, onVerified: () => undefined, store: new MemoryStore() });
app.use(router);
export async function settle(): Promise<number> {
  const summary: ReconcileSummary = await router.reconcile();
  return summary.unsettled;
}
export const sandbox: Promise<KhaltiSandbox> = createKhaltiSandbox();
export const kinds = [typeof runStoreConformance, KhaltiError.name];
`,
    );
    writeFileSync(
      path.join(esm, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'ES2022',
          noEmit: true,
          types: ['node'],
        },
        files: ['shop.ts'],
      }),
    );
    expect(() => run(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', '.'], esm)).not.toThrow();
  });

  it('installs the khalti-sandbox and khalti-ledger commands', () => {
    expect(run(path.join(project, 'node_modules', '.bin', 'khalti-sandbox'), ['--help'], project)).toContain('Usage: khalti-sandbox');
    expect(run(path.join(project, 'node_modules', '.bin', 'khalti-ledger'), ['--help'], project)).toContain('Usage: khalti-ledger');
  });

  it('runs the sandbox from require(), and the verifier against it', async () => {
    writeFileSync(
      path.join(project, 'sandbox.js'),
      `
const { createKhaltiSandbox } = require('khalti-express/sandbox');
const { KhaltiClient } = require('khalti-express');
(async () => {
  const sandbox = await createKhaltiSandbox();
  const { token } = sandbox.pay({ amount: 1000 });
  const client = new KhaltiClient({ secretKey: sandbox.secretKey, baseUrl: sandbox.baseUrl });
  const outcome = await client.verify(token, 1000);
  console.log(outcome.kind, sandbox.transaction(token).state);
  await sandbox.close();
})();
`,
    );
    expect(run('node', ['sandbox.js'], project).trim()).toBe('completed Completed');
  });

  it('exposes only its exports map', () => {
    writeFileSync(
      path.join(project, 'deep.js'),
      `try { require('khalti-express/dist/flow/verify.js'); console.log('open'); } catch (e) { console.log(e.code); }`,
    );
    expect(run('node', ['deep.js'], project).trim()).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('type-checks a TypeScript consumer', () => {
    writeFileSync(
      path.join(project, 'consumer.ts'),
      `
import express from 'express';
import { khaltiVerifier, MemoryStore, isKhaltiError, type KhaltiApi, type VerifiedPayment, type LedgerStore } from 'khalti-express';

const store: LedgerStore = new MemoryStore();
const app = express();
const router = khaltiVerifier({
  secretKey: 'k',
  expectedAmount: async (orderId: string) => (orderId === 'A-17' ? 1000 : null),
  onVerified: async (payment: VerifiedPayment) => ({ receipt: payment.transactionId ?? payment.token }),
  onFailed: (failure) => { const code: string = failure.code; void code; },
  store,
});
app.use(router);
const client: KhaltiApi = router.client;
void client.status('t', 1000).then((outcome) => (outcome.kind === 'status' ? outcome.state : outcome.kind));
export const ok: boolean = isKhaltiError(new Error('x'));
`,
    );
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'node16',
          moduleResolution: 'node16',
          target: 'ES2022',
          noEmit: true,
          esModuleInterop: true,
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    expect(() => run(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', '.'], project)).not.toThrow();
  });
});
