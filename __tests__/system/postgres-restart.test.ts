// PostgreSQL goes down mid-load and comes back: requests fail closed meanwhile, and once it is back every
// payment Khalti confirmed is fulfilled exactly once — none lost. Runs its own PostgreSQL instance
// (initdb in a temp folder, on a free port), so stopping it disturbs no other test.
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { useSandbox } from '../helpers/sandbox';
import { PostgresStore } from '../../lib/stores/postgres';
import { createShop, SECRET_KEY } from '../helpers/app';

const run = promisify(execFile);
const PAYMENTS = 40;

/** The newest installed PostgreSQL's binaries (Debian layout), or the ones on PATH. */
function pgBin(name: string): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const candidate = path.join(root, version, 'bin', name);
    if (existsSync(candidate)) return candidate;
  }
  return name;
}

/** Run a PostgreSQL tool as the `postgres` user when we are root (PostgreSQL refuses to run as root). */
function asPostgres(tool: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', pgBin(tool), ...args]] : [pgBin(tool), args];
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let dir: string;
let port: number;
const sandbox = useSandbox({ secretKey: SECRET_KEY });
const pgCtl = (...args: string[]) => {
  const [cmd, full] = asPostgres('pg_ctl', ['-D', path.join(dir, 'data'), '-l', path.join(dir, 'log'), ...args]);
  return run(cmd, full);
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'khx-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  port = await freePort();
  try {
    const [cmd, args] = asPostgres('initdb', ['-D', path.join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
    await run(cmd, args);
  } catch (error) {
    throw new Error(
      `This test runs its own PostgreSQL and needs its server binaries (initdb, pg_ctl; \`npm run services\` installs them): ${(error as Error).message}`,
      { cause: error },
    );
  }
  await pgCtl('-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, '-w', 'start');
}, 60_000);

afterAll(async () => {
  await pgCtl('-m', 'immediate', 'stop').catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('PostgreSQL restarted mid-load', () => {
  it('fails closed while it is down and loses no payment', async () => {
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const store = new PostgresStore({ connectionString: url });
    const orders = Array.from({ length: PAYMENTS }, (_, i) => `O-${i}`);
    const shop = createShop({
      store,
      baseUrl: sandbox.baseUrl,
      leaseMs: 1_000,
      prices: Object.fromEntries(orders.map((id) => [id, 1000])),
    });
    const payments = orders.map((orderId) => ({ orderId, token: sandbox.pay({ amount: 1000 }).token }));
    const post = (p: { orderId: string; token: string }) => shop.post({ token: p.token, amount: 1000, orderId: p.orderId });
    try {
      // Load before the outage.
      const before = await Promise.all(payments.slice(0, 16).map(post));
      expect(before.map((r) => r.status)).toEqual(Array(16).fill(200));

      // 8 requests are waiting on Khalti when PostgreSQL stops: Khalti completes them, the ledger cannot record it.
      sandbox.faults.latencyMs = 1_500;
      const caught = Promise.all(payments.slice(16, 24).map(post));
      await new Promise((resolve) => setTimeout(resolve, 400));
      await pgCtl('-m', 'fast', '-w', 'stop');
      const duringOutage = await caught;
      expect(duringOutage.map((r) => r.body.error?.code)).toEqual(Array(8).fill('internal_error'));
      for (const p of payments.slice(16, 24)) expect(sandbox.transaction(p.token)?.state).toBe('Completed');

      // 8 more arrive while it is down: refused before Khalti is asked.
      sandbox.faults.latencyMs = 0;
      const whileDown = await Promise.all(payments.slice(24, 32).map(post));
      expect(whileDown.map((r) => r.body.error?.code)).toEqual(Array(8).fill('internal_error'));
      for (const p of payments.slice(24, 32)) expect(sandbox.transaction(p.token)?.state).toBe('Confirmed');
      expect(shop.verified).toHaveLength(16);

      // PostgreSQL is back: the rest of the load, and the customers' retries once the stuck leases expire.
      await pgCtl('-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, '-w', 'start');
      const after = await Promise.all(payments.slice(32).map(post));
      expect(after.map((r) => r.status)).toEqual(Array(8).fill(200));
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const retries = await Promise.all(payments.slice(16, 32).map(post));
      expect(retries.map((r) => r.status)).toEqual(Array(16).fill(200));

      // Exactly once: every payment fulfilled one time, and the ledger agrees with Khalti's own record.
      expect(shop.verified).toHaveLength(PAYMENTS);
      expect(new Set(shop.verified.map((p) => p.token)).size).toBe(PAYMENTS);
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      const ledger = await admin.query<{ token: string }>(`SELECT token FROM khalti_payments WHERE state = 'fulfilled'`);
      await admin.end();
      const completedAtKhalti = payments.filter((p) => sandbox.transaction(p.token)?.state === 'Completed').map((p) => p.token);
      expect(ledger.rows.map((r) => r.token).sort()).toEqual(completedAtKhalti.sort());
      expect(completedAtKhalti).toHaveLength(PAYMENTS);
    } finally {
      await store.close();
    }
  }, 90_000);
});
