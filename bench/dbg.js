// temporary: profile one target under load
const { start, ask, stop } = require('./processes');
const autocannon = require('autocannon');
(async () => {
  const kind = process.argv[2], store = process.argv[3];
  const khalti = await start('khalti-server.js');
  const t = await start('target-server.js', [kind, store, khalti.baseUrl, khalti.secretKey]);
  let n = 0;
  const r = await autocannon({ url: t.url, connections: 50, duration: 5, requests: [{ method: 'POST', path: '/khalti/verify', headers: { 'content-type': 'application/json' },
    setupRequest: (req) => { n++; return { ...req, body: JSON.stringify({ token: `bench_p_${n}`, amount: 1000, orderId: 'O-' + n }) }; } }] });
  console.log(store, r.requests.average, r.latency.p50, r.latency.p99, r.non2xx);
  await stop(t.child);
  await stop(khalti.child);
})();
