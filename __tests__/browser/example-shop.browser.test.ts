// End to end in headless Chromium (Debian's, driven by playwright-core): buy, pay in the sandbox
// checkout with Khalti's test credentials, see the order paid once; a tampered amount stays unpaid.
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startShop } from '../../example-app/server';
import { routeKhaltiWidget } from '../../lib/sandbox';

const CHROMIUM = process.env.KHX_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let browser: Browser;
let shop: Awaited<ReturnType<typeof startShop>>;
let context: BrowserContext;
let offHost: string[];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install Debian's package (apt-get install chromium) or set KHX_CHROMIUM. .ci/run installs it.`,
    );
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  shop = await startShop({ port: 0, env: { SHOP_DB: ':memory:' }, log: () => undefined });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await shop?.close();
});

beforeEach(async () => {
  context = await browser.newContext();
  offHost = [];
  // Only loopback may be reached: anything else is aborted and recorded, and fails the test.
  await context.route('**/*', (route) => {
    const { hostname } = new URL(route.request().url());
    if (hostname === '127.0.0.1' || hostname === 'localhost') return route.continue();
    offHost.push(route.request().url());
    return route.abort();
  });
});

afterEach(async () => {
  await context.close();
  expect(offHost).toEqual([]);
});

async function buy(page: Page, productName: string): Promise<string> {
  await page.goto(shop.url);
  await page.locator('.product', { hasText: productName }).getByRole('button').click();
  await page.waitForURL(/\/orders\//);
  return decodeURIComponent(new URL(page.url()).pathname.replace('/orders/', ''));
}

/** Pay in the sandbox checkout popup with Khalti's published test credentials. */
async function payInCheckout(page: Page, screenshot?: string): Promise<void> {
  const [popup] = await Promise.all([page.waitForEvent('popup'), page.locator('#pay').click()]);
  await popup.waitForLoadState();
  await popup.getByPlaceholder('Enter khalti registered number').fill('9800000001');
  await popup.getByPlaceholder('Enter Khalti Pin').fill('1111');
  await popup.locator('#login button').click();
  await popup.getByPlaceholder('Enter Confirmation Code (OTP)').fill('987654');
  if (screenshot) await popup.screenshot({ path: path.join(ARTIFACTS, screenshot) });
  await popup.locator('#otp button').click();
}

async function orderStatus(page: Page, orderId: string) {
  const response = await page.request.get(`${shop.url}/orders/${encodeURIComponent(orderId)}/status`);
  return (await response.json()) as {
    status: string;
    fulfilments: number;
    transactionId: string | null;
    lastError: { code: string } | null;
  };
}

describe('example shop in a browser: Khalti ePayment (the default checkout)', () => {
  async function toKhaltiPage(page: Page): Promise<void> {
    await page.locator('#pay-epayment').click();
    await page.waitForURL(/\/epayment\/\?pidx=/);
  }

  it('pays on Khalti’s page and comes back to a paid order, fulfilled once', async () => {
    const page = await context.newPage();
    const orderId = await buy(page, 'Ilam tea');
    await toKhaltiPage(page);
    await page.locator('input[name=mobile]').fill('9800000001');
    await page.locator('input[name=pin]').fill('1111');
    await page.locator('input[name=otp]').fill('987654');
    await page.screenshot({ path: path.join(ARTIFACTS, 'epayment-khalti-page.png'), fullPage: true });
    await page.locator('#pay').click();
    await page.waitForURL(new RegExp(`/orders/${orderId}$`));
    expect(await page.locator('#status').textContent()).toBe('Paid');
    await page.screenshot({ path: path.join(ARTIFACTS, 'epayment-paid-order.png'), fullPage: true });
    expect(await orderStatus(page, orderId)).toMatchObject({ status: 'paid', fulfilments: 1 });
    // A reload of the return URL (back button, double submit) fulfils nothing more.
    await page.goBack();
    expect(await orderStatus(page, orderId)).toMatchObject({ status: 'paid', fulfilments: 1 });
  }, 60_000);

  it('cancelled on Khalti’s page: back to the order, unpaid, with the reason shown', async () => {
    const page = await context.newPage();
    const orderId = await buy(page, 'Momo masala');
    await toKhaltiPage(page);
    await page.locator('#cancel').click();
    await page.waitForURL(/error=payment_not_completed/);
    expect(await page.locator('#status').getAttribute('data-status')).toBe('failed');
    expect(await orderStatus(page, orderId)).toMatchObject({ status: 'unpaid', fulfilments: 0 });
  }, 60_000);

  it('paid, then the tab closed before the redirect: reconcile() fulfils the order', async () => {
    const page = await context.newPage();
    const orderId = await buy(page, 'Dhaka topi');
    await toKhaltiPage(page);
    // The customer pays on Khalti's page and closes the tab before following the redirect back
    // (a redirect is not interceptable in the browser, so the payment is submitted without following it).
    const pidx = new URL(page.url()).searchParams.get('pidx')!;
    const paid = await fetch(`${shop.sandbox!.baseUrl}/epayment/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ pidx, mobile: '9800000005', pin: '1111', otp: '987654' }).toString(),
      redirect: 'manual',
    });
    expect(paid.status).toBe(302);
    expect(shop.sandbox!.epayment(pidx)?.status).toBe('Completed');
    await page.close();
    expect(await orderStatus(await context.newPage(), orderId)).toMatchObject({ status: 'unpaid', fulfilments: 0 });

    expect(await shop.shop.verifier.reconcile()).toMatchObject({ fulfilled: 1 });
    expect(await orderStatus(await context.newPage(), orderId)).toMatchObject({ status: 'paid', fulfilments: 1 });
  }, 60_000);
});

describe('example shop in a browser: the Khalti widget flow', () => {
  it('pays an order in the sandbox checkout and shows it paid, fulfilled once', async () => {
    const page = await context.newPage();
    const orderId = await buy(page, 'Ilam tea');
    expect(await page.locator('#status').textContent()).toBe('Awaiting payment');
    await payInCheckout(page, 'sandbox-checkout-otp.png');
    await page.locator('#status[data-status="paid"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('#status').textContent()).toBe('Paid');
    await page.screenshot({ path: path.join(ARTIFACTS, 'paid-order.png'), fullPage: true });

    const status = await orderStatus(page, orderId);
    expect(status).toMatchObject({ status: 'paid', fulfilments: 1 });
    expect(await page.locator('#transaction').textContent()).toBe(status.transactionId);
    const verified = shop.sandbox!.requests.filter((r) => r.path === '/api/v2/payment/verify/');
    expect(verified).toHaveLength(1);
    expect(shop.sandbox!.transaction(String(verified[0]!.body!.token))?.state).toBe('Completed');
    expect(await page.locator('#pay').count()).toBe(0);
  }, 60_000);

  it('a tampered amount is refused: the order stays unpaid and the error is shown', async () => {
    const page = await context.newPage();
    const orderId = await buy(page, 'Dhaka topi');
    // The attacker lowers the amount in the page before paying (Rs 1,200 → Rs 10).
    await page.locator('#order').evaluate((element) => element.setAttribute('data-amount', '1000'));
    await payInCheckout(page);
    await page.locator('#status[data-status="failed"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('#error').textContent()).toContain('amount_mismatch');
    await page.screenshot({ path: path.join(ARTIFACTS, 'tampered-order.png'), fullPage: true });
    expect(await orderStatus(page, orderId)).toMatchObject({ status: 'unpaid', fulfilments: 0, lastError: { code: 'amount_mismatch' } });
  }, 60_000);
});

describe('example shop in a browser: Khalti’s genuine widget in sandbox mode (SHOP_WIDGET=genuine)', () => {
  it('pays through the real widget, its hosts routed to the package’s files and the shop’s sandbox', async () => {
    const genuine = await startShop({ port: 0, env: { SHOP_DB: ':memory:', SHOP_WIDGET: 'genuine' }, log: () => undefined });
    const widgetContext = await browser.newContext();
    try {
      const { offHost: widgetOffHost } = await routeKhaltiWidget(widgetContext, { sandboxUrl: genuine.sandbox!.baseUrl });
      const page = await widgetContext.newPage();
      await page.goto(genuine.url);
      await page.locator('.product', { hasText: 'Momo masala' }).getByRole('button').click();
      await page.waitForURL(/\/orders\//);
      const orderId = decodeURIComponent(new URL(page.url()).pathname.replace('/orders/', ''));
      await page.locator('#pay').click();
      const frame = page.frameLocator('iframe[id^="khalti-widget-"]');
      await frame.getByPlaceholder('Enter khalti registered number').fill('9800000003');
      await frame.getByPlaceholder('Enter Khalti Pin').fill('1111');
      await frame.locator('.ui.tab.active button.ui.button.primary').click();
      await frame.getByPlaceholder('Enter Confirmation Code (OTP)').fill('987654');
      await frame.locator('.ui.tab.active button.ui.button.primary').click();
      await page.locator('#status[data-status="paid"]').waitFor({ timeout: 15_000 });
      await page.screenshot({ path: path.join(ARTIFACTS, 'genuine-widget-paid-order.png'), fullPage: true });
      const status = await (await page.request.get(`${genuine.url}/orders/${encodeURIComponent(orderId)}/status`)).json();
      expect(status).toMatchObject({ status: 'paid', fulfilments: 1 });
      expect(widgetOffHost).toEqual([]);
    } finally {
      await widgetContext.close();
      await genuine.close();
    }
  }, 60_000);
});

describe('example shop in a browser: the owner’s admin page', () => {
  /** Buy and pay on Khalti's page (ePayment); the order id and its price in paisa. */
  async function paidOrder(page: Page, product: string): Promise<{ orderId: string; amount: number }> {
    const orderId = await buy(page, product);
    await page.locator('#pay-epayment').click();
    await page.waitForURL(/\/epayment\/\?pidx=/);
    await page.locator('input[name=mobile]').fill('9800000001');
    await page.locator('input[name=pin]').fill('1111');
    await page.locator('input[name=otp]').fill('987654');
    await page.locator('#pay').click();
    await page.waitForURL(new RegExp(`/orders/${orderId}$`));
    const status = (await (await page.request.get(`${shop.url}/orders/${orderId}/status`)).json()) as { amountPaisa: number };
    return { orderId, amount: status.amountPaisa };
  }

  async function logIn(page: Page): Promise<void> {
    await page.goto(`${shop.url}/admin/`);
    await page.waitForURL(/\/admin\/login$/);
    await page.locator('input[name=password]').fill(shop.adminPassword!);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/admin\/$/);
  }

  const refunded = async (page: Page, orderId: string) =>
    ((await (await page.request.get(`${shop.url}/orders/${orderId}/status`)).json()) as { refundedPaisa: number }).refundedPaisa;

  it('logs in, finds the paid order, refunds it partly then fully, and the order page says Refunded', async () => {
    const page = await context.newPage();
    const { orderId, amount } = await paidOrder(page, 'Ilam tea');
    expect(await page.locator('#refund').count()).toBe(0);
    await logIn(page);
    expect(await page.locator('h1').textContent()).toBe('Summary');
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-summary.png'), fullPage: true });
    await page.getByRole('link', { name: 'Payments' }).click();
    const row = page.locator('tr', { hasText: orderId });
    expect(await row.locator('.state').textContent()).toBe('Fulfilled');
    // The owner's Refund button on the shop's own order page goes through the admin route.
    await page.goto(`${shop.url}/orders/${orderId}`);
    await page.locator('#refund').click();
    await page.waitForURL(/\/admin\/payments\/pidx%3A/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-payment.png'), fullPage: true });
    // The pidx is masked everywhere on the page, Khalti's answer included.
    const pidx = decodeURIComponent(page.url()).split('pidx:')[1]!;
    expect(await page.locator('main').innerText()).not.toContain(pidx);
    expect(await page.locator('main').innerText()).toContain(`${pidx.slice(0, 4)}…`);
    const half = amount / 2;
    await page.locator('input[name=amount]').fill(String(half / 100));
    await page.getByRole('button', { name: 'Refund' }).click();
    await page.locator('.notice').waitFor();
    expect(await page.locator('.notice').textContent()).toMatch(/^Refunded Rs [\d,]+\.\d\d; Rs [\d,]+\.\d\d left\.$/);
    expect(await page.locator('.state').textContent()).toBe('Partially refunded');
    // Reloading the page after the redirect sends nothing again.
    await page.reload();
    expect(await page.locator('.notice').count()).toBe(0);
    expect(await refunded(page, orderId)).toBe(half);
    await page.getByRole('button', { name: 'Refund' }).click();
    await page.locator('.notice').waitFor();
    expect(await page.locator('.notice').textContent()).toContain('Rs 0.00 left.');
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-refunded.png'), fullPage: true });
    await page.goto(`${shop.url}/orders/${orderId}`);
    expect(await page.locator('#status').textContent()).toBe('Refunded');
    expect(await page.locator('#refund').count()).toBe(0);
    expect(await refunded(page, orderId)).toBe(amount);
    await page.screenshot({ path: path.join(ARTIFACTS, 'refunded-order.png'), fullPage: true });
  }, 90_000);

  it('refuses a POST without the CSRF check and a forged cross-site POST, and refunds nothing', async () => {
    const page = await context.newPage();
    const { orderId } = await paidOrder(page, 'Momo masala');
    const refundPosts = () => shop.sandbox!.requests.filter((r) => r.path.endsWith('/refund/')).length;
    const postsBefore = refundPosts();
    await logIn(page);
    await page.goto(`${shop.url}/orders/${orderId}`);
    const adminPage = String(await page.locator('#refund').getAttribute('href'));
    // Same site, logged in, but no token: refused.
    const noToken = await page.evaluate(
      async (url) =>
        (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'amount=1' })).status,
      `${adminPage}/refund`,
    );
    expect(noToken).toBe(403);
    // Another site (localhost is not 127.0.0.1) posts a form at the shop: SameSite keeps the session
    // and the CSRF cookie home, so the admin refuses it.
    const evil = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<form id="f" method="post" action="${shop.url}${adminPage}/refund"><input name="csrf" value="guess"><input name="amount" value="1"></form>
<script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, 'localhost', resolve));
    try {
      const attacker = await context.newPage();
      const answer = attacker.waitForResponse((response) => response.url().endsWith('/refund'));
      await attacker.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`);
      expect((await answer).status()).toBe(403);
    } finally {
      await new Promise((resolve) => evil.close(resolve));
    }
    expect(await refunded(page, orderId)).toBe(0);
    expect(refundPosts()).toBe(postsBefore);
  }, 90_000);

  it('shows an order id holding <script> escaped, never run', async () => {
    const page = await context.newPage();
    const evilOrder = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';
    await shop.shop.verifier.store.claim({
      token: 'EvilToken1234567890abc',
      orderId: evilOrder,
      amount: 1000,
      owner: 'x',
      now: Date.now(),
      leaseMs: 60_000,
    });
    await logIn(page);
    await page.goto(`${shop.url}/admin/payments?order=${encodeURIComponent(evilOrder)}`);
    expect(await page.locator('td', { hasText: '<script>window.__pwned=1</script>' }).count()).toBe(1);
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.locator('tr', { hasText: '<script>' }).getByRole('link').click();
    expect(await page.locator('h1').textContent()).toBe(`Order ${evilOrder}`);
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  }, 60_000);
});
