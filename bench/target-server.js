// Bench process: one target server. argv: kind (baseline | ceiling | refuser | verifier) [store] [khaltiUrl secretKey].
// IPC: { stats: true } → peak RSS, tokens fulfilled twice, loop delay, CPU, refusal timings; { audit: tokens, prefix } → which of them the ledger lacks.
const express = require('express');
const axios = require('axios');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

const { monitorEventLoopDelay } = require('node:perf_hooks');
const { getHeapStatistics } = require('node:v8');

const [kind, storeName, khaltiUrl, secretKey] = process.argv.slice(2);
// KHX_BENCH_OVERLOAD=1 (the overload scenario's targets): measure the event-loop delay and time each 503.
// Not in the throughput targets: they idle while another is measured, and the monitor's wake-ups every
// 10 ms would preempt it.
const OVERLOAD = process.env.KHX_BENCH_OVERLOAD === '1';
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
if (OVERLOAD) loopDelay.enable();
const cpuAtStart = process.cpuUsage();
const startedAt = Date.now();
const app = express();
app.get('/health', (_req, res) => res.json({ ok: true }));
const fulfilments = new Map();
let store = null;
let sqliteDir = null;

function makeStore() {
  const id = `khx_bench_${process.pid}`;
  switch (storeName) {
    case 'memory':
      return new (require('khalti-express').MemoryStore)({ maxRecords: 5_000_000 });
    case 'sqlite':
    case 'sqlite-normal':
      sqliteDir = mkdtempSync(path.join(tmpdir(), 'khx-bench-'));
      return new (require('khalti-express/stores/sqlite').SqliteStore)({
        filename: path.join(sqliteDir, 'ledger.db'),
        synchronous: storeName === 'sqlite' ? 'full' : 'normal',
      });
    case 'postgres':
      return new (require('khalti-express/stores/postgres').PostgresStore)({ connectionString: process.env.KHX_PG_URL, table: id });
    case 'mysql':
      return new (require('khalti-express/stores/mysql').MysqlStore)({ uri: process.env.KHX_MYSQL_URL, table: id });
    case 'redis':
      return new (require('khalti-express/stores/redis').RedisStore)({ url: process.env.KHX_REDIS_URL, prefix: `${id}:` });
    default:
      throw new Error(`unknown store ${storeName}`);
  }
}

/** Drop what makeStore() created in a shared server (PostgreSQL's table and functions, MySQL's table, Redis keys). */
async function dropLedger() {
  const id = `khx_bench_${process.pid}`;
  if (storeName === 'postgres') {
    const pg = require('pg');
    const { postgresFunctionNames } = require('khalti-express/stores/postgres');
    const pool = new pg.Pool({ connectionString: process.env.KHX_PG_URL, max: 1 });
    await pool.query(`DROP TABLE IF EXISTS ${id}`);
    for (const name of postgresFunctionNames(id)) await pool.query(`DROP FUNCTION IF EXISTS ${name}`);
    await pool.end();
  } else if (storeName === 'mysql') {
    const mysql = require('mysql2/promise');
    const pool = mysql.createPool({ uri: process.env.KHX_MYSQL_URL, connectionLimit: 1 });
    await pool.query(`DROP TABLE IF EXISTS ${id}`);
    await pool.end();
  } else if (sqliteDir) {
    rmSync(sqliteDir, { recursive: true, force: true });
  } else if (storeName === 'redis') {
    const { Redis } = require('ioredis');
    const redis = new Redis(process.env.KHX_REDIS_URL);
    for await (const keys of redis.scanStream({ match: `${id}:*`, count: 1000 })) if (keys.length > 0) await redis.unlink(...keys);
    await redis.quit();
  }
}

if (kind === 'baseline') {
  // The handler tutorials show: parse JSON, forward to Khalti with the Key header, echo the answer.
  app.post('/khalti/verify', express.json(), async (req, res) => {
    try {
      const response = await axios.post(
        `${khaltiUrl}/api/v2/payment/verify/`,
        { token: req.body.token, amount: req.body.amount },
        { headers: { Authorization: `Key ${secretKey}` } },
      );
      res.json(response.data);
    } catch (error) {
      res.status(error.response?.status ?? 500).json(error.response?.data ?? { error: 'failed' });
    }
  });
} else if (kind === 'ceiling') {
  const body = { ok: true, orderId: 'O-1', amount: 1000, transactionId: '8xmeJnNXfoVjCvGcZiiGe7', replayed: false };
  app.post('/khalti/verify', express.json(), (_req, res) => res.json(body));
} else if (kind === 'refuser') {
  // The floor of a refusal: an Express route that answers every verify with the same 503 and a fixed
  // Retry-After of 1 s, no body read, nothing else. Under the overload scenario's flood it shows what the machine allows.
  const body = JSON.stringify({
    ok: false,
    error: { code: 'overloaded', message: 'The server is busy. Retry after the time given in Retry-After.' },
  });
  const headers = {
    'Cache-Control': 'no-store',
    'Retry-After': '1',
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(body.length), // ASCII
  };
  app.post('/khalti/verify', (_req, res) => {
    res.writeHead(503, headers);
    res.end(body);
  });
} else {
  const { khaltiVerifier } = require('khalti-express');
  store = makeStore();
  app.use(
    khaltiVerifier({
      secretKey,
      baseUrl: khaltiUrl,
      store,
      logger: { warn: () => undefined, error: (line) => process.stderr.write(`${line}\n`) },
      expectedAmount: () => 1000,
      // KHX_BENCH_MAX_IN_FLIGHT: another maxInFlight, to see what the admitted work costs a flood.
      ...(process.env.KHX_BENCH_MAX_IN_FLIGHT ? { maxInFlight: Number(process.env.KHX_BENCH_MAX_IN_FLIGHT) } : {}),
      onVerified: (payment) => {
        fulfilments.set(payment.token, (fulfilments.get(payment.token) ?? 0) + 1);
      },
    }),
  );
}

process.on('message', async (message) => {
  if (message.stats) {
    const duplicates = [...fulfilments.values()].filter((count) => count > 1).length;
    const cpu = process.cpuUsage(cpuAtStart);
    process.send({
      maxRss: process.resourceUsage().maxRSS * 1024,
      // V8's heap limit: Node sizes it from the host's memory, and at 2 GB or more V8 lets the heap grow
      // to 4× what is live between collections (below, at most 2×): the peak RSS under a flood follows it.
      heapLimit: getHeapStatistics().heap_size_limit,
      duplicates,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      loopDelayMaxMs: loopDelay.max / 1e6,
      refusalMs,
      cpuShare: (cpu.user + cpu.system) / 1000 / (Date.now() - startedAt),
    });
  } else if (message.drop) {
    // The bench's own table or keys, removed once the target is measured.
    await store?.close();
    await dropLedger();
    process.send({ dropped: true });
  } else if (message.audit) {
    // { audit: tokens Khalti completed, prefix }: only the tokens of that run (not a warm-up's) count.
    const missing = [];
    for (const token of message.audit) {
      const record = await store.get(token);
      if (!record || record.state !== 'fulfilled' || fulfilments.get(token) !== 1) missing.push(token);
    }
    const atKhalti = new Set(message.audit);
    const fulfilled = [...fulfilments.keys()].filter((token) => token.startsWith(message.prefix));
    const notAtKhalti = fulfilled.filter((token) => !atKhalti.has(token));
    process.send({ missing, notAtKhalti, fulfilled: fulfilled.length });
  }
});

// A deep accept backlog, as a production server has: 2000 clients connecting at once must not wait on SYN retries.
const server = app.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () =>
  process.send({ ready: true, url: `http://127.0.0.1:${server.address().port}` }),
);
server.keepAliveTimeout = 60_000;

// In the overload scenario: time each 503 inside the server (request event → response finished), so the
// report can tell the server's share of a refusal's latency from the network's and the load generator's.
const refusalMs = [];
if (OVERLOAD) {
  server.on('request', (_req, res) => {
    const started = performance.now();
    res.once('finish', () => {
      if (res.statusCode === 503) refusalMs.push(performance.now() - started);
    });
  });
}

// Exit cleanly on SIGTERM, so a CPU profile (KHX_BENCH_PROFILE) is written.
process.once('SIGTERM', () => process.exit(0));

// KHX_BENCH_MEMORY_TRACE=1: print RSS and heap every 250 ms to stderr (where the peak RSS comes from).
if (process.env.KHX_BENCH_MEMORY_TRACE === '1') {
  setInterval(() => {
    const m = process.memoryUsage();
    const mb = (n) => Math.round(n / 1048576);
    process.stderr.write(
      `memtrace ${kind}/${storeName ?? '-'} ${Date.now() - startedAt} ms rss ${mb(m.rss)} heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} ext ${mb(m.external)} ab ${mb(m.arrayBuffers)}\n`,
    );
  }, 250).unref();
}
