// The listing at scale: a million records in PostgreSQL, SQLite and Redis, then pages, counts and totals
// timed, and PostgreSQL's plan for a state-filtered page and count. `npm run bench:listing`.
const path = require('node:path');
const os = require('node:os');
const fs = require('node:fs');
const dist = path.resolve(__dirname, '..', 'dist');
const { PostgresStore, postgresFunctionNames } = require(path.join(dist, 'stores', 'postgres.js'));
const { SqliteStore } = require(path.join(dist, 'stores', 'sqlite.js'));
const Database = require('better-sqlite3');
const { Redis } = require('ioredis');
const { RedisStore } = require(path.join(dist, 'stores', 'redis.js'));
const PG_URL = process.env.KHX_PG_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/test';
const N = Number(process.env.KHX_SCALE_N ?? 1_000_000);
const time = async (label, fn) => {
  const s = process.hrtime.bigint();
  const r = await fn();
  console.log(`  ${label}: ${(Number(process.hrtime.bigint() - s) / 1e6).toFixed(1)} ms`);
  return r;
};
async function probe(store) {
  let page = await time('list state=unfulfillable, first page of 50', () => store.list({ state: 'unfulfillable', limit: 50 }));
  for (let i = 0; i < 2; i++)
    page = await time('  its next page', () => store.list({ state: 'unfulfillable', limit: 50, before: page.next }));
  await time('list everything, first page of 50', () => store.list({ limit: 50 }));
  await time('list one order', () => store.list({ orderId: 'order777', limit: 50 }));
  await time('count state=unfulfillable', () => store.count({ state: 'unfulfillable' }));
  await time('count all', () => store.count());
  await time('totals (SQL stores read every row)', () => store.totals());
}
const pg = require('pg');
(async () => {
  const table = 'khx_scale';
  console.log(`PostgreSQL, ${N} records`);
  const admin = new pg.Pool({ connectionString: PG_URL });
  await admin.query(`DROP TABLE IF EXISTS ${table}`);
  const store = new PostgresStore({ connectionString: PG_URL, table });
  await store.migrate();
  let t = Date.now();
  await admin.query(`INSERT INTO ${table} (token, order_id, amount, state, owner, lease_until, created_at, updated_at)
    SELECT 'tok' || g, 'order' || g, 1000, (ARRAY['fulfilled','fulfilled','fulfilled','declined','unfulfillable'])[1 + g % 5], NULL, 0, 1700000000000 + g, 1700000000000 + g
    FROM generate_series(1, ${N}) g`);
  await admin.query(`ANALYZE ${table}`);
  console.log(`  insert: ${Date.now() - t} ms`);
  await probe(store);
  const plan = await admin.query(
    `EXPLAIN ANALYZE SELECT token FROM ${table} WHERE state = 'unfulfillable' AND (created_at, token COLLATE "C") < (1700000500000, 'tok500000') ORDER BY created_at DESC, token COLLATE "C" DESC LIMIT 51`,
  );
  console.log(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
  const plan2 = await admin.query(`EXPLAIN ANALYZE SELECT count(*) FROM ${table} WHERE state = 'unfulfillable'`);
  console.log(plan2.rows.map((r) => r['QUERY PLAN']).join('\n'));
  await admin.query(`DROP TABLE ${table}`);
  for (const name of postgresFunctionNames(table)) await admin.query(`DROP FUNCTION IF EXISTS ${name}`);
  await store.close();
  await admin.end();

  console.log(`SQLite (synchronous full), ${N} records`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'khx-scale-'));
  const filename = path.join(dir, 'ledger.db');
  const sqlite = new SqliteStore({ filename });
  await sqlite.count();
  const db = new Database(filename);
  t = Date.now();
  const insert = db.prepare(`INSERT INTO khalti_payments (token, order_id, amount, state, owner, lease_until, created_at, updated_at)
    VALUES (?, ?, 1000, ?, NULL, 0, ?, ?)`);
  const states = ['fulfilled', 'fulfilled', 'fulfilled', 'declined', 'unfulfillable'];
  db.transaction(() => {
    for (let g = 1; g <= N; g++) insert.run(`tok${g}`, `order${g}`, states[g % 5], 1700000000000 + g, 1700000000000 + g);
  })();
  db.exec('ANALYZE');
  console.log(`  insert: ${Date.now() - t} ms`);
  const sqlPlan = db
    .prepare(
      `EXPLAIN QUERY PLAN SELECT token FROM khalti_payments WHERE state = 'unfulfillable' AND (created_at, token) < (?, ?) ORDER BY created_at DESC, token DESC LIMIT 51`,
    )
    .all(1700000500000, 'tok500000');
  db.close();
  await probe(sqlite);
  console.log(`  plan: ${sqlPlan.map((row) => row.detail).join('; ')}`);
  await sqlite.close();
  fs.rmSync(dir, { recursive: true, force: true });

  console.log(`Redis, ${N} records (written straight into the store's keys and listing index)`);
  const client = new Redis(process.env.KHX_REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = 'khxscale:';
  const redisStore = new RedisStore({ client, prefix });
  t = Date.now();
  for (let start = 1; start <= N; start += 5000) {
    const p = client.pipeline();
    for (let g = start; g < start + 5000 && g <= N; g++) {
      const state = states[g % 5];
      const at = String(1700000000000 + g);
      p.hset(
        `${prefix}t:tok${g}`,
        'token',
        `tok${g}`,
        'orderId',
        `order${g}`,
        'amount',
        '1000',
        'state',
        state,
        'owner',
        '',
        'leaseUntil',
        '0',
        'transactionId',
        '',
        'khalti',
        'null',
        'response',
        'null',
        'failureCode',
        '',
        'createdAt',
        at,
        'updatedAt',
        at,
      );
      p.sadd(`${prefix}o:order${g}`, `tok${g}`);
      p.zadd(`${prefix}all`, at, `tok${g}`);
      p.zadd(`${prefix}s:${state}`, at, `tok${g}`);
      p.hincrby(`${prefix}sums`, `amount:${state}`, 1000);
    }
    await p.exec();
  }
  await client.set(`${prefix}listing`, '1');
  console.log(`  insert: ${Date.now() - t} ms`);
  await probe(redisStore);
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 10000);
    cursor = next;
    if (keys.length) await client.unlink(...keys);
  } while (cursor !== '0');
  await client.quit();
})();
