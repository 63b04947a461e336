// SqliteStore runs the store conformance suite unchanged, on a real file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runStoreConformance } from '../lib';
import { SqliteStore } from '../lib/stores/sqlite';

const dir = mkdtempSync(path.join(tmpdir(), 'khx-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
runStoreConformance(() => new SqliteStore({ filename: path.join(dir, `ledger-${(n += 1)}.db`) }));

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

  it('refuses a missing filename and an unsafe table name', () => {
    expect(() => new SqliteStore({} as never)).toThrow(/filename/);
    expect(() => new SqliteStore({ filename: 'x.db', table: 'x; DROP TABLE y' })).toThrow(/table name/);
  });
});
