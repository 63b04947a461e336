// A closed-loop load generator that records every response's status and latency (autocannon mixes them):
// `connections` virtual users, each posting a fresh token, then the next; a 503 is honoured (Retry-After).
const http = require('node:http');

function post(agent, url, body) {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode, ms: performance.now() - started, retryAfter: res.headers['retry-after'], at: Date.now() }),
      );
    });
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started, at: Date.now() }));
    req.end(JSON.stringify(body));
  });
}

/**
 * Run until `shouldStop()`; `onResult` sees each response. Tokens are `bench_<prefix>_<n>`, each for
 * its own order.
 */
async function closedLoop({ url, connections, prefix, shouldStop, onResult, rampMs = 0 }) {
  let n = 0;
  const agents = [];
  const user = async (index) => {
    // Each user is a browser with its own kept-alive connection, held while it waits out a Retry-After.
    // (One shared agent would hand a newcomer another user's idle socket, and close all but 256 idle ones.)
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    // Users arrive over `rampMs`, as traffic does, instead of 2000 connects in one instant.
    if (rampMs > 0) await new Promise((resolve) => setTimeout(resolve, (index / connections) * rampMs));
    while (!shouldStop()) {
      n += 1;
      const token = `bench_${prefix}_${n}`;
      const sentAt = Date.now();
      const result = await post(agent, `${url}/khalti/verify`, { token, amount: 1000, orderId: `O-${token}` });
      result.sentAt = sentAt;
      onResult({ ...result, token });
      if (result.status === 503 && !shouldStop())
        await new Promise((resolve) => setTimeout(resolve, Number(result.retryAfter ?? 1) * 1000));
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, index) => user(index)));
  for (const agent of agents) agent.destroy();
}

/** Poll GET /health every `everyMs`; resolves to the latencies (Infinity for a failure) once stopped. */
async function pollHealth({ url, everyMs, shouldStop }) {
  const latencies = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  while (!shouldStop()) {
    const started = performance.now();
    const ok = await new Promise((resolve) => {
      const req = http.get(`${url}/health`, { agent, timeout: 5_000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
    });
    latencies.push(ok ? performance.now() - started : Number.POSITIVE_INFINITY);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  agent.destroy();
  return latencies;
}

module.exports = { closedLoop, pollHealth };
