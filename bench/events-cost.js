// What the events cost when nobody subscribes (issue 16): the verify endpoint's throughput with the event
// code as shipped and no subscriber, against the same process with that code path removed (the publish
// functions replaced by empty ones), rounds interleaved; plus the publish call itself, alone.
// `npm run bench:events` (builds first). Pinned to one core with taskset when available, since the load
// loop and the server share this process.
const { Buffer } = require('node:buffer');
const { randomBytes } = require('node:crypto');
const http = require('node:http');
const path = require('node:path');
const express = require('express');

const dist = path.resolve(__dirname, '..', 'dist');
const events = require(path.join(dist, 'events.js'));
const { khaltiVerifier, MemoryStore } = require(path.join(dist, 'index.js'));

const ROUNDS = Number(process.env.KHX_ROUNDS ?? 8);
const ROUND_MS = Number(process.env.KHX_ROUND_MS ?? 1500);
const CONCURRENCY = 16;

const shipped = { ...events };
const removed = Object.fromEntries(
  Object.keys(events)
    .filter((k) => k.startsWith('publish'))
    .map((k) => [k, () => undefined]),
);
const use = (variant) => Object.assign(events, variant === 'removed' ? removed : shipped);

// A Khalti that confirms at once, so the package's own code is what is measured.
const client = {
  verify: async (token, amount) => ({ kind: 'completed', transactionId: `idx-${token}`, amount, body: { idx: `idx-${token}` } }),
  status: async () => ({ kind: 'unavailable', reason: 'network' }),
  initiate: async () => ({ kind: 'unavailable', reason: 'network' }),
  lookup: async () => ({ kind: 'unavailable', reason: 'network' }),
  refund: async () => ({ kind: 'unavailable', reason: 'network' }),
};

async function main() {
  const app = express();
  app.use(
    khaltiVerifier({
      secretKey: `live_secret_key_${randomBytes(16).toString('hex')}`,
      client,
      store: new MemoryStore({ maxRecords: 10_000_000 }),
      expectedAmount: () => 1000,
      onVerified: () => undefined,
      logger: { warn: () => undefined, error: () => undefined },
      maxInFlight: 1000,
    }),
  );
  const server = http.createServer(app);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let n = 0;
  const post = () =>
    new Promise((resolve, reject) => {
      n += 1;
      const body = JSON.stringify({ token: `t${process.pid}x${n}`, amount: 1000, orderId: `O-${n}` });
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: '/khalti/verify',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  async function round(variant) {
    use(variant);
    let done = 0;
    const until = performance.now() + ROUND_MS;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < until) {
          await post();
          done += 1;
        }
      }),
    );
    return done / (ROUND_MS / 1000);
  }
  await round('shipped'); // warm-up
  await round('removed');
  const results = { shipped: [], removed: [] };
  for (let i = 0; i < ROUNDS; i += 1)
    for (const variant of i % 2 ? ['removed', 'shipped'] : ['shipped', 'removed']) results[variant].push(await round(variant));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const a = median(results.shipped);
  const b = median(results.removed);
  console.log(`verify endpoint, no subscriber, ${ROUNDS} interleaved rounds of ${ROUND_MS} ms, ${CONCURRENCY} connections:`);
  console.log(`  events code shipped:  ${a.toFixed(0)} req/s (median; rounds ${results.shipped.map((x) => x.toFixed(0)).join(' ')})`);
  console.log(`  events code removed:  ${b.toFixed(0)} req/s (median; rounds ${results.removed.map((x) => x.toFixed(0)).join(' ')})`);
  console.log(`  ratio shipped/removed: ${(a / b).toFixed(3)}`);
  agent.destroy();
  server.close();

  use('shipped');
  const CALLS = 20_000_000;
  const make = () => ({ flow: 'widget' });
  let t = performance.now();
  for (let i = 0; i < CALLS; i += 1) events.publishPayment(make);
  const publish = ((performance.now() - t) * 1e6) / CALLS;
  const empty = () => undefined;
  t = performance.now();
  for (let i = 0; i < CALLS; i += 1) empty(make);
  const baseline = ((performance.now() - t) * 1e6) / CALLS;
  console.log(`publishPayment with no subscriber: ${publish.toFixed(2)} ns per call (an empty function: ${baseline.toFixed(2)} ns)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
