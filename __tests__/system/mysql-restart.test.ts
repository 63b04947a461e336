// MariaDB (or MySQL) goes down mid-load and comes back (helpers/restart-scenario.ts): requests fail closed
// meanwhile, and no payment is lost. Runs its own server (mariadb-install-db in a temp folder, on a free
// port), so stopping it disturbs no other test.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { useSandbox } from '../helpers/sandbox';
import { MysqlStore } from '../../lib/stores/mysql';
import { SECRET_KEY } from '../helpers/app';
import { freePort } from '../helpers/free-port';
import { restartMidLoad } from '../helpers/restart-scenario';

const run = promisify(execFile);

/** The first of the names found in the system's binary folders (Debian puts the server in /usr/sbin). */
function binary(...names: string[]): string {
  for (const name of names)
    for (const folder of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']) {
      const candidate = path.join(folder, name);
      if (existsSync(candidate)) return candidate;
    }
  return names[0]!;
}

let dir: string;
let port: number;
let server: ChildProcess | undefined;
const sandbox = useSandbox({ secretKey: SECRET_KEY });
const asRoot = process.getuid?.() === 0;
/** The server refuses to run as root unless told a user: the `mysql` user the package created. */
const userFlag = asRoot ? ['--user=mysql'] : [];
const url = () => `mysql://root@127.0.0.1:${port}/khx`;

async function startServer(): Promise<void> {
  const child = spawn(
    binary('mariadbd', 'mysqld'),
    [
      '--no-defaults',
      `--datadir=${path.join(dir, 'data')}`,
      `--socket=${path.join(dir, 'sock')}`,
      `--pid-file=${path.join(dir, 'pid')}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=32M',
      ...userFlag,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  server = child;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the test's MariaDB exited (${child.exitCode}): ${stderr.slice(-2000)}`);
    try {
      const connection = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' });
      await connection.query('CREATE DATABASE IF NOT EXISTS khx');
      await connection.end();
      return;
    } catch (error) {
      if (Date.now() - started > 30_000) throw new Error(`the test's MariaDB did not answer: ${stderr.slice(-2000)}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** A normal shutdown (SIGTERM): the server closes every connection and exits. */
async function stopServer(): Promise<void> {
  const child = server;
  server = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'khx-my-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'mysql'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'mysql'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  port = await freePort();
  try {
    await run(binary('mariadb-install-db', 'mysql_install_db'), [
      '--no-defaults',
      `--datadir=${path.join(dir, 'data')}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      ...userFlag,
    ]);
  } catch (error) {
    throw new Error(
      `This test runs its own MariaDB and needs its server binaries (mariadb-install-db, mariadbd; \`npm run services\` installs them): ${(error as Error).message}`,
      { cause: error },
    );
  }
  await startServer();
}, 90_000);

afterAll(async () => {
  await stopServer();
  rmSync(dir, { recursive: true, force: true });
});

describe('MariaDB restarted mid-load', () => {
  it('fails closed while it is down and loses no payment', async () => {
    await restartMidLoad(sandbox, {
      makeStore: () => new MysqlStore({ uri: url() }),
      stop: stopServer,
      start: startServer,
      fulfilledTokens: async () => {
        const admin = await mysql.createConnection(url());
        try {
          const [rows] = await admin.query<mysql.RowDataPacket[]>(`SELECT token FROM khalti_payments WHERE state = 'fulfilled'`);
          return rows.map((r) => String(r.token));
        } finally {
          await admin.end();
        }
      },
    });
  }, 120_000);
});
