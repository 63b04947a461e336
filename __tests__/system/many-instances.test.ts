// Many app instances, one ledger: three Node processes share a PostgreSQL, a MySQL/MariaDB, then a Redis
// store and take 200 concurrent requests — 50 tokens, each posted 4 times, some for the right order, some
// for another.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SECRET_KEY } from '../helpers/app';
import { ensureBuilt, lines, postJson, useChildApps, type ChildApp } from '../helpers/child-app';
import { useSandbox } from '../helpers/sandbox';
import { SHARED_KINDS, sharedLedger, type SharedLedger } from '../helpers/shared-ledger';

const INSTANCES = 3;
const TOKENS = 50;

const sandbox = useSandbox({ secretKey: SECRET_KEY }, (started) => {
  started.faults.latencyMs = 20;
});
let dir: string;
const apps = useChildApps();

beforeAll(() => ensureBuilt(), 120_000);
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'khx-many-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A deterministic shuffle, so a failure can be replayed. */
function shuffled<T>(items: T[], seed = 42): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i -= 1) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** ePayment across the same instances: pidx payments started on one instance, verified on all of them. */
async function pidxStormAcross(apps: ChildApp[], sideEffects: string): Promise<void> {
  const before = lines(sideEffects).length;
  const orders = Array.from({ length: 20 }, (_, i) => `O-${100 + i}`);
  const pidxs: string[] = [];
  for (const [i, orderId] of orders.entries()) {
    const started = await postJson(`${apps[i % INSTANCES]!.url}/khalti/initiate`, { orderId });
    expect(started?.status).toBe(200);
    const pidx = String(started!.body.pidx);
    pidxs.push(pidx);
    sandbox.setEpaymentStatus(pidx, 'Completed');
  }
  const posts = shuffled(
    pidxs.flatMap((pidx, i) => [orders[i]!, orders[i]!, orders[i]!, `X-${i}`].map((orderId) => ({ pidx, orderId }))),
    7,
  );
  const responses = await Promise.all(posts.map((post, i) => postJson(`${apps[i % INSTANCES]!.url}/khalti/verify`, post)));
  expect(responses.map((r) => r?.status).filter((s) => s !== 200 && s !== 409)).toEqual([]);
  // A pidx is bound to its order at initiate: the posts for another order are all refused.
  responses.forEach((r, i) => {
    if (posts[i]!.orderId.startsWith('X-')) expect(r?.body.error).toMatchObject({ code: 'token_already_used' });
  });
  const effects = lines(sideEffects)
    .slice(before)
    .map((line) => line.split(' '));
  expect(effects).toHaveLength(20);
  expect(new Set(effects.map(([pidx]) => pidx))).toEqual(new Set(pidxs));
}

async function stormAcross(ledger: SharedLedger): Promise<void> {
  const sideEffects = path.join(dir, 'fulfilled.log');
  const instances = await Promise.all(
    Array.from({ length: INSTANCES }, () =>
      apps.start({
        ...ledger.env,
        KHX_KHALTI_URL: sandbox.baseUrl,
        KHX_SECRET_KEY: SECRET_KEY,
        KHX_SIDE_EFFECTS: sideEffects,
      }),
    ),
  );
  const tokens = Array.from({ length: TOKENS }, () => sandbox.pay({ amount: 1000 }).token);
  // Each token: three posts for its order, one for somebody else's.
  const posts = shuffled(tokens.flatMap((token, i) => [`O-${i}`, `O-${i}`, `O-${i}`, `X-${i}`].map((orderId) => ({ token, orderId }))));
  expect(posts).toHaveLength(200);
  const responses = await Promise.all(
    posts.map((post, i) =>
      postJson(`${instances[i % INSTANCES]!.url}/khalti/verify`, { token: post.token, amount: 1000, orderId: post.orderId }),
    ),
  );

  const statuses = responses.map((r) => r?.status);
  expect(statuses.filter((s) => s !== 200 && s !== 409)).toEqual([]);
  const effects = lines(sideEffects).map((line) => line.split(' '));
  expect(effects).toHaveLength(TOKENS);
  expect(new Set(effects.map(([token]) => token)).size).toBe(TOKENS);
  // Every token paid exactly one order, and every 200 names that order.
  const orderOf = new Map(effects.map(([token, orderId]) => [token!, orderId!]));
  responses.forEach((response, i) => {
    if (response?.status === 200) expect(response.body.orderId).toBe(orderOf.get(posts[i]!.token));
  });
  // The work really was spread over the three processes.
  expect(new Set(effects.map(([, , pid]) => pid)).size).toBeGreaterThan(1);
  for (const token of tokens) expect(sandbox.transaction(token)?.state).toBe('Completed');
  await pidxStormAcross(instances, sideEffects);
  for (const app of instances) expect(app.stderr()).toBe('');
}

describe('three app instances sharing one ledger', () => {
  it.each(SHARED_KINDS)(
    '%s: 200 concurrent requests, exactly 50 fulfilments, no token bound to two orders; then 80 for 20 ePayment pidx',
    async (kind) => {
      const ledger = await sharedLedger(kind, 'many');
      try {
        await stormAcross(ledger);
        if (ledger.redis) {
          expect(await ledger.redis.zcard(`${ledger.name}active`)).toBe(0);
        } else {
          // The database's own record: no token bound to two orders, every token's claim ended.
          expect(await ledger.query(`SELECT token FROM ${ledger.name} GROUP BY token HAVING count(DISTINCT order_id) > 1`)).toEqual([]);
          const states = await ledger.query(`SELECT state, count(*) AS n FROM ${ledger.name} GROUP BY state ORDER BY state`);
          expect(states.map((row) => [row.state, Number(row.n)])).toEqual([['fulfilled', TOKENS + 20]]);
        }
      } finally {
        await ledger.drop();
      }
    },
    90_000,
  );
});
