// PostgreSQL goes down mid-load and comes back (helpers/restart-scenario.ts): requests fail closed
// meanwhile, and no payment is lost. Runs its own PostgreSQL instance (initdb in a temp folder, on a free
// port), so stopping it disturbs no other test.
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { useSandbox } from '../helpers/sandbox';
import { PostgresStore } from '../../lib/stores/postgres';
import { SECRET_KEY } from '../helpers/app';
import { freePort } from '../helpers/free-port';
import { restartMidLoad } from '../helpers/restart-scenario';

const run = promisify(execFile);

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
    await restartMidLoad(sandbox, {
      makeStore: () => new PostgresStore({ connectionString: url }),
      stop: async () => {
        await pgCtl('-m', 'fast', '-w', 'stop');
      },
      start: async () => {
        await pgCtl('-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, '-w', 'start');
      },
      fulfilledTokens: async () => {
        const admin = new pg.Client({ connectionString: url });
        await admin.connect();
        try {
          const ledger = await admin.query<{ token: string }>(`SELECT token FROM khalti_payments WHERE state = 'fulfilled'`);
          return ledger.rows.map((r) => r.token);
        } finally {
          await admin.end();
        }
      },
    });
  }, 90_000);
});
