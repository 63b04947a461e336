// Open the ledger a `--store` spec names. Each store is loaded only when named: its driver (pg,
// ioredis, better-sqlite3, mysql2) is an optional peer dependency the shop may not have installed.

import type { LedgerStore } from '../ledger/store';
import type * as Mysql from '../stores/mysql';
import type * as Postgres from '../stores/postgres';
import type * as Redis from '../stores/redis';
import type * as Sqlite from '../stores/sqlite';

export class UsageError extends Error {}

// A plain require, so the store (and its driver) is loaded only when the spec names it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = (id: string): unknown => require(id);

/** `sqlite:PATH`, `postgres://…` / `postgresql://…`, `mysql://…`, `redis://…` / `rediss://…`. */
export async function openStore(spec: string, table: string | undefined): Promise<LedgerStore> {
  if (spec.startsWith('sqlite:')) {
    const filename = spec.slice('sqlite:'.length);
    if (filename === '') throw new UsageError('--store sqlite:PATH needs a file path');
    const { SqliteStore } = load('../stores/sqlite') as typeof Sqlite;
    return new SqliteStore({ filename, ...(table ? { table } : {}) });
  }
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const { PostgresStore } = load('../stores/postgres') as typeof Postgres;
    return new PostgresStore({ connectionString: spec, ...(table ? { table } : {}) });
  }
  if (spec.startsWith('mysql://')) {
    const { MysqlStore } = load('../stores/mysql') as typeof Mysql;
    return new MysqlStore({ uri: spec, ...(table ? { table } : {}) });
  }
  if (/^rediss?:\/\//.test(spec)) {
    const { RedisStore } = load('../stores/redis') as typeof Redis;
    return new RedisStore({ url: spec, ...(table ? { prefix: table } : {}) });
  }
  throw new UsageError(
    `--store must be sqlite:PATH, postgres://…, mysql://… or redis://… (got ${JSON.stringify(spec.replace(/\/\/[^@/]*@/, '//…@'))})`,
  );
}
