// The real stores for suites that run on each of them: fresh SQLite files, one PostgreSQL table and one
// Redis prefix per test file, removed afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { LedgerStore } from '../../lib';
import { PostgresStore } from '../../lib/stores/postgres';
import { RedisStore } from '../../lib/stores/redis';
import { SqliteStore } from '../../lib/stores/sqlite';
import { dropPostgresLedger, PG_URL, REDIS_URL, uniqueName } from './services';

/** `[name, makeStore]` for SQLite, PostgreSQL and Redis; registers an afterAll that cleans up. */
export function realStores(label: string): Array<[string, () => LedgerStore]> {
  const dir = mkdtempSync(path.join(tmpdir(), `khx-${label}-`));
  const table = uniqueName(`khx_${label}`);
  const prefix = `${uniqueName(`khx${label}`)}:`;
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
    await dropPostgresLedger(admin, table);
    await admin.end();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });
  return [
    ['SqliteStore', () => new SqliteStore({ filename: path.join(dir, `${uniqueName('ledger')}.db`) })],
    ['PostgresStore', () => new PostgresStore({ connectionString: PG_URL, table })],
    ['RedisStore', () => new RedisStore({ url: REDIS_URL, prefix })],
  ];
}
