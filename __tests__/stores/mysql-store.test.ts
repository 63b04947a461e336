// MysqlStore runs the store conformance suite unchanged against a real MariaDB (or MySQL) server.
import mysql from 'mysql2/promise';
import { runStoreConformance } from '../../lib';
import { mysqlSchema, MysqlStore } from '../../lib/stores/mysql';
import { MYSQL_URL, uniqueName, unavailable } from '../helpers/services';

const table = uniqueName('khx_conf');
let admin: mysql.Pool;

beforeAll(async () => {
  admin = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 2 });
  try {
    await admin.query('SELECT 1');
  } catch (error) {
    throw unavailable(`MySQL/MariaDB at ${MYSQL_URL}`, error);
  }
});

afterAll(async () => {
  const [tables] = await admin.query<mysql.RowDataPacket[]>(
    'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ?',
    [`khx_%_${process.pid}_%`],
  );
  for (const { name } of tables) await admin.query(`DROP TABLE IF EXISTS ${String(name)}`);
  await admin.end();
});

const makeStore = () => new MysqlStore({ uri: MYSQL_URL, table });
// A restart: a new instance (a new pool) on the same table.
runStoreConformance(makeStore, undefined, { reopen: makeStore });

describe('MysqlStore', () => {
  it('creates its table on first use, safely when several instances start at once, InnoDB with binary keys', async () => {
    const fresh = uniqueName('khx_race');
    const stores = Array.from({ length: 4 }, () => new MysqlStore({ uri: MYSQL_URL, table: fresh }));
    try {
      await Promise.all(stores.map((store) => store.count()));
      const [info] = await admin.query<mysql.RowDataPacket[]>(
        'SELECT engine AS engine, table_collation AS collation FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?',
        [fresh],
      );
      expect(info[0]).toMatchObject({ engine: 'InnoDB', collation: 'utf8mb4_bin' });
      // Tokens differ by case: two records, not one.
      for (const token of ['AbcToken', 'abctoken'])
        await stores[0]!.claim({ token, orderId: `o-${token}`, amount: 1000, owner: 'a', now: 1, leaseMs: 10 });
      expect(await stores[1]!.count()).toBe(2);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await admin.query(`DROP TABLE IF EXISTS ${fresh}`);
    }
  });

  it('the database itself refuses a second paid token for one order', async () => {
    const fresh = uniqueName('khx_paid');
    await admin.query(mysqlSchema(fresh));
    try {
      const row = (token: string, state: string) => [token, 'order-1', 1000, state, null, 0, null, null, null, null, 1, 1];
      const insert = `INSERT INTO ${fresh} (token, order_id, amount, state, owner, lease_until, transaction_id, khalti, response, failure_code, created_at, updated_at) VALUES (?)`;
      await admin.query(insert, [row('t1', 'fulfilled')]);
      await admin.query(insert, [row('t2', 'claimed')]);
      await expect(admin.query(`UPDATE ${fresh} SET state = 'verified' WHERE token = 't2'`)).rejects.toMatchObject({
        code: 'ER_DUP_ENTRY',
      });
      await expect(admin.query(insert, [row('t3', 'paid')])).rejects.toThrow(/constraint/i);
    } finally {
      await admin.query(`DROP TABLE IF EXISTS ${fresh}`);
    }
  });

  it('refuses to start without a pool or URI, or with a bad table name', () => {
    expect(() => new MysqlStore({})).toThrow(/pool.*uri/);
    expect(() => new MysqlStore({ uri: MYSQL_URL, table: 'x; DROP' })).toThrow(/invalid table name/);
  });
});
