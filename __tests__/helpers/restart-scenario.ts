// The store's server goes down mid-load and comes back: requests fail closed meanwhile, and once it is back
// every payment Khalti confirmed is fulfilled exactly once — none lost. Shared by the PostgreSQL and the
// MySQL/MariaDB restart tests, which each run a private server they can stop.
import type { LedgerStore } from '../../lib';
import type { KhaltiSandbox } from '../../lib/sandbox';
import { createShop } from './app';

const PAYMENTS = 40;

export interface RestartableServer {
  /** A fresh store on the server (closed by the scenario). */
  makeStore(): LedgerStore;
  /** Stop the server, aborting its connections; resolves once it is down. */
  stop(): Promise<void>;
  /** Start it again; resolves once it answers. */
  start(): Promise<void>;
  /** Tokens the server's own table holds as fulfilled (read directly, not through the store). */
  fulfilledTokens(): Promise<string[]>;
}

export async function restartMidLoad(sandbox: KhaltiSandbox, server: RestartableServer): Promise<void> {
  const store = server.makeStore();
  const orders = Array.from({ length: PAYMENTS }, (_, i) => `O-${i}`);
  const shop = createShop({
    store,
    baseUrl: sandbox.baseUrl,
    leaseMs: 1_000,
    prices: Object.fromEntries(orders.map((id) => [id, 1000])),
  });
  const payments = orders.map((orderId) => ({ orderId, token: sandbox.pay({ amount: 1000 }).token }));
  const post = (p: { orderId: string; token: string }) => shop.post({ token: p.token, amount: 1000, orderId: p.orderId });
  try {
    // Load before the outage.
    const before = await Promise.all(payments.slice(0, 16).map(post));
    expect(before.map((r) => r.status)).toEqual(Array(16).fill(200));

    // 8 requests are waiting on Khalti when the server stops: Khalti completes them, the ledger cannot record it.
    sandbox.faults.latencyMs = 1_500;
    const caught = Promise.all(payments.slice(16, 24).map(post));
    await new Promise((resolve) => setTimeout(resolve, 400));
    await server.stop();
    const duringOutage = await caught;
    expect(duringOutage.map((r) => r.body.error?.code)).toEqual(Array(8).fill('internal_error'));
    for (const p of payments.slice(16, 24)) expect(sandbox.transaction(p.token)?.state).toBe('Completed');

    // 8 more arrive while it is down: refused before Khalti is asked.
    sandbox.faults.latencyMs = 0;
    const whileDown = await Promise.all(payments.slice(24, 32).map(post));
    expect(whileDown.map((r) => r.body.error?.code)).toEqual(Array(8).fill('internal_error'));
    for (const p of payments.slice(24, 32)) expect(sandbox.transaction(p.token)?.state).toBe('Confirmed');
    expect(shop.verified).toHaveLength(16);

    // The server is back: the rest of the load, and the customers' retries once the stuck leases expire.
    await server.start();
    const after = await Promise.all(payments.slice(32).map(post));
    expect(after.map((r) => r.status)).toEqual(Array(8).fill(200));
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const retries = await Promise.all(payments.slice(16, 32).map(post));
    expect(retries.map((r) => r.status)).toEqual(Array(16).fill(200));

    // Exactly once: every payment fulfilled one time, and the ledger agrees with Khalti's own record.
    expect(shop.verified).toHaveLength(PAYMENTS);
    expect(new Set(shop.verified.map((p) => p.token)).size).toBe(PAYMENTS);
    const completedAtKhalti = payments.filter((p) => sandbox.transaction(p.token)?.state === 'Completed').map((p) => p.token);
    expect((await server.fulfilledTokens()).sort()).toEqual(completedAtKhalti.sort());
    expect(completedAtKhalti).toHaveLength(PAYMENTS);
  } finally {
    await store.close?.();
  }
}
