// The example shop over HTTP: orders priced on the server, paid through the sandbox, fulfilled once.
import request from 'supertest';
import { useSandbox } from '../helpers/sandbox';
import { createShopApp } from '../../example-app/app';
import { startShop } from '../../example-app/server';
import { recordingLogger } from '../helpers/app';

const sandbox = useSandbox();

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((shop) => shop.close()));
});

function shop() {
  const { logger } = recordingLogger();
  const created = createShopApp({
    khalti: { mode: 'sandbox', secretKey: sandbox.secretKey, baseUrl: sandbox.baseUrl, checkoutUrl: `${sandbox.baseUrl}/checkout` },
    logger,
  });
  opened.push(created);
  return created;
}

async function newOrder(agent: ReturnType<typeof request.agent>, productId = 'chiya'): Promise<string> {
  await agent.get('/').expect(200);
  const created = await agent.post('/orders').type('form').send({ productId }).expect(303);
  return decodeURIComponent(created.headers.location!.replace('/orders/', ''));
}

describe('example shop', () => {
  it('lists products, creates a server-priced order and shows the sandbox checkout', async () => {
    const { app } = shop();
    const agent = request.agent(app);
    const list = await agent.get('/').expect(200);
    expect(list.text).toContain('Ilam tea');
    expect(list.text).toContain('Sandbox mode');
    const orderId = await newOrder(agent);
    const page = await agent.get(`/orders/${orderId}`).expect(200);
    expect(page.text).toContain('Awaiting payment');
    expect(page.text).toContain('data-amount="45000"');
    expect(page.text).toContain(`${sandbox.baseUrl}/checkout`);
    expect(page.text).not.toContain(sandbox.secretKey);
  });

  it('a paid order is fulfilled exactly once, even when the payment is posted again', async () => {
    const { app, orders } = shop();
    const agent = request.agent(app);
    const orderId = await newOrder(agent);
    const { token } = sandbox.pay({ amount: 45_000, productIdentity: orderId });
    const paid = await agent.post('/khalti/verify').send({ token, amount: 45_000, orderId }).expect(200);
    expect(paid.body).toMatchObject({ ok: true, orderId, data: { orderId, status: 'paid' } });
    await agent.post('/khalti/verify').send({ token, amount: 45_000, orderId }).expect(200);
    expect(orders.get(orderId)).toMatchObject({ status: 'paid', paidWith: token, fulfilments: 1 });
    expect((await agent.get(`/orders/${orderId}`)).text).toContain('Paid');
  });

  it('refuses a tampered amount and shows the failure on the order page', async () => {
    const { app, orders } = shop();
    const agent = request.agent(app);
    const orderId = await newOrder(agent, 'dhaka-topi');
    const { token } = sandbox.pay({ amount: 1_000, productIdentity: orderId });
    const refused = await agent.post('/khalti/verify').send({ token, amount: 1_000, orderId }).expect(409);
    expect(refused.body.error.code).toBe('amount_mismatch');
    expect(orders.get(orderId)).toMatchObject({ status: 'unpaid', fulfilments: 0 });
    expect((await agent.get(`/orders/${orderId}`)).text).toContain('Payment failed');
  });

  it('another customer cannot pay for, or even see, your order', async () => {
    const { app } = shop();
    const orderId = await newOrder(request.agent(app));
    const stranger = request.agent(app);
    await stranger.get(`/orders/${orderId}`).expect(404);
    const { token } = sandbox.pay({ amount: 45_000 });
    const response = await stranger.post('/khalti/verify').send({ token, amount: 45_000, orderId }).expect(404);
    expect(response.body.error.code).toBe('order_not_found');
    expect(sandbox.transaction(token)?.state).toBe('Confirmed');
  });

  it('unknown products and orders are 404', async () => {
    const { app } = shop();
    await request(app).post('/orders').type('form').send({ productId: 'nope' }).expect(404);
    await request(app).get('/orders/ORD-404/status').expect(404);
  });
});

describe('example shop server', () => {
  it('starts in sandbox mode without KHALTI_SECRET_KEY and prints one line saying so and where to open it', async () => {
    const lines: string[] = [];
    const started = await startShop({ port: 0, env: { SHOP_DB: ':memory:' }, log: (line: string) => lines.push(line) });
    try {
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /SANDBOX mode.*open http:\/\/127\.0\.0\.1:\d+; admin at http:\/\/127\.0\.0\.1:\d+\/admin, password [\w-]{12}$/,
      );
      expect(lines[0]).toContain(started.adminPassword);
      const home = await fetch(started.url);
      expect(home.status).toBe(200);
      expect(await home.text()).toContain('Products');
      // The admin page: a login first; a wrong password is refused; the right one opens the summary.
      expect((await fetch(`${started.url}/admin/`, { redirect: 'manual' })).headers.get('location')).toBe('/admin/login');
      const login = (password: string) =>
        fetch(`${started.url}/admin/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ password }).toString(),
          redirect: 'manual',
        });
      expect((await login('wrong')).status).toBe(401);
      const ok = await login(started.adminPassword!);
      expect(ok.status).toBe(303);
      const session = ok.headers.get('set-cookie')!.split(';')[0]!;
      const summary = await fetch(`${started.url}/admin/`, { headers: { cookie: session } });
      expect(summary.status).toBe(200);
      expect(await summary.text()).toContain('Money confirmed');
      expect((await fetch(`${started.url}/admin/reconcile`, { method: 'POST' })).status).toBe(403);
      // Prometheus metrics, for a scraper on this machine.
      const scraped = await fetch(`${started.url}/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('# TYPE khalti_payments_total counter');
    } finally {
      await started.close();
    }
  });

  it('uses the real widget in live mode and refuses to start without the public key', async () => {
    await expect(startShop({ port: 0, env: { KHALTI_SECRET_KEY: 'live_key' }, log: () => undefined })).rejects.toThrow(/KHALTI_PUBLIC_KEY/);
    const lines: string[] = [];
    const started = await startShop({
      port: 0,
      env: {
        KHALTI_SECRET_KEY: 'live_key',
        KHALTI_PUBLIC_KEY: 'live_public_key_x',
        KHALTI_BASE_URL: 'https://dev.khalti.com',
        SHOP_DB: ':memory:',
      },
      log: (line: string) => lines.push(line),
    });
    try {
      expect(lines[0]).toMatch(/LIVE mode, using Khalti at https:\/\/dev\.khalti\.com.*; no admin page \(set SHOP_ADMIN_PASSWORD\)$/);
      expect(lines[0]).not.toContain('live_key');
      const cookie = (await fetch(started.url)).headers.get('set-cookie')!.split(';')[0]!;
      const created = await fetch(`${started.url}/orders`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'productId=chiya',
        redirect: 'manual',
      });
      const page = await (await fetch(`${started.url}${created.headers.get('location')}`, { headers: { cookie } })).text();
      expect(page).toContain('khalti-checkout.iffe.js');
      expect(page).toContain('live_public_key_x');
    } finally {
      await started.close();
    }
  });
});
