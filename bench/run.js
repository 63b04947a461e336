// `npm run bench`: throughput against a baseline, overload with a slow Khalti, and ledger growth.
// Everything on loopback, each server in its own process; writes bench/results.md and prints it.
//
// Options: --runs N (5) --duration S (5) --connections N (50) --out FILE (bench/results.md) --only STORES
//          --smoke (one short run of a few targets, for the test suite) --skip-growth --skip-overload
const { execFileSync, spawnSync } = require('node:child_process');
const { writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const autocannon = require('autocannon');
const { start, ask, stop, pidsNamed, serverNodeArgs, DATABASE_COMMANDS } = require('./processes');
const { pollHealth } = require('./load');
const { SIZES, sqliteGrowth, postgresGrowth, memoryBound } = require('./growth');
const { median, percentile, round, mb } = require('./stats');
const { goalsTable, notMetReasons, isFloor, ratiosToFloor, secondsOverFloor, secondsText, FLOOR_FACTOR } = require('./goals');

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    out: { type: 'string', default: path.join(__dirname, 'results.md') },
    smoke: { type: 'boolean', default: false },
    'skip-growth': { type: 'boolean', default: false },
    'skip-overload': { type: 'boolean', default: false },
    // --only postgres,redis: the throughput targets with those stores (the baseline and ceiling always run).
    only: { type: 'string' },
  },
});
const SMOKE = args.smoke;
const RUNS = SMOKE ? 1 : Number(args.runs);
const DURATION = SMOKE ? 1 : Number(args.duration);
const CONNECTIONS = Number(args.connections);
const OVERLOAD = { connections: SMOKE ? 300 : 2000, slowMs: 2000, seconds: SMOKE ? 3 : 8, recoverSeconds: SMOKE ? 3 : 8, rampMs: 1000 };

const log = (line) => process.stderr.write(`bench: ${line}\n`);

// Pinning (taskset): the server under test alone on one CPU, the load generator, the sandbox and this
// driver on the other, so the flood's figures are the server's and not the scheduler's.
const SERVER_CPU = '1';
const LOAD_CPU = '0';
const ALL_CPUS = `0-${os.cpus().length - 1}`;
const CAN_PIN = os.cpus().length >= 2 && spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0;
/** Every thread of `pid` onto `cpus`. */
function pin(pid, cpus) {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/**
 * Pin the database servers `stores` use onto `cpus` (new PostgreSQL backends inherit the postmaster's
 * CPUs); answers how many processes could not be pinned (another user's, without the right to).
 */
function pinDatabases(stores, cpus) {
  let refused = 0;
  for (const pid of pidsNamed(stores.flatMap((store) => DATABASE_COMMANDS[store] ?? []))) {
    try {
      pin(pid, cpus);
    } catch {
      refused += 1;
    }
  }
  return refused;
}
let prefixes = 0;

// Every throughput server (the baseline's too) runs without V8's memory reducer. A target waits about
// 70 s between its runs while the others are measured; the baseline, run every other time, never waits
// more than one run. After such a wait the reducer has shrunk the idle process's heap and the next run
// starts at ~45 % of its rate, taking ~3 s to recover (measured 2026-12-06: MemoryStore 826, 1,227,
// 1,710, 1,952 req/s in the seconds after 70 s idle, 1,770-1,978 after 5 s; 1,783-2,157 after 70 s with
// the flag), which charged every target, and the baseline never, with a cold start.
const THROUGHPUT_NODE_ARGS = ['--no-memory-reducer'];
const WARM_UP_S = SMOKE ? 0 : 1;

/** One autocannon run, every request a fresh token for its own order. */
async function measure(url, duration = DURATION) {
  let n = 0;
  const failures = {};
  const prefix = `${process.pid}r${(prefixes += 1)}`;
  const instance = autocannon({
    url,
    connections: CONNECTIONS,
    duration,
    requests: [
      {
        method: 'POST',
        path: '/khalti/verify',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => {
          n += 1;
          return { ...req, body: JSON.stringify({ token: `bench_${prefix}_${n}`, amount: 1000, orderId: `O-${prefix}-${n}` }) };
        },
        onResponse: (status, body) => {
          if (status !== 200) failures[status] ??= body.slice(0, 160);
        },
      },
    ],
  });
  const ticks = [];
  instance.on('tick', ({ counter }) => ticks.push(counter));
  const result = await instance;
  // KHX_BENCH_LOG_RPS=1: every run's req/s on stderr, and each of its seconds (how far the baseline moves
  // between its runs, and whether a run started cold).
  if (process.env.KHX_BENCH_LOG_RPS === '1')
    log(`${url}: ${Math.round(result.requests.average)} req/s (each second: ${ticks.slice(0, duration).join(' ')})`);
  if (Object.keys(failures).length > 0) log(`non-200 answers from ${url}: ${JSON.stringify(failures)}`);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

/**
 * Every target, interleaved with the baseline. Pinned: each server alone on SERVER_CPU; the caller has
 * put the load generator, the sandbox and the database servers on LOAD_CPU.
 */
async function throughput(khalti, pinned = false) {
  const targets = [
    { name: 'baseline (tutorial handler)', args: ['baseline', '-'] },
    { name: 'ceiling (Express, no Khalti)', args: ['ceiling', '-'] },
    { name: 'khalti-express + MemoryStore', args: ['verifier', 'memory'] },
    { name: 'khalti-express + SqliteStore', args: ['verifier', 'sqlite'] },
    { name: 'khalti-express + SqliteStore (synchronous: normal)', args: ['verifier', 'sqlite-normal'] },
  ];
  if (process.env.KHX_PG_URL) targets.push({ name: 'khalti-express + PostgresStore', args: ['verifier', 'postgres'] });
  if (process.env.KHX_MYSQL_URL) targets.push({ name: 'khalti-express + MysqlStore', args: ['verifier', 'mysql'] });
  if (process.env.KHX_REDIS_URL) targets.push({ name: 'khalti-express + RedisStore', args: ['verifier', 'redis'] });
  const only = args.only?.split(',');
  const running = targets.filter((t) => t.args[0] !== 'verifier' || (SMOKE ? t.args[1] === 'memory' : !only || only.includes(t.args[1])));
  const stores = running.map((t) => t.args[1]);
  let databasesNotPinned = 0;
  if (pinned) {
    pin(process.pid, LOAD_CPU);
    pin(khalti.child.pid, LOAD_CPU);
    databasesNotPinned = pinDatabases(stores, LOAD_CPU);
    if (databasesNotPinned > 0) log(`throughput (pinned): ${databasesNotPinned} database server processes could not be pinned`);
  }
  try {
    return await measureAll(khalti, running, pinned, databasesNotPinned);
  } finally {
    if (pinned) {
      pin(process.pid, ALL_CPUS);
      pin(khalti.child.pid, ALL_CPUS);
      pinDatabases(stores, ALL_CPUS);
    }
  }
}

async function measureAll(khalti, running, pinned, databasesNotPinned) {
  for (const target of running) {
    Object.assign(target, await start('target-server.js', [...target.args, khalti.baseUrl, khalti.secretKey], {}, THROUGHPUT_NODE_ARGS));
    if (pinned) pin(target.child.pid, SERVER_CPU);
    target.samples = [];
    await measure(target.url); // warm-up, discarded
  }
  // Each round runs every target once, each between two runs of the baseline (B T1 B T2 … B Tn B), and
  // a target's run is compared with the mean of the baseline runs just before and after it: on a shared
  // machine whose speed drifts within seconds, only runs that close together compare.
  const [baseline, ...others] = running;
  baseline.samples = [];
  for (const target of others) target.pairs = [];
  const how = pinned ? ' (pinned)' : '';
  // Every measured run follows WARM_UP_S of the same load on the same server, discarded: a target has
  // idled while the others ran (its pool's and its keep-alive sockets closed), the baseline only one run.
  const hot = async (url) => {
    if (WARM_UP_S > 0) await measure(url, WARM_UP_S);
    return measure(url);
  };
  for (let run = 1; run <= RUNS; run += 1) {
    log(`run ${run}/${RUNS}${how}: ${baseline.name}`);
    let before = await hot(baseline.url);
    baseline.samples.push(before);
    for (const target of others) {
      log(`run ${run}/${RUNS}${how}: ${target.name}`);
      const sample = await hot(target.url);
      target.samples.push(sample);
      log(`run ${run}/${RUNS}${how}: ${baseline.name}`);
      const after = await hot(baseline.url);
      baseline.samples.push(after);
      target.pairs.push({ rps: sample.rps / ((before.rps + after.rps) / 2), p99: sample.p99 / ((before.p99 + after.p99) / 2) });
      before = after;
    }
  }
  for (const target of running) {
    const stats = await ask(target.child, { stats: true });
    target.maxRss = stats.maxRss;
    target.duplicates = stats.duplicates;
    if (target.args[0] === 'verifier') await ask(target.child, { drop: true });
    await stop(target.child);
  }
  const summary = running.map((target) => ({
    name: target.name,
    rps: median(target.samples.map((s) => s.rps)),
    p50: median(target.samples.map((s) => s.p50)),
    p99: median(target.samples.map((s) => s.p99)),
    errors: target.samples.reduce((sum, s) => sum + s.errors, 0),
    maxRss: target.maxRss,
    duplicates: target.duplicates,
  }));
  running.forEach((target, i) => {
    const row = summary[i];
    row.rpsRatios = target.pairs?.map((pair) => pair.rps) ?? [1];
    row.p99Ratios = target.pairs?.map((pair) => pair.p99) ?? [1];
    row.rpsRatio = median(row.rpsRatios);
    row.p99Ratio = median(row.p99Ratios);
    log(
      `${row.name}${how}: × baseline per run ${row.rpsRatios.map((r) => round(r, 2)).join(' ')}; p99 × ${row.p99Ratios.map((r) => round(r, 2)).join(' ')}`,
    );
  });
  return { pinned, summary, databasesNotPinned };
}

/**
 * The overload scenario against khalti-express with `store` ('memory' | 'sqlite'), or with 'floor': an
 * Express route that only refuses (a fixed Retry-After of 1 s), under the same flood.
 */
async function overload(khalti, store, pinned) {
  const floor = store === 'floor';
  const target = await start('target-server.js', floor ? ['refuser'] : ['verifier', store, khalti.baseUrl, khalti.secretKey], {
    KHX_BENCH_OVERLOAD: '1',
  });
  if (pinned) pin(target.child.pid, SERVER_CPU);
  // Warm it briefly (a shop's server has run before the flood): JIT-compiled paths and pooled
  // connections to Khalti, not a cold start, are what the flood meets.
  await measure(target.url, 1);
  // Its normal rate, with this pinning (50 connections, as in the throughput section): "back to normal"
  // after the flood is judged against it. Pinned, the server has one core, so the unpinned throughput
  // table's rate would not be its normal.
  const normalRps = floor ? 0 : (await measure(target.url, 2)).rps;
  const client = await start('overload-client.js');
  if (pinned) pin(client.child.pid, LOAD_CPU);
  let stopped = false;
  await ask(khalti.child, { latencyMs: OVERLOAD.slowMs });
  log(`overload (${store}${pinned ? ', pinned' : ''}): ${OVERLOAD.connections} connections, Khalti answering after ${OVERLOAD.slowMs} ms`);
  const finished = new Promise((resolve) => client.child.once('message', resolve));
  const loadStartedAt = Date.now();
  // The flood's tokens are `bench_<runId>_<n>` (load.js): each run audits its own, not an earlier run's.
  const runId = `${process.pid}ovl${store}${pinned ? 'pin' : ''}`;
  client.child.send({ url: target.url, connections: OVERLOAD.connections, prefix: runId, rampMs: OVERLOAD.rampMs });
  const health = pollHealth({ url: target.url, everyMs: 100, shouldStop: () => stopped });
  await new Promise((resolve) => setTimeout(resolve, OVERLOAD.seconds * 1000));
  const fastAt = Date.now();
  await ask(khalti.child, { latencyMs: 0 });
  log(`overload (${store}): Khalti fast again`);
  await new Promise((resolve) => setTimeout(resolve, OVERLOAD.recoverSeconds * 1000));
  client.child.send({ stop: true });
  const { results: raw, loopDelayP99Ms: clientLoopP99, loopDelayMaxMs: clientLoopMax, cpuShare: clientCpu } = await finished;
  stopped = true;
  const healthLatencies = await health;
  await stop(client.child);
  // Let the last in-flight verifications settle before auditing the ledger against Khalti's record.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const { completed } = await ask(khalti.child, { completed: true });
  const prefix = `bench_${runId}_`;
  const mine = completed.filter((token) => token.startsWith(prefix));
  // Stats first: the audit reads thousands of records in one go, which is not the flood's loop delay.
  const stats = await ask(target.child, { stats: true });
  const audit = floor ? null : await ask(target.child, { audit: mine, prefix });
  await stop(target.child);

  const results = raw.map((r) => ({ ...r, phase: r.sentAt < fastAt ? 'slow' : 'fast' }));
  // KHX_BENCH_DUMP=<dir>: every response of the flood, for reading the seconds apart (see docs/performance.md).
  if (process.env.KHX_BENCH_DUMP)
    writeFileSync(
      `${process.env.KHX_BENCH_DUMP}/${store}${pinned ? '-pinned' : ''}.json`,
      JSON.stringify({ loadStartedAt, fastAt, results }),
    );
  // Latencies are judged once every user has arrived (the ramp), when the server is at its full load.
  const steadyFrom = loadStartedAt + OVERLOAD.rampMs;
  const slow = results.filter((r) => r.phase === 'slow');
  const refused = slow.filter((r) => r.status === 503);
  const refusedSteady = refused.filter((r) => r.sentAt >= steadyFrom);
  const refusedArriving = refused.filter((r) => r.sentAt < steadyFrom);
  const served = results.filter((r) => r.status === 200);
  const otherErrors = results.filter((r) => r.status !== 200 && r.status !== 503);
  // Seconds after Khalti recovered until a one-second window served ≥ 80 % of the normal rate.
  let recoveredAfter = null;
  for (let second = 0; second < OVERLOAD.recoverSeconds; second += 1) {
    const from = fastAt + second * 1000;
    const count = served.filter((r) => r.at >= from && r.at < from + 1000).length;
    if (count >= 0.8 * normalRps) {
      recoveredAfter = second + 1;
      break;
    }
  }
  return {
    requests: results.length,
    refused: refused.length,
    refusedWithRetryAfter: refused.filter((r) => r.retryAfter !== undefined).length,
    refusedP99: percentile(
      refusedSteady.map((r) => r.ms),
      99,
    ),
    refusedAllP99: percentile(
      refused.map((r) => r.ms),
      99,
    ),
    // p99 of the 503s sent in each second of the slow phase: when the arrival backlog drains, and what follows.
    refusedP99BySecond: Array.from({ length: OVERLOAD.seconds }, (_, second) =>
      percentile(
        refused.filter((r) => r.sentAt >= loadStartedAt + second * 1000 && r.sentAt < loadStartedAt + (second + 1) * 1000).map((r) => r.ms),
        99,
      ),
    ),
    refusedSteadyCount: refusedSteady.length,
    refusedP50: percentile(
      refusedSteady.map((r) => r.ms),
      50,
    ),
    refusedArrivingCount: refusedArriving.length,
    refusedArrivingP99: percentile(
      refusedArriving.map((r) => r.ms),
      99,
    ),
    refusalServerP99: percentile(stats.refusalMs, 99),
    refusalServerMax: Math.max(...stats.refusalMs),
    clientLoopP99,
    clientLoopMax,
    clientCpu,
    servedMaxMs: Math.max(...served.map((r) => r.ms)),
    budgetMs: 4 * 10_000 + 1_000,
    otherErrors: otherErrors.length,
    maxRss: stats.maxRss,
    heapLimit: stats.heapLimit,
    loopDelayP99: stats.loopDelayP99Ms,
    loopDelayMax: stats.loopDelayMaxMs,
    cpuShare: stats.cpuShare,
    healthChecks: healthLatencies.length,
    healthFailed: healthLatencies.filter((ms) => !Number.isFinite(ms)).length,
    healthP99: percentile(healthLatencies.filter(Number.isFinite), 99),
    healthMax: Math.max(...healthLatencies),
    recoveredAfter,
    normalRps,
    fastRps:
      served.filter((r) => r.at >= fastAt + (OVERLOAD.recoverSeconds - 3) * 1000 && r.at < fastAt + OVERLOAD.recoverSeconds * 1000).length /
      3,
    floor,
    completedAtKhalti: mine.length,
    fulfilled: audit?.fulfilled,
    duplicates: stats.duplicates,
    unrecorded: audit?.missing.length,
    notAtKhalti: audit?.notAtKhalti.length,
  };
}

async function growth() {
  const samples = SMOKE ? 50 : 500;
  const sizes = SMOKE ? [1_000] : SIZES;
  const rows = [...(await sqliteGrowth(samples, sizes))];
  if (process.env.KHX_PG_URL) rows.push(...(await postgresGrowth(samples, sizes, process.env.KHX_PG_URL)));
  const memory = SMOKE ? null : await memoryBound(samples);
  return { rows, memory };
}

/** `[min–max]` of a target's per-run ratios. */
const spread = (ratios) => `[${round(Math.min(...ratios), 2)}–${round(Math.max(...ratios), 2)}]`;

function report({ throughputGroups, overloadGroups, growthResult, started }) {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const serverArgs = serverNodeArgs();
  const lines = [
    '# khalti-express benchmark results',
    '',
    `Measured ${started.toISOString().slice(0, 10)} on ${os.cpus().length} × ${cpu}, ${mb(os.totalmem())} MB RAM, Node ${process.version}, ${os.platform()} ${os.release()}.`,
    ...(serverArgs.length > 0
      ? [
          `**Every server under test (the baseline, the ceiling and the floor too) ran with \`${serverArgs.join(' ')}\`** (KHX_BENCH_SERVER_NODE_ARGS): these figures are not those of Node's defaults.`,
        ]
      : []),
    `Each target runs in its own process against the package's Khalti sandbox (throughput mode, no added latency), also its own process; autocannon with ${CONNECTIONS} connections, ${DURATION} s per run, ${RUNS} runs per target interleaved, each run of a target between two runs of the baseline and each run after ${WARM_UP_S} s of the same load on the same server (discarded), every throughput server (the baseline's too) without V8's memory reducer, medians reported; a ratio is the median over the rounds of the target's run against the mean of the baseline runs just before and after it (their range in brackets); every request carries a fresh token. Reproduce with \`npm run bench\` (it checks PostgreSQL, MariaDB/MySQL and Redis as \`npm test\` does and starts what does not answer; KHX_PG_URL / KHX_MYSQL_URL / KHX_REDIS_URL point it at your own).`,
    '',
    '## Throughput',
    '',
    'Measured twice: unpinned, then pinned with `taskset` (each server alone on one CPU; the load generator, the sandbox and the database servers on the other), because on two shared cores the scheduler decides much of an unpinned figure.',
    ...throughputGroups.flatMap(({ pinned, summary, databasesNotPinned }) => [
      '',
      pinned
        ? `#### Pinned (taskset): each server alone on CPU ${SERVER_CPU}; the load generator, the sandbox and the database servers on CPU ${LOAD_CPU}${databasesNotPinned > 0 ? ` (${databasesNotPinned} database server processes could not be pinned and ran anywhere)` : ''}`
        : '#### Unpinned: every process wherever the scheduler puts it',
      '',
      '| target | req/s | × baseline [range] | p50 ms | p99 ms | p99 × baseline [range] | errors | peak RSS MB |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...summary.map(
        (r) =>
          `| ${r.name} | ${round(r.rps, 0)} | ${round(r.rpsRatio, 2)} ${spread(r.rpsRatios)} | ${round(r.p50)} | ${round(r.p99)} | ${round(r.p99Ratio, 2)} ${spread(r.p99Ratios)} | ${r.errors} | ${mb(r.maxRss)} |`,
      ),
    ]),
    '',
    `Fulfilled twice: ${throughputGroups.reduce((sum, { summary }) => sum + summary.reduce((n, r) => n + (r.duplicates ?? 0), 0), 0)} tokens.`,
  ];
  if (!SMOKE)
    lines.splice(
      5,
      0,
      '## Goals',
      '',
      ...goalsTable(throughputGroups, overloadGroups),
      '',
      ...notMetReasons(throughputGroups, overloadGroups),
    );
  const overloadTable = (overloadResults, pinned) => {
    // One column per store; `cell(o)` renders a check for one run.
    const floorRow = overloadResults.find(isFloor) ?? overloadResults[0];
    const row = (check, cell, target) => `| ${check} | ${overloadResults.map((o) => cell(o)).join(' | ')} | ${target} |`;
    lines.push(
      `#### ${pinned ? `Pinned (taskset): the server alone on CPU ${SERVER_CPU}; the load generator, the sandbox and the driver on CPU ${LOAD_CPU}` : 'Unpinned: every process wherever the scheduler puts it'}`,
      '',
      `| check | ${overloadResults.map((o) => o.storeName).join(' | ')} | target |`,
      `|---|${overloadResults.map(() => '---|').join('')}---|`,
      row(
        'refused with 503 `overloaded` while slow',
        (o) => `${o.refused} of ${o.requests} requests, ${o.refusedWithRetryAfter} with Retry-After`,
        'all with Retry-After',
      ),
      row(
        'p99 latency of a 503 once all users arrived',
        (o) => `${round(o.refusedP99)} ms (${o.refusedSteadyCount} refusals; p50 ${round(o.refusedP50)} ms)`,
        '< 50 ms',
      ),
      row(
        `p99 latency of a 503 while the ${OVERLOAD.connections} users were still connecting`,
        (o) => `${round(o.refusedArrivingP99)} ms (${o.refusedArrivingCount} refusals)`,
        '—',
      ),
      row(
        'time of a 503 inside the server (request → response finished), p99 / max',
        (o) => `${round(o.refusalServerP99, 2)} / ${round(o.refusalServerMax, 2)} ms`,
        '—',
      ),
      row(
        'p99 of the 503s sent in each second of the flood, ms',
        (o) => o.refusedP99BySecond.map((ms) => (Number.isFinite(ms) ? round(ms, 0) : '–')).join(' · '),
        '—',
      ),
      row(
        "each second's 503 p99 × the floor's in that second",
        (o) =>
          isFloor(o)
            ? '1'
            : ratiosToFloor(o, floorRow)
                .map((ratio, i) => (Number.isFinite(o.refusedP99BySecond[i]) ? round(ratio, 2) : '–'))
                .join(' · '),
        `≤ ${FLOOR_FACTOR} every second`,
      ),
      row(
        `every second within ${FLOOR_FACTOR}× the floor`,
        (o) => {
          if (isFloor(o)) return '—';
          const over = secondsOverFloor(o, floorRow);
          return over.length === 0 ? 'yes' : `no: ${secondsText(over)}`;
        },
        'yes',
      ),
      row(
        'p99 latency of every 503 while slow, and × the floor',
        (o) => `${round(o.refusedAllP99)} ms (${round(o.refusedAllP99 / floorRow.refusedAllP99, 2)}×)`,
        '—',
      ),
      row(
        'longest wait of a served request',
        (o) => (o.floor ? '—' : `${round(o.servedMaxMs, 0)} ms`),
        `≤ ${overloadResults[0].budgetMs} ms (4 × timeoutMs + 1 s)`,
      ),
      row('other errors', (o) => o.otherErrors, '0'),
      row('peak RSS', (o) => `${mb(o.maxRss)} MB`, '< 250 MB'),
      row("V8's heap limit (Node's default: a quarter of the host's memory, at most 4 GB)", (o) => `${mb(o.heapLimit)} MB`, '—'),
      row(
        'health route while overloaded',
        (o) => `${o.healthChecks} checks, ${o.healthFailed} failed, p99 ${round(o.healthP99)} ms, max ${round(o.healthMax)} ms`,
        'always answers',
      ),
      row(
        "the server's event-loop delay, p99 / max, and CPU",
        (o) => `${round(o.loopDelayP99)} / ${round(o.loopDelayMax)} ms; ${round(o.cpuShare * 100, 0)} % of one core on average`,
        '—',
      ),
      row(
        "the load generator's own event-loop delay, p99 / max, and CPU",
        (o) => `${round(o.clientLoopP99)} / ${round(o.clientLoopMax)} ms; ${round(o.clientCpu * 100, 0)} % of one core`,
        '—',
      ),
      row(
        'back to normal after Khalti recovers (first second serving ≥ 80 % of its rate before the flood, same pinning)',
        (o) =>
          o.floor
            ? '—'
            : `${o.recoveredAfter === null ? 'not within the window' : `${o.recoveredAfter} s`} (last 3 s: ${round(o.fastRps, 0)} req/s; normal before the flood ${round(o.normalRps, 0)})`,
        '≤ 5 s',
      ),
      row(
        'ledger vs Khalti',
        (o) =>
          o.floor
            ? '—'
            : `${o.completedAtKhalti} completed at Khalti, ${o.fulfilled} fulfilled, ${o.unrecorded} unrecorded, ${o.notAtKhalti} fulfilled but not completed at Khalti, ${o.duplicates} fulfilled twice`,
        '0 unrecorded, 0 twice',
      ),
    );
  };
  if (overloadGroups.length > 0) {
    lines.push(
      '',
      '## Overload and a slow Khalti',
      '',
      `${OVERLOAD.connections} connections (arriving over ${OVERLOAD.rampMs} ms, from a load generator in its own process) against khalti-express (maxInFlight 256, timeoutMs 10000; warmed first by 1 s of normal traffic) while the sandbox answers after ${OVERLOAD.slowMs} ms for ${OVERLOAD.seconds} s, then at full speed for ${OVERLOAD.recoverSeconds} s; once with each store. Each user has its own kept-alive connection and honours Retry-After; the health route is polled every 100 ms from the driver. The first column is the floor, measured in the same run under the same flood: an Express route that answers every request with the same 503 (a fixed Retry-After of 1 s) and does nothing else. The last column floods the floor a second time, after the stores, and judges it against the first by the same rule: the per-second ratios a server identical to the floor gets on this machine. On these 2-core machines the load generator, the sandbox and the server share the CPU, so latencies under the flood are the machine's as much as the server's: read them against the floor. Both the unpinned and the pinned floods are reported; each is judged against the floor measured with the same pinning.`,
    );
    for (const group of overloadGroups) {
      lines.push('');
      overloadTable(group.results, group.pinned);
    }
  }
  if (growthResult) {
    lines.push(
      '',
      '## Growth',
      '',
      'Ledger work of one verification (claim + markVerified + markFulfilled), with the store already holding N records.',
      '',
      '| store | existing records | held | p50 ms | p99 ms |',
      '|---|---:|---:|---:|---:|',
      ...[...growthResult.rows, ...(growthResult.memory?.rows ?? [])].map(
        (r) => `| ${r.store} | ${r.records.toLocaleString('en')} | ${(r.held ?? r.records).toLocaleString('en')} | ${r.p50} | ${r.p99} |`,
      ),
    );
    if (growthResult.memory) {
      const m = growthResult.memory;
      lines.push(
        '',
        `MemoryStore is bounded: at \`maxRecords\` (default ${m.maxRecords.toLocaleString('en')}) it evicts its oldest settled payments (warned once: ${m.warned ? 'yes' : 'no'}), so it holds ${m.maxRecords.toLocaleString('en')} records however many it saw. ${
          m.heapAtCapMb === null
            ? 'Live heap not measured (run with `node --expose-gc`).'
            : `With Khalti answers of the usual size its live heap grew by ${m.heapAtCapMb} MB at the cap (about ${m.bytesPerRecord} bytes per payment) and was ${m.heapAfterMb} MB after ${(50_000).toLocaleString('en')} more; the answers and responses it holds as JSON bytes outside the heap took ${m.outsideAtCapMb} MB more (about ${m.outsideBytesPerRecord} bytes per payment).`
        }`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

async function main() {
  const started = new Date();
  const khalti = await start('khalti-server.js');
  try {
    // Throughput twice: unpinned, then pinned (taskset), when the machine can.
    const throughputGroups = [await throughput(khalti, false)];
    if (CAN_PIN) throughputGroups.push(await throughput(khalti, true));
    else log('throughput: taskset or a second CPU is missing, so the pinned runs were not made');
    // Overload with the development store and with the single-machine production store: MemoryStore
    // keeps its records on the JavaScript heap, SqliteStore does not, and peak RSS shows the difference.
    // Each flood twice: unpinned (as a shop's server runs), then pinned (taskset), when the machine can.
    const overloadGroups = [];
    if (!args['skip-overload']) {
      for (const pinned of CAN_PIN ? [false, true] : [false]) {
        if (pinned) {
          pin(process.pid, LOAD_CPU);
          pin(khalti.child.pid, LOAD_CPU);
        }
        const results = [];
        results.push({ storeName: 'floor (Express, refusals only)', ...(await overload(khalti, 'floor', pinned)) });
        results.push({ storeName: 'MemoryStore', ...(await overload(khalti, 'memory', pinned)) });
        results.push({ storeName: 'SqliteStore', ...(await overload(khalti, 'sqlite', pinned)) });
        // A control: the floor flooded a second time, judged against its first flood by the same rule.
        // It shows how far two floods of the same server differ in each second on this machine.
        results.push({ storeName: 'floor, flooded again (control)', ...(await overload(khalti, 'floor', pinned)), control: true });
        overloadGroups.push({ pinned, results });
        if (pinned) {
          pin(process.pid, ALL_CPUS);
          pin(khalti.child.pid, ALL_CPUS);
        }
      }
      if (!CAN_PIN) log('overload: taskset or a second CPU is missing, so the pinned floods were not run');
    }
    // A failing section must not throw away the minutes already measured: report it and fail the run.
    let growthResult = null;
    let growthError = null;
    if (!args['skip-growth'])
      growthResult = await growth().catch((error) => {
        growthError = error;
        return null;
      });
    const text = report({ throughputGroups, overloadGroups, growthResult, started });
    if (!SMOKE || args.out !== path.join(__dirname, 'results.md')) writeFileSync(args.out, text);
    process.stdout.write(text);
    if (growthError) {
      console.error('bench: the growth section failed (the rest is written):', growthError);
      process.exitCode = 1;
    }
  } finally {
    await stop(khalti.child);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
