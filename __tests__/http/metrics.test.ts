// khalti-express/metrics: counters, histogram and gauge read back from a prom-client registry after real
// traffic through the sandbox; registering twice names the fix; labels never carry an order or a token.
import { Registry } from 'prom-client';
import { registerKhaltiMetrics, type KhaltiMetrics } from '../../lib/metrics/metrics';
import { assertNoSecretLeaked, createShop, SECRET_KEY } from '../helpers/app';
import { useSandbox } from '../helpers/sandbox';

const sandbox = useSandbox({ secretKey: SECRET_KEY });
const registered: KhaltiMetrics[] = [];
afterEach(() => {
  for (const metrics of registered.splice(0)) metrics.unregister();
  assertNoSecretLeaked();
});

async function values(
  registry: Registry,
  name: string,
): Promise<Array<{ labels: Record<string, unknown>; value: number; metricName?: string }>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []) as Array<{ labels: Record<string, unknown>; value: number; metricName?: string }>;
}

describe('registerKhaltiMetrics', () => {
  it('counts payments, Khalti calls and their durations, refusals under load and reconcile runs', async () => {
    const registry = new Registry();
    const shop = createShop({ baseUrl: sandbox.baseUrl, maxInFlight: 1 });
    registered.push(registerKhaltiMetrics(shop.router, { registry }));
    const { token } = sandbox.pay({ amount: 1000 });
    await shop.post({ token, amount: 1000, orderId: 'A-17' });
    await shop.post({ token, amount: 1000, orderId: 'A-17' });
    await shop.post({ token, amount: 1000, orderId: 'B-2' });
    sandbox.faults.latencyMs = 300;
    const slow = sandbox.pay({ amount: 2500 });
    const pending = shop.post({ token: slow.token, amount: 2500, orderId: 'B-2' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await values(registry, 'khalti_verifications_in_flight')).toEqual([{ labels: {}, value: 1 }]);
    expect((await shop.post({ token: sandbox.pay({ amount: 1000 }).token, amount: 1000, orderId: 'A-17' })).status).toBe(503);
    await pending;
    sandbox.faults.latencyMs = 0;
    await shop.router.reconcile();

    expect(await values(registry, 'khalti_payments_total')).toEqual(
      expect.arrayContaining([
        { labels: { flow: 'widget', outcome: 'verified', code: '' }, value: 2 },
        { labels: { flow: 'widget', outcome: 'replayed', code: '' }, value: 1 },
        { labels: { flow: 'widget', outcome: 'failed', code: 'amount_mismatch' }, value: 1 },
      ]),
    );
    expect(await values(registry, 'khalti_payments_total')).toHaveLength(3);
    expect(await values(registry, 'khalti_api_requests_total')).toEqual([
      { labels: { endpoint: 'verify', outcome: 'completed' }, value: 2 },
    ]);
    const histogram = await values(registry, 'khalti_api_duration_seconds');
    expect(histogram.find((v) => v.metricName === 'khalti_api_duration_seconds_count')).toMatchObject({
      labels: { endpoint: 'verify' },
      value: 2,
    });
    const sum = histogram.find((v) => v.metricName === 'khalti_api_duration_seconds_sum')!.value;
    expect(sum).toBeGreaterThan(0.3);
    expect(await values(registry, 'khalti_overloaded_total')).toEqual([{ labels: {}, value: 1 }]);
    expect(await values(registry, 'khalti_reconcile_runs_total')).toEqual([{ labels: {}, value: 1 }]);
    expect(await values(registry, 'khalti_verifications_in_flight')).toEqual([{ labels: {}, value: 0 }]);
    const text = await registry.metrics();
    for (const never of [token, slow.token, 'A-17', 'B-2']) expect(text).not.toContain(never);
  });

  it('names the fix when registered twice in one registry; two routers with their own registries, or prefixes, work', async () => {
    const registry = new Registry();
    const first = createShop({ baseUrl: sandbox.baseUrl });
    registered.push(registerKhaltiMetrics(first.router, { registry }));
    expect(() => registerKhaltiMetrics(first.router, { registry })).toThrow(
      /khalti_payments_total, .* already registered in this registry .* give each router its own `registry` \(new Registry\(\)\) or `prefix`/,
    );
    const second = createShop({ baseUrl: sandbox.baseUrl });
    const own = new Registry();
    registered.push(registerKhaltiMetrics(second.router, { registry: own }));
    registered.push(registerKhaltiMetrics(second.router, { registry, prefix: 'second_' }));
    const { token } = sandbox.pay({ amount: 1000 });
    await second.post({ token, amount: 1000, orderId: 'A-17' });
    expect(await values(own, 'khalti_payments_total')).toEqual([{ labels: { flow: 'widget', outcome: 'verified', code: '' }, value: 1 }]);
    expect(await values(registry, 'second_khalti_payments_total')).toHaveLength(1);
    expect(() => registerKhaltiMetrics(first.router, { registry, prefix: 'bad prefix' })).toThrow(/not a Prometheus name prefix/);
  });

  it('stops counting and frees the names once unregistered', async () => {
    const registry = new Registry();
    const shop = createShop({ baseUrl: sandbox.baseUrl });
    registerKhaltiMetrics(shop.router, { registry }).unregister();
    expect(await registry.getMetricsAsJSON()).toEqual([]);
    registered.push(registerKhaltiMetrics(shop.router, { registry }));
    expect((await registry.getMetricsAsJSON()).map((m) => m.name).sort()).toEqual([
      'khalti_api_duration_seconds',
      'khalti_api_requests_total',
      'khalti_overloaded_total',
      'khalti_payments_total',
      'khalti_reconcile_runs_total',
      'khalti_verifications_in_flight',
    ]);
  });
});
