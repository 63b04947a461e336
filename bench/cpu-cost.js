// `npm run bench:cpu`: the CPU each verification costs, in every process it touches — the server under
// test, the Khalti sandbox, the load generator and the database server — at a fixed, unsaturated load.
// On a machine where all of them share the cores, saturated throughput is about cores / (sum of these),
// so this table says where a target's time goes and what a change saves, without the noise of a flood.
//
// Options: --only memory,sqlite,sqlite-normal,postgres,redis,mysql (targets besides the baseline) --duration S (5) --connections N (8)
const { readFileSync } = require('node:fs');
const { parseArgs } = require('node:util');
const autocannon = require('autocannon');
const { ask, start, stop, pidsNamed, DATABASE_COMMANDS } = require('./processes');
const { median } = require('./stats');

const { values: args } = parseArgs({
  options: {
    only: { type: 'string', default: 'memory,sqlite,postgres,redis,mysql' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '8' },
    runs: { type: 'string', default: '3' },
  },
});
const TICK_US = 1e6 / 100; // /proc/<pid>/stat counts clock ticks (USER_HZ = 100 on Linux)

/** utime + stime of a process, µs. */
function cpuOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return 0;
  }
}

const TARGETS = [
  { name: 'baseline (tutorial handler)', args: ['baseline', '-'] },
  { name: 'MemoryStore', args: ['verifier', 'memory'] },
  { name: 'SqliteStore', args: ['verifier', 'sqlite'] },
  { name: 'SqliteStore (synchronous: normal)', args: ['verifier', 'sqlite-normal'] },
  { name: 'PostgresStore', args: ['verifier', 'postgres'], env: 'KHX_PG_URL' },
  { name: 'RedisStore', args: ['verifier', 'redis'], env: 'KHX_REDIS_URL' },
  { name: 'MysqlStore', args: ['verifier', 'mysql'], env: 'KHX_MYSQL_URL' },
];

async function costOf(target, khalti) {
  const db = DATABASE_COMMANDS[target.args[1]];
  let n = 0;
  const prefix = `cpu${process.pid}${target.args[1]}${Date.now()}`;
  const run = () =>
    autocannon({
      url: target.url,
      connections: Number(args.connections),
      duration: Number(args.duration),
      requests: [
        {
          method: 'POST',
          path: '/khalti/verify',
          headers: { 'content-type': 'application/json' },
          setupRequest: (req) => {
            n += 1;
            return { ...req, body: JSON.stringify({ token: `bench_${prefix}_${n}`, amount: 1000, orderId: `O-${prefix}-${n}` }) };
          },
        },
      ],
    });
  await run(); // warm-up: JIT, pools, the database's caches
  const samples = [];
  for (let i = 0; i < Number(args.runs); i += 1) {
    const dbPids = db ? pidsNamed(db) : [];
    const before = {
      target: cpuOf(target.child.pid),
      khalti: cpuOf(khalti.child.pid),
      db: dbPids.reduce((sum, pid) => sum + cpuOf(pid), 0),
      driver: process.cpuUsage(),
    };
    const result = await run();
    const requests = result.requests.total;
    const driver = process.cpuUsage(before.driver);
    const sample = {
      rps: result.requests.average,
      target: (cpuOf(target.child.pid) - before.target) / requests,
      khalti: (cpuOf(khalti.child.pid) - before.khalti) / requests,
      db: (dbPids.reduce((sum, pid) => sum + cpuOf(pid), 0) - before.db) / requests,
      load: (driver.user + driver.system) / requests,
    };
    sample.total = sample.target + sample.khalti + sample.db + sample.load;
    samples.push(sample);
  }
  const pick = (key) => median(samples.map((s) => s[key]));
  return { rps: pick('rps'), target: pick('target'), khalti: pick('khalti'), db: pick('db'), load: pick('load'), total: pick('total') };
}

async function main() {
  const only = args.only.split(',');
  const khalti = await start('khalti-server.js');
  const rows = [];
  for (const target of TARGETS) {
    if (target.args[0] === 'verifier' && !only.includes(target.args[1])) continue;
    if (target.env && !process.env[target.env]) continue;
    Object.assign(target, await start('target-server.js', [...target.args, khalti.baseUrl, khalti.secretKey]));
    rows.push({ name: target.name, ...(await costOf(target, khalti)) });
    if (target.args[0] === 'verifier') await ask(target.child, { drop: true });
    await stop(target.child);
  }
  await stop(khalti.child);
  const [baseline] = rows;
  const base = baseline.total;
  const memory = rows.find((row) => row.name === 'MemoryStore');
  const r = (us) => Math.round(us);
  // The most a store on a database server could reach here if its client code in our process cost
  // nothing: MemoryStore's CPU plus the database server's own. A goal above it cannot be met by client
  // work on this machine, only by the database doing less per payment.
  const bound = (row) => (memory && row.db > 0 ? (base / (memory.total + row.db)).toFixed(2) : '—');
  console.log(`CPU per verification, µs (${args.connections} connections, ${args.duration} s × ${args.runs} runs, medians)`);
  console.log('');
  console.log(
    '| target | req/s | measured × baseline | server | sandbox | load generator | database | total | total × baseline | predicted throughput × baseline | predicted with a client that cost nothing |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    console.log(
      `| ${row.name} | ${r(row.rps)} | ${(row.rps / baseline.rps).toFixed(2)} | ${r(row.target)} | ${r(row.khalti)} | ${r(row.load)} | ${r(row.db)} | ${r(row.total)} | ${(row.total / base).toFixed(2)} | ${(base / row.total).toFixed(2)} | ${bound(row)} |`,
    );
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
