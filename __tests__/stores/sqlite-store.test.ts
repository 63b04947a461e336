// SqliteStore runs the store conformance suite unchanged, on a real file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { runStoreConformance } from '../../lib';
import { SqliteStore } from '../../lib/stores/sqlite';

const dir = mkdtempSync(path.join(tmpdir(), 'khx-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
// A restart: the same file opened again by a new instance.
runStoreConformance(() => new SqliteStore({ filename: path.join(dir, `ledger-${(n += 1)}.db`) }), undefined, {
  reopen: (closed) => new SqliteStore({ filename: (closed as SqliteStore).filename }),
});

describe('SqliteStore', () => {
  it('keeps its records across close and reopen (durable on disk)', async () => {
    const filename = path.join(dir, 'durable.db');
    const first = new SqliteStore({ filename });
    await first.claim({ token: 't1', orderId: 'o1', amount: 1000, owner: 'a', now: 1, leaseMs: 10 });
    await first.markVerified('t1', 'a', { transactionId: 'idx', khalti: { idx: 'idx' }, now: 2 });
    await first.close();
    const second = new SqliteStore({ filename });
    expect(await second.get('t1')).toMatchObject({ state: 'verified', transactionId: 'idx', khalti: { idx: 'idx' } });
    await second.close();
  });

  it('writes "no value" as SQL NULL in every column, whichever transition wrote it', async () => {
    const filename = path.join(dir, 'nulls.db');
    const store = new SqliteStore({ filename });
    const claim = { amount: 1000, owner: 'a', now: 1, leaseMs: 10 };
    await store.claim({ ...claim, token: 'v', orderId: 'o1' });
    await store.markVerified('v', 'a', { transactionId: 'idx', khalti: undefined, now: 2 });
    await store.markFulfilled('v', 'a', undefined, 3);
    await store.claim({ ...claim, token: 'u', orderId: 'o2' });
    await store.markUnfulfillable('u', 'a', { transactionId: null, khalti: null, failureCode: 'amount_mismatch', now: 2 });
    await store.claim({ ...claim, token: 'd', orderId: 'o3' });
    await store.markDeclined('d', 'a', { khalti: null, failureCode: 'payment_not_completed', now: 2 });
    await store.close();
    const raw = new Database(filename, { readonly: true });
    const rows = raw.prepare('SELECT token, khalti, response, transaction_id FROM khalti_payments ORDER BY token').all();
    raw.close();
    expect(rows).toEqual([
      { token: 'd', khalti: null, response: null, transaction_id: null },
      { token: 'u', khalti: null, response: null, transaction_id: null },
      { token: 'v', khalti: null, response: null, transaction_id: 'idx' },
    ]);
  });

  it('shares one file between two store instances without double claims', async () => {
    const filename = path.join(dir, 'shared.db');
    const a = new SqliteStore({ filename });
    const b = new SqliteStore({ filename });
    const input = { token: 'shared', orderId: 'o', amount: 1000, now: 1, leaseMs: 1000 };
    const results = await Promise.all([a.claim({ ...input, owner: 'a' }), b.claim({ ...input, owner: 'b' })]);
    expect(results.map((r) => r.status).sort()).toEqual(['busy', 'claimed']);
    await a.close();
    await b.close();
  });

  it('upgrades a table made before the declined state, keeping its rows', async () => {
    const filename = path.join(dir, 'old-schema.db');
    const old = new Database(filename);
    old.exec(`CREATE TABLE khalti_payments (
  token TEXT PRIMARY KEY, order_id TEXT NOT NULL, amount INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('claimed', 'verified', 'fulfilled', 'unfulfillable')),
  owner TEXT, lease_until INTEGER NOT NULL, transaction_id TEXT, khalti TEXT, response TEXT,
  failure_code TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX khalti_payments_order ON khalti_payments (order_id);
CREATE UNIQUE INDEX khalti_payments_paid_order ON khalti_payments (order_id) WHERE state IN ('verified', 'fulfilled');
CREATE INDEX khalti_payments_stale ON khalti_payments (created_at) WHERE state IN ('claimed', 'verified');`);
    old.exec(`INSERT INTO khalti_payments VALUES ('paid', 'o1', 1000, 'fulfilled', NULL, 0, 'idx', 'null', '{"ok":true}', NULL, 1, 2),
      ('pidx:p', 'o2', 1000, 'claimed', 'a', 10, NULL, NULL, NULL, NULL, 1, 1)`);
    old.close();
    const store = new SqliteStore({ filename });
    expect(await store.get('paid')).toMatchObject({ state: 'fulfilled', response: { ok: true } });
    expect(await store.markDeclined('pidx:p', 'a', { failureCode: 'payment_not_completed', khalti: null, now: 3 })).toBe(true);
    expect(await store.get('pidx:p')).toMatchObject({ state: 'declined' });
    // The indexes came back with the table: a second paid token for o1 is still refused.
    await store.claim({ token: 'second', orderId: 'o1', amount: 1000, owner: 'b', now: 4, leaseMs: 10, evenIfOrderPaid: true });
    expect(await store.markVerified('second', 'b', { transactionId: 'x', khalti: null, now: 5 })).toBe('order_conflict');
    await store.close();
  });

  it('refuses a missing filename and an unsafe table name', () => {
    expect(() => new SqliteStore({} as never)).toThrow(/filename/);
    expect(() => new SqliteStore({ filename: 'x.db', table: 'x; DROP TABLE y' })).toThrow(/table name/);
  });
});
