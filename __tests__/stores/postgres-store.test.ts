// PostgresStore runs the store conformance suite unchanged against a real PostgreSQL server.
import pg from 'pg';
import { runStoreConformance } from '../../lib';
import { postgresFunctionNames, postgresSchema, PostgresStore } from '../../lib/stores/postgres';
import { dropPostgresLedger, PG_URL, uniqueName, unavailable } from '../helpers/services';

const table = uniqueName('khx_conf');
let admin: pg.Pool;

beforeAll(async () => {
  admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
  try {
    await admin.query('SELECT 1');
  } catch (error) {
    throw unavailable(`PostgreSQL at ${PG_URL}`, error);
  }
});

afterAll(async () => {
  const tables = await admin.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE tablename LIKE $1`, [
    `khx_%_${process.pid}_%`,
  ]);
  for (const { tablename } of tables.rows) {
    await dropPostgresLedger(admin, tablename);
  }
  await admin.end();
});

const makeStore = () => new PostgresStore({ connectionString: PG_URL, table });
// A restart: a new instance (a new pool) on the same table.
runStoreConformance(makeStore, undefined, { reopen: makeStore });

describe('PostgresStore', () => {
  it('claims a new token in one round trip and each transition in one, and its table can still be dropped', async () => {
    const fresh = uniqueName('khx_trips');
    const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
    const store = new PostgresStore({ pool, table: fresh });
    try {
      await store.migrate();
      // Every statement any connection sends (a transaction's BEGIN, lock, reads and COMMIT included).
      const spy = jest.spyOn(pg.Client.prototype, 'query');
      const sent = {
        get length() {
          return spy.mock.calls.length;
        },
        text: (i: number) => {
          const config = spy.mock.calls[i]![0] as unknown;
          return typeof config === 'string' ? config : String((config as { text: string }).text);
        },
      };
      const claim = { token: 'new-1', orderId: 'o-1', amount: 1000, owner: 'a', now: 1, leaseMs: 60_000 };
      expect(await store.claim(claim)).toMatchObject({ status: 'claimed', takenOver: false });
      expect(sent).toHaveLength(1);
      expect(sent.text(0)).toContain(`FROM ${fresh}_claim(`);
      expect(await store.markVerified('new-1', 'a', { transactionId: 'tx-1', khalti: { idx: 'tx-1' }, now: 2 })).toBe('verified');
      expect(await store.markFulfilled('new-1', 'a', { ok: true }, 3)).toBe(true);
      expect(sent).toHaveLength(3);
      // A replay is answered from the same single call; only a takeover needs the transaction.
      expect(await store.claim({ ...claim, owner: 'b', now: 4 })).toMatchObject({ status: 'fulfilled' });
      expect(sent).toHaveLength(4);
      // A second token of a paid order is refused by the same call.
      expect(await store.claim({ ...claim, token: 'new-2', owner: 'c', now: 5 })).toMatchObject({ status: 'order_conflict' });
      expect(sent).toHaveLength(5);
      expect(await store.get('new-2')).toBeNull();
      expect(sent).toHaveLength(6);
      // A takeover (the lease ran out, nothing verified) is the transaction: BEGIN, lock, two reads, UPDATE, COMMIT.
      await store.claim({ ...claim, token: 'new-3', orderId: 'o-3', now: 6, leaseMs: 1 });
      expect(await store.claim({ ...claim, token: 'new-3', orderId: 'o-3', owner: 'd', now: 10 })).toMatchObject({
        status: 'claimed',
        takenOver: true,
      });
      expect(Array.from({ length: sent.length - 8 }, (_, i) => sent.text(8 + i).split(' ')[0])).toEqual([
        'BEGIN',
        'SELECT',
        'SELECT',
        'SELECT',
        'UPDATE',
        'COMMIT',
      ]);
      spy.mockRestore();
    } finally {
      await store.close();
      // The claim function returns declared columns, not the table's row type: nothing depends on the table.
      await pool.query(`DROP TABLE ${fresh}`);
      for (const name of postgresFunctionNames(fresh)) await pool.query(`DROP FUNCTION ${name}`);
      await pool.end();
    }
  });

  it('groups the claims and transitions of one event-loop turn into one statement each, every caller answered as if alone', async () => {
    const fresh = uniqueName('khx_batch');
    const store = new PostgresStore({ connectionString: PG_URL, table: fresh });
    try {
      await store.migrate();
      const spy = jest.spyOn(pg.Client.prototype, 'query');
      const texts = () => spy.mock.calls.map(([config]) => String((config as unknown as { text: string }).text));
      const claim = (token: string, orderId: string, owner = token) =>
        store.claim({ token, orderId, amount: 1000, owner, now: 1, leaseMs: 60_000 });
      // Five tokens for one order, one token for three orders, and ten plain claims, all in one turn.
      const results = await Promise.all([
        ...['t1', 't2', 't3', 't4', 't5'].map((token) => claim(token, 'o-A')),
        ...['o-B', 'o-C', 'o-D'].map((orderId) => claim('dup', orderId, `dup-${orderId}`)),
        ...Array.from({ length: 10 }, (_, i) => claim(`p${i}`, `o-p${i}`)),
      ]);
      expect(texts().filter((text) => text.includes(`${fresh}_claim_many(`))).toHaveLength(1);
      expect(spy).toHaveBeenCalledTimes(1);
      const statuses = results.map((r) => r.status);
      expect(statuses.slice(0, 5).sort()).toEqual(['busy', 'busy', 'busy', 'busy', 'claimed']);
      expect(statuses.slice(5, 8).sort()).toEqual(['claimed', 'token_conflict', 'token_conflict']);
      expect(statuses.slice(8)).toEqual(Array(10).fill('claimed'));
      // The database agrees: one record per token, the winners' owners.
      const rows = await admin.query<{ token: string; order_id: string; owner: string }>(
        `SELECT token, order_id, owner FROM ${fresh} ORDER BY token`,
      );
      expect(rows.rows).toHaveLength(1 + 1 + 10);
      const winner = rows.rows.find((row) => row.token === 'dup')!;
      expect(winner.owner).toBe(`dup-${winner.order_id}`);

      // Verifying in one turn: one statement; a row whose order is paid meanwhile makes the batch fail, and
      // then each is decided alone (that one kept as unfulfillable for a refund, the others verified).
      const tokenA = results.findIndex((r) => r.status === 'claimed');
      const aWinner = `t${tokenA + 1}`;
      await admin.query(`UPDATE ${fresh} SET state = 'fulfilled', owner = NULL WHERE token = 'p0'`);
      await admin.query(`UPDATE ${fresh} SET order_id = 'o-p0' WHERE token = 'p1'`);
      spy.mockClear();
      const verified = await Promise.all(
        ['p1', 'p2', 'p3', aWinner].map((token) =>
          store.markVerified(token, token, { transactionId: `tx-${token}`, khalti: { idx: `tx-${token}` }, now: 2 }),
        ),
      );
      expect(verified).toEqual(['order_conflict', 'verified', 'verified', 'verified']);
      expect((await store.get('p1'))?.state).toBe('unfulfillable');
      spy.mockClear();
      const fulfilled = await Promise.all([
        store.markFulfilled('p2', 'p2', { ok: 2 }, 3),
        store.markFulfilled('p3', 'someone-else', { ok: 3 }, 3),
        store.markFulfilled(aWinner, aWinner, { ok: 'a' }, 3),
      ]);
      expect(fulfilled).toEqual([true, false, true]);
      expect(spy).toHaveBeenCalledTimes(1);
      expect(await store.get('p2')).toMatchObject({ state: 'fulfilled', owner: null, response: { ok: 2 } });
      expect(await store.get('p3')).toMatchObject({ state: 'verified', owner: 'p3' });
      spy.mockRestore();
    } finally {
      await store.close();
    }
  });

  it('reaches rows only through the primary key and the order index, however the table grows from empty', async () => {
    // PostgreSQL keeps each connection's plan of a function's statement or a prepared statement. Planned
    // while the table was new (no statistics), an OR of token and order, or a join of the batch against the
    // table, scanned the whole table or a partial state index, dead entries included: each payment then
    // cost more than the last. 2,000 payments in waves of 50 from an empty table must not touch them.
    const fresh = uniqueName('khx_plans');
    // Counters as PostgreSQL reports them once the backends that ran the statements have exited.
    const counters = async (atLeast: number) => {
      for (let tries = 0; ; tries += 1) {
        const { rows } = await admin.query<{ name: string; seq: string; idx: string }>(
          `SELECT 'table' AS name, seq_scan AS seq, idx_scan AS idx FROM pg_stat_user_tables WHERE relname = $1
           UNION ALL SELECT substr(indexrelname, length($1) + 2), 0, idx_scan FROM pg_stat_user_indexes WHERE relname = $1`,
          [fresh],
        );
        const byName = Object.fromEntries(rows.map((row) => [row.name, { seq: Number(row.seq), idx: Number(row.idx) }]));
        if ((byName.table?.idx ?? 0) >= atLeast || tries === 50) return byName;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    // The schema first, by an instance of its own (building the indexes reads the table once each).
    const migrating = new PostgresStore({ connectionString: PG_URL, table: fresh });
    await migrating.migrate();
    await migrating.close();
    const before = await counters(0);
    const store = new PostgresStore({ connectionString: PG_URL, table: fresh });
    try {
      for (let wave = 0; wave < 40; wave += 1) {
        const tokens = Array.from({ length: 50 }, (_, i) => `w${wave}-${i}`);
        const claims = await Promise.all(
          tokens.map((token) => store.claim({ token, orderId: `o-${token}`, amount: 1000, owner: 'a', now: wave, leaseMs: 60_000 })),
        );
        expect(claims.every((claim) => claim.status === 'claimed')).toBe(true);
        const verified = await Promise.all(
          tokens.map((token) => store.markVerified(token, 'a', { transactionId: token, khalti: {}, now: wave })),
        );
        expect(verified.every((answer) => answer === 'verified')).toBe(true);
        const fulfilled = await Promise.all(tokens.map((token) => store.markFulfilled(token, 'a', { ok: true }, wave)));
        expect(fulfilled.every(Boolean)).toBe(true);
      }
    } finally {
      await store.close(); // the pool's backends exit and report their counters
    }
    const after = await counters(4_000);
    const delta = (name: string, kind: 'seq' | 'idx') => after[name]![kind] - (before[name]?.[kind] ?? 0);
    expect(delta('pkey', 'idx')).toBeGreaterThanOrEqual(4_000); // the claim's lookup and each transition
    expect(delta('order', 'idx')).toBeGreaterThanOrEqual(2_000); // the claim's order lookup
    expect(delta('table', 'seq')).toBe(0);
    for (const index of ['stale', 'state_listing', 'listing', 'paid_order', 'owed', 'pending_refund']) {
      expect([index, delta(index, 'idx')]).toEqual([index, 0]);
    }
  });

  it('creates its table on first use, safely when several instances start at once', async () => {
    const fresh = uniqueName('khx_race');
    const stores = Array.from({ length: 6 }, () => new PostgresStore({ connectionString: PG_URL, table: fresh }));
    try {
      const results = await Promise.all(
        stores.map((store, i) => store.claim({ token: `t${i}`, orderId: `o${i}`, amount: 1000, owner: 'a', now: 1, leaseMs: 10 })),
      );
      expect(results.every((r) => r.status === 'claimed')).toBe(true);
      const indexes = await admin.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname', [
        fresh,
      ]);
      expect(indexes.rows.map((r) => r.indexname)).toEqual([
        `${fresh}_listing`,
        `${fresh}_order`,
        `${fresh}_owed`,
        `${fresh}_paid_order`,
        `${fresh}_pending_refund`,
        `${fresh}_pkey`,
        `${fresh}_stale`,
        `${fresh}_state_listing`,
      ]);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('uses a pool it is given, never ending it, and migrate() can run up front', async () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
    const store = new PostgresStore({ pool, table: uniqueName('khx_pool') });
    await store.migrate();
    await store.migrate();
    await store.claim({ token: 't', orderId: 'o', amount: 1000, owner: 'a', now: 1, leaseMs: 10 });
    await store.close();
    expect((await pool.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
    await pool.end();
  });

  it('writes "no value" as SQL NULL in every column, whichever transition wrote it', async () => {
    const name = uniqueName('khx_nulls');
    const store = new PostgresStore({ connectionString: PG_URL, table: name });
    const claim = { amount: 1000, owner: 'a', now: 1, leaseMs: 10 };
    await store.claim({ ...claim, token: 'v', orderId: 'o1' });
    await store.markVerified('v', 'a', { transactionId: 'idx', khalti: undefined, now: 2 });
    await store.markFulfilled('v', 'a', undefined, 3);
    await store.claim({ ...claim, token: 'u', orderId: 'o2' });
    await store.markUnfulfillable('u', 'a', { transactionId: null, khalti: null, failureCode: 'amount_mismatch', now: 2 });
    await store.claim({ ...claim, token: 'd', orderId: 'o3' });
    await store.markDeclined('d', 'a', { khalti: null, failureCode: 'payment_not_completed', now: 2 });
    const { rows } = await admin.query(`SELECT token, khalti, response, transaction_id FROM ${name} ORDER BY token`);
    expect(rows).toEqual([
      { token: 'd', khalti: null, response: null, transaction_id: null },
      { token: 'u', khalti: null, response: null, transaction_id: null },
      { token: 'v', khalti: null, response: null, transaction_id: 'idx' },
    ]);
    await store.close();
  });

  it('the database itself refuses a second paid token for one order', async () => {
    const name = uniqueName('khx_guard');
    const store = new PostgresStore({ connectionString: PG_URL, table: name });
    await store.claim({ token: 'a', orderId: 'o', amount: 1000, owner: 'x', now: 1, leaseMs: 10 });
    await store.markVerified('a', 'x', { transactionId: 'i', khalti: null, now: 2 });
    await expect(
      admin.query(
        `INSERT INTO ${name} (token, order_id, amount, state, lease_until, created_at, updated_at) VALUES ('b', 'o', 1000, 'fulfilled', 0, 3, 3)`,
      ),
    ).rejects.toMatchObject({ code: '23505' });
    await store.close();
  });

  it('widens the state check of a table made before the declined state, keeping its rows', async () => {
    const name = uniqueName('khx_old');
    await admin.query(`CREATE TABLE ${name} (
  token TEXT PRIMARY KEY, order_id TEXT NOT NULL, amount bigint NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('claimed', 'verified', 'fulfilled', 'unfulfillable')),
  owner TEXT, lease_until bigint NOT NULL, transaction_id TEXT, khalti TEXT, response TEXT,
  failure_code TEXT, created_at bigint NOT NULL, updated_at bigint NOT NULL);
CREATE INDEX ${name}_order ON ${name} (order_id);
CREATE UNIQUE INDEX ${name}_paid_order ON ${name} (order_id) WHERE state IN ('verified', 'fulfilled');
CREATE INDEX ${name}_stale ON ${name} (created_at) WHERE state IN ('claimed', 'verified');`);
    await admin.query(`INSERT INTO ${name} VALUES ('pidx:p', 'o', 1000, 'claimed', 'a', 10, NULL, NULL, NULL, NULL, 1, 1)`);
    const store = new PostgresStore({ connectionString: PG_URL, table: name });
    expect(await store.markDeclined('pidx:p', 'a', { failureCode: 'payment_not_completed', khalti: null, now: 3 })).toBe(true);
    expect(await store.get('pidx:p')).toMatchObject({ state: 'declined', failureCode: 'payment_not_completed' });
    await expect(admin.query(`UPDATE ${name} SET state = 'bogus'`)).rejects.toMatchObject({ code: '23514' });
    await store.close();
  });

  it('publishes its schema SQL and refuses unsafe names and missing connections', () => {
    expect(postgresSchema('shop.payments')).toContain('CREATE UNIQUE INDEX IF NOT EXISTS shop_payments_paid_order');
    expect(() => postgresSchema('x; DROP TABLE y')).toThrow(/table name/);
    expect(() => new PostgresStore({})).toThrow(/pool.*connectionString/);
  });
});
