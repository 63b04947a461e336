// SqliteStore runs the store conformance suite unchanged, on a real file.
import fs, { mkdtempSync, rmSync } from 'node:fs';
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

// `full` on a file: SQLite commits without syncing and WalSync fdatasyncs the WAL on the thread pool
// before anything is answered. Holding those syncs shows what waits for them.
describe('SqliteStore synchronous: full', () => {
  // `fs` is node's module object itself (a default import), so the store's own calls go through the spy.
  type SyncCallback = (error: NodeJS.ErrnoException | null) => void;
  let held: Array<(error?: NodeJS.ErrnoException) => void>;
  let syncs: jest.SpiedFunction<typeof fs.fdatasync>;
  beforeEach(() => {
    held = [];
    const real = fs.fdatasync;
    syncs = jest.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, callback: SyncCallback) => {
      held.push((error) => (error ? callback(error) : real(fd, callback)));
    }) as typeof fs.fdatasync);
  });
  afterEach(() => syncs.mockRestore());

  const claim = (token: string) => ({ token, orderId: `order-${token}`, amount: 1000, owner: 'a', now: 1, leaseMs: 1000 });
  const turns = async (n = 20) => {
    for (let i = 0; i < n; i += 1) await new Promise((resolve) => setImmediate(resolve));
  };
  const settled = (promise: Promise<unknown>) => {
    const seen = { done: false };
    promise.then(
      () => (seen.done = true),
      () => (seen.done = true),
    );
    return seen;
  };
  const opened = async (name: string) => {
    const store = new SqliteStore({ filename: path.join(dir, name) });
    const counted = store.count(); // opens the file; a read waits for a sync like any other
    await turns();
    while (held.length > 0) held.shift()!();
    expect(await counted).toBe(0);
    syncs.mockClear();
    held = [];
    return store;
  };

  it('answers a write only after the WAL is synced, and writes waiting together share the next sync', async () => {
    const store = await opened('held.db');
    const first = store.claim(claim('t1'));
    const firstDone = settled(first);
    await turns();
    expect(syncs).toHaveBeenCalledTimes(1);
    expect(fs.fstatSync(syncs.mock.calls[0]![0]).ino).toBe(fs.statSync(`${store.filename}-wal`).ino); // the WAL file itself
    expect(firstDone.done).toBe(false); // committed, not yet synced: not answered

    // Committed while the first sync is in flight: that sync may have started before them, so they wait for a new one.
    const later = [store.claim(claim('t2')), store.markVerified('t1', 'a', { transactionId: 'x', khalti: null, now: 2 })];
    const laterDone = settled(Promise.all(later));
    await turns();
    expect(syncs).toHaveBeenCalledTimes(1);

    held.shift()!();
    expect(await first).toMatchObject({ status: 'claimed' });
    await turns();
    expect(syncs).toHaveBeenCalledTimes(2); // one sync for both later writes
    expect(laterDone.done).toBe(false);
    held.shift()!();
    expect(await Promise.all(later)).toEqual([expect.objectContaining({ status: 'claimed' }), 'verified']);
    expect(syncs).toHaveBeenCalledTimes(2);
    await store.close();
  });

  it('answers a read only after a sync that began after it (what it saw may not have been on disk yet)', async () => {
    const store = await opened('read.db');
    const write = store.claim(claim('r1'));
    await turns();
    held.shift()!();
    await write;
    const read = store.get('r1');
    const readDone = settled(read);
    await turns();
    expect(syncs).toHaveBeenCalledTimes(2);
    expect(readDone.done).toBe(false);
    held.shift()!();
    expect(await read).toMatchObject({ token: 'r1', state: 'claimed' });
    await store.close();
  });

  it('fails closed after a failed sync: the writes waiting for it and everything after are refused', async () => {
    const store = await opened('eio.db');
    const write = store.claim(claim('e1'));
    const waiting = store.claim(claim('e2'));
    await turns();
    held.shift()!(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await expect(write).rejects.toThrow('SqliteStore: syncing the WAL file failed (EIO); the store refuses all work until restarted');
    await expect(waiting).rejects.toThrow(/syncing the WAL file failed/);
    await expect(store.get('e1')).rejects.toThrow(/syncing the WAL file failed/);
    await expect(store.claim(claim('e3'))).rejects.toThrow(/syncing the WAL file failed/);
    expect(syncs).toHaveBeenCalledTimes(1); // no retry of a failed sync: what the OS dropped is unknown
    await store.close();
  });

  it('does not sync per write with synchronous: normal, nor for an in-memory database', async () => {
    for (const options of [{ filename: path.join(dir, 'normal.db'), synchronous: 'normal' as const }, { filename: ':memory:' }]) {
      const store = new SqliteStore(options);
      expect(await store.claim(claim('n1'))).toMatchObject({ status: 'claimed' });
      expect(await store.get('n1')).toMatchObject({ state: 'claimed' });
      await store.close();
    }
    expect(syncs).not.toHaveBeenCalled();
  });
});
