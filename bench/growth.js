// How one verification's ledger cost grows with the ledger: claim + markVerified + markFulfilled latency
// with 1,000 / 100,000 / 1,000,000 existing records, for SQLite and PostgreSQL; and the memory store's bound.
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { percentile, round } = require('./stats');

const SIZES = [1_000, 100_000, 1_000_000];

/** One verification's worth of ledger work, `samples` times, on fresh tokens; latencies in ms. */
async function cycles(store, samples, label) {
  const latencies = [];
  for (let i = 0; i < samples; i += 1) {
    const token = `growth_${label}_${i}`;
    const now = Date.now();
    const started = performance.now();
    await store.claim({ token, orderId: `G-${token}`, amount: 1000, owner: 'bench', now, leaseMs: 60_000 });
    await store.markVerified(token, 'bench', { transactionId: `idx_${i}`, khalti: { idx: `idx_${i}`, amount: 1000 }, now });
    await store.markFulfilled(token, 'bench', { ok: true, orderId: `G-${token}`, amount: 1000, replayed: false }, now);
    latencies.push(performance.now() - started);
  }
  return { p50: round(percentile(latencies, 50), 3), p99: round(percentile(latencies, 99), 3) };
}

// The columns a fill row gives (the others, refunds' among them, take their defaults): named, so a column
// added to the schema later does not break the fill.
const FILL_COLUMNS =
  'token, order_id, amount, state, owner, lease_until, transaction_id, khalti, response, failure_code, created_at, updated_at';
const fulfilledRow = (i) => [`fill_${i}`, `F-${i}`, 1000, 'fulfilled', null, 0, `idx_${i}`, '{"idx":"x"}', '{"ok":true}', null, i, i];

async function sqliteGrowth(samples, sizes) {
  const { SqliteStore } = require('khalti-express/stores/sqlite');
  const Database = require('better-sqlite3');
  const dir = mkdtempSync(path.join(tmpdir(), 'khx-growth-'));
  const filename = path.join(dir, 'ledger.db');
  const store = new SqliteStore({ filename });
  await store.get('warm-up'); // creates the schema
  const db = new Database(filename);
  const insert = db.prepare(`INSERT INTO khalti_payments (${FILL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const rows = [];
  let filled = 0;
  for (const size of sizes) {
    db.transaction(() => {
      for (; filled < size; filled += 1) insert.run(...fulfilledRow(filled));
    })();
    rows.push({ store: 'SQLite', records: size, ...(await cycles(store, samples, `sqlite_${size}`)) });
  }
  db.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

async function postgresGrowth(samples, sizes, url) {
  const { PostgresStore, postgresFunctionNames } = require('khalti-express/stores/postgres');
  const pg = require('pg');
  const table = `khx_growth_${process.pid}`;
  const store = new PostgresStore({ connectionString: url, table });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await store.migrate();
  const rows = [];
  let filled = 0;
  try {
    for (const size of sizes) {
      await admin.query(
        `INSERT INTO ${table} (${FILL_COLUMNS}) SELECT 'fill_' || i, 'F-' || i, 1000, 'fulfilled', NULL, 0, 'idx_' || i, '{"idx":"x"}', '{"ok":true}', NULL, i, i
         FROM generate_series($1::bigint, $2::bigint - 1) AS i`,
        [filled, size],
      );
      filled = size;
      await admin.query(`ANALYZE ${table}`);
      rows.push({ store: 'PostgreSQL', records: size, ...(await cycles(store, samples, `pg_${size}`)) });
    }
  } finally {
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    for (const name of postgresFunctionNames(table)) await admin.query(`DROP FUNCTION IF EXISTS ${name}`);
    await admin.end();
    await store.close();
  }
  return rows;
}

/**
 * The verify answer the sandbox gives for a completed payment (its own `transactionRecord`, from the
 * build), as a MemoryStore record holds it. Each payment gets its own 22-character idx.
 */
function khaltiAnswer(transactionRecord, token, i) {
  return transactionRecord({
    idx: `Idx${String(i).padStart(19, '0')}`,
    token,
    amount: 1000,
    state: 'Completed',
    mobile: '9800000001',
    createdOn: '2026-11-25T17:00:00.000000+05:45',
  });
}

/**
 * Live bytes after a full collection, on the JavaScript heap and in Buffers outside it, when `--expose-gc`
 * is on (npm run bench sets it); else null.
 */
function live() {
  if (typeof global.gc !== 'function') return null;
  global.gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heap: heapUsed, outside: arrayBuffers };
}

/**
 * The memory store does not grow without limit: fill past its cap with records of the usual size and
 * show its size, its cost per payment and the live heap it holds at the cap.
 */
async function memoryBound(samples) {
  const { MemoryStore } = require('khalti-express');
  // The build's internal module: the sandbox's public entry does not export the record renderer.
  const { transactionRecord } = require('../dist/sandbox/payments');
  const warnings = [];
  const store = new MemoryStore({ warn: (message) => warnings.push(message) });
  const rows = [];
  const before = live();
  let atCap = null;
  for (const size of [1_000, store.maxRecords, store.maxRecords + 50_000]) {
    for (let i = store.size; i < size; i += 1) {
      const token = `fill_mem_${i}`;
      const khalti = khaltiAnswer(transactionRecord, token, i);
      await store.claim({ token, orderId: `F-${i}`, amount: 1000, owner: 'o', now: i, leaseMs: 1 });
      await store.markVerified(token, 'o', { transactionId: khalti.idx, khalti, now: i });
      await store.markFulfilled(token, 'o', { ok: true, orderId: `F-${i}`, amount: 1000, transactionId: khalti.idx, replayed: false }, i);
    }
    if (size === store.maxRecords) atCap = live();
    rows.push({ store: 'Memory', records: size, held: store.size, ...(await cycles(store, samples, `mem_${size}`)) });
  }
  const after = live();
  const grew = (at, kind) => (before === null || at === null ? null : at[kind] - before[kind]);
  const megabytes = (bytes) => (bytes === null ? null : round(bytes / 1024 / 1024, 0));
  const perRecord = (bytes) => (bytes === null ? null : round(bytes / store.maxRecords, 0));
  return {
    rows,
    warned: warnings.length === 1,
    maxRecords: store.maxRecords,
    heapAtCapMb: megabytes(grew(atCap, 'heap')),
    heapAfterMb: megabytes(grew(after, 'heap')),
    bytesPerRecord: perRecord(grew(atCap, 'heap')),
    // The Khalti answer and the response, held as JSON bytes in Buffers (lib/ledger/memory-records.ts).
    outsideAtCapMb: megabytes(grew(atCap, 'outside')),
    outsideBytesPerRecord: perRecord(grew(atCap, 'outside')),
  };
}

module.exports = { SIZES, sqliteGrowth, postgresGrowth, memoryBound };
