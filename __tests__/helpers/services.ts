// Where the test databases are: KHX_PG_URL / KHX_REDIS_URL, else the loopback defaults `npm run services` provides.
import { postgresFunctionNames } from '../../lib/stores/postgres';

export const PG_URL = process.env.KHX_PG_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.KHX_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const MYSQL_URL = process.env.KHX_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

const HOW =
  'Run the suite with `npm test` (it starts PostgreSQL and Redis, installing them with apt-get only if they do not answer), ' +
  'or set KHX_PG_URL / KHX_REDIS_URL.';

/** Fail (never skip) with a message that says how to start the server. */
export function unavailable(what: string, error: unknown): Error {
  return new Error(`${what} is not reachable (${error instanceof Error ? error.message : String(error)}). ${HOW}`);
}

/** A table name unique to this test process, so parallel jest workers never share rows. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}`.replace(/[^A-Za-z0-9_]/g, '_');
}

/** Drop a PostgresStore's table and the functions its schema made beside it. */
export async function dropPostgresLedger(pool: { query(sql: string): Promise<unknown> }, table: string): Promise<void> {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  for (const name of postgresFunctionNames(table)) await pool.query(`DROP FUNCTION IF EXISTS ${name}`);
}
