// One ledger that several app processes (__tests__/fixtures/ledger-app.js) share: a PostgreSQL or MySQL
// table, or a Redis prefix, unique to the test, with an admin connection to inspect it and drop it after.
import mysql from 'mysql2/promise';
import pg from 'pg';
import { Redis } from 'ioredis';
import { dropPostgresLedger, MYSQL_URL, PG_URL, REDIS_URL, uniqueName, unavailable } from './services';

export type SharedKind = 'postgres' | 'mysql' | 'redis';

/** The stores several instances can share, for `describe.each` / `it.each`. */
export const SHARED_KINDS: SharedKind[] = ['postgres', 'mysql', 'redis'];

export interface SharedLedger {
  kind: SharedKind;
  /** Table (SQL) or key prefix (Redis). */
  name: string;
  /** KHX_STORE, KHX_STORE_URL and KHX_STORE_NAME for the child apps. */
  env: Record<string, string>;
  /** SQL stores: run a query on the ledger's database (rows as plain objects). */
  query(sql: string): Promise<Array<Record<string, unknown>>>;
  /** Redis: the admin connection. */
  redis: Redis | undefined;
  /** Drop the table or keys and close the admin connection. */
  drop(): Promise<void>;
}

export async function sharedLedger(kind: SharedKind, label: string): Promise<SharedLedger> {
  const env = (url: string, name: string) => ({ KHX_STORE: kind, KHX_STORE_URL: url, KHX_STORE_NAME: name });
  const noSql = async (): Promise<never> => {
    throw new Error(`${kind} is not a SQL store`);
  };
  switch (kind) {
    case 'postgres': {
      const name = uniqueName(`khx_${label}`);
      const admin = new pg.Pool({ connectionString: PG_URL, max: 1 });
      await admin.query('SELECT 1').catch(async (error: unknown) => {
        await admin.end();
        throw unavailable(`PostgreSQL at ${PG_URL}`, error);
      });
      return {
        kind,
        name,
        env: env(PG_URL, name),
        query: async (sql) => (await admin.query(sql)).rows as Array<Record<string, unknown>>,
        redis: undefined,
        drop: async () => {
          await dropPostgresLedger(admin, name).catch(() => undefined);
          await admin.end();
        },
      };
    }
    case 'mysql': {
      const name = uniqueName(`khx_${label}`);
      const admin = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 1 });
      await admin.query('SELECT 1').catch(async (error: unknown) => {
        await admin.end();
        throw unavailable(`MySQL/MariaDB at ${MYSQL_URL}`, error);
      });
      return {
        kind,
        name,
        env: env(MYSQL_URL, name),
        query: async (sql) => (await admin.query<mysql.RowDataPacket[]>(sql))[0] as Array<Record<string, unknown>>,
        redis: undefined,
        drop: async () => {
          await admin.query(`DROP TABLE IF EXISTS ${name}`).catch(() => undefined);
          await admin.end();
        },
      };
    }
    case 'redis': {
      const name = `${uniqueName(`khx${label}`)}:`;
      const admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await admin.connect().catch((error: unknown) => {
        admin.disconnect();
        throw unavailable(`Redis at ${REDIS_URL}`, error);
      });
      return {
        kind,
        name,
        env: env(REDIS_URL, name),
        query: noSql,
        redis: admin,
        drop: async () => {
          const keys = await admin.keys(`${name}*`).catch(() => [] as string[]);
          if (keys.length > 0) await admin.del(...keys);
          admin.disconnect();
        },
      };
    }
  }
}
