// `khalti-ledger`, the built command run as a process, against a shop's real ledger and the sandbox:
// help and usage errors (exit 2), list/show as tables and JSON with paging, refunds confirmed or not
// (exit 0/1, one POST), reconcile with its progress line, with --store and with --app, and no secret in
// any output.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LedgerStore } from '../../lib';
import { MysqlStore } from '../../lib/stores/mysql';
import { PostgresStore } from '../../lib/stores/postgres';
import { RedisStore } from '../../lib/stores/redis';
import { SqliteStore } from '../../lib/stores/sqlite';
import { createShop, SECRET_KEY } from '../helpers/app';
import { ensureBuilt } from '../helpers/child-app';
import { useSandbox } from '../helpers/sandbox';
import { SHARED_KINDS, sharedLedger, type SharedLedger } from '../helpers/shared-ledger';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli', 'khalti-ledger.js');
const sandbox = useSandbox({ secretKey: SECRET_KEY });
let dir: string;
let file: string;

beforeAll(() => ensureBuilt(), 120_000);
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'khx-cli-'));
  file = path.join(dir, 'ledger.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run the command (asynchronously: the sandbox answers from this process's event loop). */
function cli(args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', KHALTI_SECRET_KEY: SECRET_KEY, KHALTI_BASE_URL: sandbox.baseUrl, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(options.input ?? '');
    child.on('close', (status) => {
      expect(stdout + stderr).not.toContain(SECRET_KEY.slice('test_secret_key_'.length));
      resolve({ status, stdout, stderr });
    });
  });
}

/** A shop on a SQLite ledger with `n` paid orders (A-1 … A-n, Rs 10 each); its tokens, oldest first. */
async function shopWithPayments(n: number): Promise<string[]> {
  const prices = Object.fromEntries(Array.from({ length: n }, (_, i) => [`A-${i + 1}`, 1000]));
  const store = new SqliteStore({ filename: file });
  const shop = createShop({ baseUrl: sandbox.baseUrl, store, prices });
  const tokens: string[] = [];
  for (let i = 1; i <= n; i += 1) {
    const { token } = sandbox.pay({ amount: 1000 });
    expect((await shop.post({ token, amount: 1000, orderId: `A-${i}` })).status).toBe(200);
    tokens.push(token);
  }
  await store.close();
  return tokens;
}

const refundPosts = () => sandbox.requests.filter((r) => r.path.endsWith('/refund/'));

describe('khalti-ledger', () => {
  it('prints help for itself and every command (exit 0), and refuses bad usage with exit 2', async () => {
    expect(await cli(['--help'])).toMatchObject({ status: 0, stdout: expect.stringContaining('Usage: khalti-ledger <command>') });
    for (const command of ['list', 'show', 'reconcile', 'refund', 'settle-refund']) {
      expect(await cli([command, '--help'])).toMatchObject({
        status: 0,
        stdout: expect.stringContaining(`Usage: khalti-ledger ${command}`),
      });
    }
    const store = `sqlite:${file}`;
    for (const args of [
      [],
      ['bogus'],
      ['list'],
      ['list', '--store', store, '--state', 'paid'],
      ['list', '--store', store, '--limit', '0'],
      ['show', '--store', store],
      ['list', '--nope'],
      ['list', '--store', 'mongodb://x'],
    ]) {
      const ran = await cli(args, { env: { KHALTI_LEDGER_STORE: '' } });
      expect({ args, status: ran.status }).toEqual({ args, status: 2 });
      expect(ran.stderr).toMatch(/^khalti-ledger: .+\nRun `khalti-ledger --help`/);
    }
    expect((await cli(['refund', 'x', '--store', store], { env: { KHALTI_SECRET_KEY: '' } })).stderr).toContain('set KHALTI_SECRET_KEY');
  }, 60_000);

  it('lists newest first as a table and as JSON, in pages, and shows one payment', async () => {
    const tokens = await shopWithPayments(3);
    const table = await cli(['list', '--store', `sqlite:${file}`, '--limit', '2']);
    expect(table.status).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^CREATED\s+ORDER\s+AMOUNT\s+STATE\s+KEY$/);
    expect(lines[1]).toMatch(new RegExp(`A-3\\s+Rs 10\\.00\\s+fulfilled\\s+${tokens[2]}$`));
    expect(lines[2]).toContain('A-2');
    const cursor = /^more: --before (\S+)$/.exec(lines[3]!)?.[1];
    const rest = await cli(['list', '--store', `sqlite:${file}`, '--limit', '2', '--before', cursor!, '--json'], {
      env: { KHALTI_LEDGER_STORE: 'ignored-when---store-given' },
    });
    expect(JSON.parse(rest.stdout)).toEqual({
      records: [expect.objectContaining({ token: tokens[0], orderId: 'A-1', state: 'fulfilled' })],
      next: null,
    });
    const byEnv = await cli(['list', '--order', 'A-2', '--json'], { env: { KHALTI_LEDGER_STORE: `sqlite:${file}` } });
    expect(JSON.parse(byEnv.stdout).records.map((r: { orderId: string }) => r.orderId)).toEqual(['A-2']);
    const shown = await cli(['show', tokens[0]!, '--store', `sqlite:${file}`]);
    expect(shown).toMatchObject({ status: 0 });
    expect(shown.stdout).toMatch(/order\s+A-1/);
    expect(shown.stdout).toMatch(/claimed\n.*fulfilled/);
    expect(await cli(['show', 'nope', '--store', `sqlite:${file}`])).toMatchObject({
      status: 1,
      stderr: 'khalti-ledger: no payment "nope"\n',
    });
  }, 60_000);

  it('refunds only once confirmed, partially then the rest, and says why not with exit 1', async () => {
    const [token] = await shopWithPayments(1);
    const store = ['--store', `sqlite:${file}`];
    const declined = await cli(['refund', token!, ...store], { input: 'n\n' });
    expect(declined).toMatchObject({ status: 1 });
    expect(declined.stderr).toContain('Refund Rs 10.00 of order "A-1"');
    expect(declined.stderr).toContain('not refunded (not confirmed)');
    expect(await cli(['refund', token!, ...store])).toMatchObject({ status: 1 });
    expect(refundPosts()).toEqual([]);
    const partial = await cli(['refund', token!, '--amount', '300', ...store], { input: 'y\n' });
    expect(partial).toMatchObject({ status: 0, stdout: 'refunded Rs 3.00 of order A-1; Rs 7.00 left\n' });
    const tooMuch = await cli(['refund', token!, '--amount', '800', '--yes', '--json', ...store]);
    expect(tooMuch.status).toBe(1);
    expect(JSON.parse(tooMuch.stdout).error.code).toBe('refund_too_large');
    const rest = await cli(['refund', token!, '--yes', '--json', ...store]);
    expect(JSON.parse(rest.stdout)).toMatchObject({ ok: true, amount: 700, refundedTotal: 1000, remaining: 0 });
    expect(refundPosts()).toHaveLength(2);
    expect(sandbox.transaction(token!)).toMatchObject({ state: 'Refunded', refundedAmount: 1000 });
  }, 60_000);

  it('settles a pending refund by hand, once confirmed, posting nothing', async () => {
    const store = new SqliteStore({ filename: file });
    const shop = createShop({ baseUrl: sandbox.baseUrl, store, timeoutMs: 300 });
    const { token } = sandbox.pay({ amount: 1000 });
    expect((await shop.post({ token, amount: 1000, orderId: 'A-17' })).status).toBe(200);
    await shop.router.refund({ token }, { amount: 300 });
    sandbox.faults.inject('lost_reply', { on: 'refund' });
    await expect(shop.router.refund({ token }, { amount: 200 })).rejects.toMatchObject({ code: 'refund_unknown' });
    await store.close();
    const posts = refundPosts().length;
    const args = ['settle-refund', token, '--store', `sqlite:${file}`];
    expect(await cli([...args, '--made', '--not-made'])).toMatchObject({ status: 2 });
    const asked = await cli([...args, '--made'], { input: 'no\n' });
    expect(asked).toMatchObject({ status: 1 });
    expect(asked.stderr).toContain('Settle the pending refund of Rs 2.00');
    expect(await cli([...args, '--made', '--yes'])).toMatchObject({ status: 0, stdout: 'settled as made; Rs 5.00 left\n' });
    expect(await cli([...args, '--made', '--yes'])).toMatchObject({ status: 1, stderr: expect.stringContaining('no pending refund') });
    expect(refundPosts()).toHaveLength(posts);
    const shown = await cli(['show', token, '--store', `sqlite:${file}`, '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ refundedTotal: 500, refund: null });
  }, 60_000);

  it('reconciles with a progress line: with --store it records what Khalti says, with --app it fulfils too', async () => {
    const store = new SqliteStore({ filename: file });
    const tokens: string[] = [];
    for (let i = 1; i <= 3; i += 1) {
      // A crash after claiming: Khalti completed the payment, the ledger never heard.
      const { token } = sandbox.pay({ amount: 1000, state: 'Completed' });
      await store.claim({ token, orderId: `A-${i}`, amount: 1000, owner: 'crashed', now: Date.now() - 120_000, leaseMs: 1 });
      tokens.push(token);
    }
    await store.close();
    const first = await cli(['reconcile', '--store', `sqlite:${file}`]);
    expect(first.status).toBe(1);
    expect(first.stderr).toContain('reconcile: 3/3 payments');
    expect(first.stdout).toBe('fulfilled 0, released 0, unsettled 3; refunds resolved 0, pending 0, made 0\n');
    const app = path.join(dir, 'app.js');
    const fulfilled = path.join(dir, 'fulfilled.txt');
    writeFileSync(
      app,
      `const { appendFileSync } = require('node:fs');
const { khaltiVerifier } = require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'dist', 'index.js'))});
const { SqliteStore } = require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'dist', 'stores', 'sqlite.js'))});
exports.khalti = khaltiVerifier({
  secretKey: process.env.KHALTI_SECRET_KEY, baseUrl: process.env.KHALTI_BASE_URL,
  store: new SqliteStore({ filename: ${JSON.stringify(file)} }),
  expectedAmount: () => 1000,
  onVerified: (payment) => appendFileSync(${JSON.stringify(fulfilled)}, payment.orderId + '\\n'),
});`,
    );
    const second = await cli(['reconcile', '--app', app, '--json']);
    expect(second.status).toBe(0);
    expect(JSON.parse(second.stdout)).toEqual({
      fulfilled: 3,
      released: 0,
      unsettled: 0,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    expect(readFileSync(fulfilled, 'utf8').trim().split('\n').sort()).toEqual(['A-1', 'A-2', 'A-3']);
    expect(await cli(['reconcile', '--app', app])).toMatchObject({ status: 0, stderr: '' });
  }, 60_000);

  it.each(SHARED_KINDS)(
    'opens a %s ledger by URL and lists what a shop recorded in it',
    async (kind) => {
      const ledger = await sharedLedger(kind, 'cli');
      const store = openLedger(ledger);
      try {
        const shop = createShop({ baseUrl: sandbox.baseUrl, store, prices: { 'A-1': 1000 } });
        const { token } = sandbox.pay({ amount: 1000 });
        expect((await shop.post({ token, amount: 1000, orderId: 'A-1' })).status).toBe(200);
        const ran = await cli(['list', '--store', ledger.env.KHX_STORE_URL!, '--table', ledger.name, '--json']);
        expect({ status: ran.status, stderr: ran.stderr }).toEqual({ status: 0, stderr: '' });
        expect(JSON.parse(ran.stdout)).toMatchObject({
          records: [{ token, orderId: 'A-1', state: 'fulfilled', amount: 1000 }],
          next: null,
        });
      } finally {
        await store.close?.();
        await ledger.drop();
      }
    },
    60_000,
  );
});

/** The shop's side of a shared ledger: the store class its URL names. */
function openLedger(ledger: SharedLedger): LedgerStore {
  const url = ledger.env.KHX_STORE_URL!;
  switch (ledger.kind) {
    case 'postgres':
      return new PostgresStore({ connectionString: url, table: ledger.name });
    case 'mysql':
      return new MysqlStore({ uri: url, table: ledger.name });
    case 'redis':
      return new RedisStore({ url, prefix: ledger.name });
  }
}
