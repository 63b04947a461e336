// Crash safety: an app process on SqliteStore (then MysqlStore) is SIGKILLed mid-payment; a fresh process on
// the same ledger and reconcile() fulfil every order exactly once — counted in a side-effect file, not in
// our ledger.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SECRET_KEY } from '../helpers/app';
import { ensureBuilt, lines, postJson, useChildApps, waitFor, type ChildApp } from '../helpers/child-app';
import { useSandbox } from '../helpers/sandbox';
import { sharedLedger, type SharedLedger } from '../helpers/shared-ledger';

const LEASE_MS = 1_500;
const sandbox = useSandbox({ secretKey: SECRET_KEY });
let dir: string;
/** The ledger the crashing and the fresh process share: a SQLite file, or a MySQL table. */
let storeEnv: Record<string, string>;
let mysqlLedger: SharedLedger | undefined;
const apps = useChildApps();

beforeAll(() => ensureBuilt(), 120_000);
afterEach(async () => {
  await apps.stopAll();
  rmSync(dir, { recursive: true, force: true });
  await mysqlLedger?.drop();
  mysqlLedger = undefined;
});

function appEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...storeEnv,
    KHX_KHALTI_URL: sandbox.baseUrl,
    KHX_SECRET_KEY: SECRET_KEY,
    KHX_SIDE_EFFECTS: path.join(dir, 'fulfilled.log'),
    KHX_LEASE_MS: String(LEASE_MS),
    KHX_TIMEOUT_MS: '30000',
    ...extra,
  };
}

async function start(extra?: Record<string, string>): Promise<ChildApp> {
  const app = await apps.start(appEnv(extra));
  return app;
}

/** After the crash: a fresh process on the same file waits out the lease, then reconciles. */
async function recoverAndReconcile(): Promise<Record<string, unknown>> {
  const fresh = await start();
  await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 200));
  const summary = await postJson(`${fresh.url}/reconcile`, {});
  expect(summary?.status).toBe(200);
  return summary!.body;
}

describe.each(['sqlite', 'mysql'] as const)('%s: SIGKILL mid-payment, then a fresh process and reconcile()', (kind) => {
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'khx-crash-'));
    if (kind === 'mysql') {
      mysqlLedger = await sharedLedger('mysql', 'crash');
      storeEnv = mysqlLedger.env;
    } else {
      storeEnv = { KHX_STORE: 'sqlite', KHX_STORE_URL: path.join(dir, 'ledger.sqlite') };
    }
  });

  it('killed while onVerified runs: fulfilled exactly once afterwards', async () => {
    const crashing = await start({ KHX_BLOCK_FULFIL: '1' });
    const { token } = sandbox.pay({ amount: 1000 });
    void postJson(`${crashing.url}/khalti/verify`, { token, amount: 1000, orderId: 'O-1' });
    await waitFor(() => lines(path.join(dir, 'fulfilled.log.entered')).includes(token), 10_000, 'onVerified to start');
    await crashing.kill();
    expect(lines(path.join(dir, 'fulfilled.log'))).toEqual([]);

    expect(await recoverAndReconcile()).toEqual({
      fulfilled: 1,
      released: 0,
      unsettled: 0,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    expect(lines(path.join(dir, 'fulfilled.log')).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([`${token} O-1`]);
    // Khalti was asked once: the recorded verification was trusted, not repeated.
    expect(sandbox.requests.filter((r) => r.path === '/api/v2/payment/verify/')).toHaveLength(1);
  }, 30_000);

  it.each([
    ['after Khalti completed the payment (reply lost)', 'lost_reply', 'Completed'],
    ['before Khalti processed the call (hung)', 'hang', 'Confirmed'],
  ] as const)(
    'killed while the Khalti call is in flight, %s: fulfilled exactly once afterwards',
    async (_name, fault, stateAtCrash) => {
      const crashing = await start();
      const { token } = sandbox.pay({ amount: 1000 });
      sandbox.faults.inject(fault, { on: 'verify' });
      void postJson(`${crashing.url}/khalti/verify`, { token, amount: 1000, orderId: 'O-2' });
      await waitFor(() => sandbox.requests.some((r) => r.path === '/api/v2/payment/verify/'), 10_000, 'the verify call');
      expect(sandbox.transaction(token)?.state).toBe(stateAtCrash);
      await crashing.kill();

      expect(await recoverAndReconcile()).toEqual({
        fulfilled: 1,
        released: 0,
        unsettled: 0,
        refunds: { resolved: 0, pending: 0, refunded: 0 },
      });
      expect(lines(path.join(dir, 'fulfilled.log')).map((l) => l.split(' ')[0])).toEqual([token]);
      expect(sandbox.transaction(token)?.state).toBe('Completed');
      // Reconcile asked the status API before anything else.
      const after = sandbox.requests.slice(1).map((r) => r.path);
      expect(after[0]).toBe('/api/v2/payment/status/');
    },
    30_000,
  );

  it('a replay after recovery answers from the ledger: no second side effect', async () => {
    const crashing = await start({ KHX_BLOCK_FULFIL: '1' });
    const { token } = sandbox.pay({ amount: 1000 });
    void postJson(`${crashing.url}/khalti/verify`, { token, amount: 1000, orderId: 'O-3' });
    await waitFor(() => lines(path.join(dir, 'fulfilled.log.entered')).includes(token), 10_000, 'onVerified to start');
    await crashing.kill();
    const fresh = await start();
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 200));
    // No reconcile: the customer's retry does the same inline once the lease has expired.
    const retry = await postJson(`${fresh.url}/khalti/verify`, { token, amount: 1000, orderId: 'O-3' });
    expect(retry).toMatchObject({ status: 200, body: { ok: true, replayed: false } });
    const again = await postJson(`${fresh.url}/khalti/verify`, { token, amount: 1000, orderId: 'O-3' });
    expect(again).toMatchObject({ status: 200, body: { replayed: true } });
    expect(await postJson(`${fresh.url}/reconcile`, {})).toMatchObject({
      body: { fulfilled: 0, released: 0, unsettled: 0, refunds: { resolved: 0, pending: 0, refunded: 0 } },
    });
    expect(lines(path.join(dir, 'fulfilled.log'))).toHaveLength(1);
  }, 30_000);

  it('an ePayment pidx, killed while onVerified runs: fulfilled exactly once afterwards', async () => {
    const crashing = await start({ KHX_BLOCK_FULFIL: '1' });
    const started = await postJson(`${crashing.url}/khalti/initiate`, { orderId: 'O-4' });
    const pidx = String(started?.body.pidx);
    const paid = await fetch(`${sandbox.baseUrl}/epayment/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ pidx, mobile: '9800000000', pin: '1111', otp: '987654' }).toString(),
      redirect: 'manual',
    });
    expect(paid.status).toBe(302);
    void postJson(`${crashing.url}/khalti/verify`, { pidx, orderId: 'O-4' });
    await waitFor(() => lines(path.join(dir, 'fulfilled.log.entered')).includes(pidx), 10_000, 'onVerified to start');
    await crashing.kill();

    expect(await recoverAndReconcile()).toEqual({
      fulfilled: 1,
      released: 0,
      unsettled: 0,
      refunds: { resolved: 0, pending: 0, refunded: 0 },
    });
    expect(lines(path.join(dir, 'fulfilled.log')).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([`${pidx} O-4`]);
  }, 30_000);
});
