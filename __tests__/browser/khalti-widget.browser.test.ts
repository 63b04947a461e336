// Khalti's own checkout widget (npm khalti-checkout-web, as installed) end to end in headless Chromium:
// every Khalti host is routed to the package's files or our sandbox, every other host is aborted and
// recorded. The widget's onSuccess posts to our /khalti/verify. See shared/khalti-widget.md.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import express from 'express';
import { chromium, type Browser, type BrowserContext, type FrameLocator, type Page } from 'playwright-core';
import { khaltiVerifier, MemoryStore, type VerifiedPayment } from '../../lib';
import { createKhaltiSandbox, routeKhaltiWidget, type KhaltiSandbox } from '../../lib/sandbox';

const CHROMIUM = process.env.KHX_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts');
/** Where Khalti's docs load the loader from; the loader loads the iframe from another version folder. */
const LOADER_URL = 'https://khalti.s3.ap-south-1.amazonaws.com/KPG/dist/2020.12.17.0.0.0/khalti-checkout.iffe.js';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let browser: Browser;
let sandbox: KhaltiSandbox;
let server: Server;
let shopUrl: string;
const verified: VerifiedPayment[] = [];

/** A merchant page that uses the widget exactly as Khalti's docs show. */
function merchantPage(publicKey: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Merchant</title>
<script src="${LOADER_URL}"></script></head>
<body><button id="payment-button">Pay with Khalti</button>
<script>
  window.results = {};
  var config = {
    publicKey: ${JSON.stringify(publicKey)},
    productIdentity: 'A-17',
    productName: 'Ilam tea',
    productUrl: location.href,
    merchant_note: 'gift wrap',
    paymentPreference: ['KHALTI'],
    eventHandler: {
      onSuccess: function (payload) {
        window.results.onSuccess = payload;
        var amount = window.tamperAmount || payload.amount;
        fetch('/khalti/verify', { method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ token: payload.token, amount: amount, product_identity: payload.product_identity }) })
          .then(function (r) { return r.json().then(function (body) { window.results.verify = { status: r.status, body: body }; }); });
      },
      onError: function (error) { window.results.onError = error; },
      onClose: function () { window.results.closed = true; }
    }
  };
  var checkout = new KhaltiCheckout(config);
  document.getElementById('payment-button').onclick = function () { checkout.show({ amount: 1000 }); };
</script></body></html>`;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (.ci/run does), or set KHX_CHROMIUM.`);
  mkdirSync(ARTIFACTS, { recursive: true });
  sandbox = await createKhaltiSandbox();
  const app = express();
  app.get('/', (_req, res) => res.type('html').send(merchantPage(sandbox.publicKey)));
  app.use(
    khaltiVerifier({
      secretKey: sandbox.secretKey,
      baseUrl: sandbox.baseUrl,
      store: new MemoryStore(),
      logger: { warn: () => undefined, error: () => undefined },
      expectedAmount: (orderId) => (orderId === 'A-17' ? 1000 : null),
      onVerified: (payment) => {
        verified.push(payment);
      },
    }),
  );
  server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  shopUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  await sandbox?.close();
});

let context: BrowserContext;
let offHost: string[];

beforeEach(async () => {
  verified.length = 0;
  sandbox.requests.length = 0;
  context = await browser.newContext();
  ({ offHost } = await routeKhaltiWidget(context, { sandboxUrl: sandbox.baseUrl }));
});

afterEach(async () => {
  await context.close();
  expect(offHost).toEqual([]);
});

async function openWidget(page: Page): Promise<FrameLocator> {
  await page.goto(shopUrl);
  await page.locator('#payment-button').click();
  const frame = page.frameLocator('iframe[id^="khalti-widget-"]');
  await frame.getByPlaceholder('Enter khalti registered number').waitFor({ timeout: 15_000 });
  return frame;
}

async function login(frame: FrameLocator, pin: string): Promise<void> {
  await frame.getByPlaceholder('Enter khalti registered number').fill('9800000000');
  await frame.getByPlaceholder('Enter Khalti Pin').fill(pin);
  await frame.locator('.ui.tab.active button.ui.button.primary').click();
}

const results = (page: Page) => page.evaluate('window.results') as Promise<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('Khalti’s genuine widget against the sandbox', () => {
  it('pays Rs 10 with the test credentials; onSuccess posts to /khalti/verify; fulfilled once', async () => {
    const page = await context.newPage();
    const frame = await openWidget(page);
    await login(frame, '1111');
    await frame.getByPlaceholder('Enter Confirmation Code (OTP)').waitFor({ timeout: 15_000 });
    await frame.getByPlaceholder('Enter Confirmation Code (OTP)').fill('987654');
    await page.screenshot({ path: path.join(ARTIFACTS, 'khalti-widget-otp.png') });
    await frame.locator('.ui.tab.active button.ui.button.primary').click();
    await page.waitForFunction('window.results.verify !== undefined', undefined, { timeout: 15_000 });

    const { onSuccess, verify } = await results(page);
    expect(onSuccess).toMatchObject({
      idx: expect.any(String),
      token: expect.any(String),
      amount: 1000,
      mobile: '9800000000',
      product_identity: 'A-17',
      product_name: 'Ilam tea',
      merchant_note: 'gift wrap',
    });
    expect(verify).toMatchObject({
      status: 200,
      body: { ok: true, orderId: 'A-17', amount: 1000, transactionId: onSuccess.idx, replayed: false },
    });
    expect(verified).toHaveLength(1);
    expect(sandbox.transaction(onSuccess.token)?.state).toBe('Completed');
    // What the widget sent: Khalti's field names plus its own keys, and confirm's exact body.
    const initiate = sandbox.requests.find((r) => r.path === '/api/v2/payment/initiate/')!;
    expect(initiate.body).toMatchObject({
      public_key: sandbox.publicKey,
      product_identity: 'A-17',
      amount: 1000,
      mobile: '9800000000',
      transaction_pin: '1111',
      source: 'checkout_v2.1',
    });
    expect(initiate.body).toHaveProperty('widgetId');
    const confirm = sandbox.requests.find((r) => r.path === '/api/v2/payment/confirm/')!;
    expect(Object.keys(confirm.body!).sort()).toEqual(['confirmation_code', 'public_key', 'token', 'transaction_pin']);
    expect(await page.locator('iframe[id^="khalti-widget-"]').isVisible()).toBe(false);
  }, 60_000);

  it('a wrong PIN shows "Attempts Remaining" in the widget', async () => {
    const page = await context.newPage();
    const frame = await openWidget(page);
    await login(frame, '2222');
    await frame.getByText(/Attempts Remaining/).waitFor({ timeout: 15_000 });
    expect(
      await frame
        .getByText(/Attempts Remaining/)
        .first()
        .textContent(),
    ).toContain('Attempts Remaining');
  }, 60_000);

  it('a wrong OTP shows the confirmation-code error, and nothing is fulfilled', async () => {
    const page = await context.newPage();
    const frame = await openWidget(page);
    await login(frame, '1111');
    await frame.getByPlaceholder('Enter Confirmation Code (OTP)').fill('000000');
    await frame.locator('.ui.tab.active button.ui.button.primary').click();
    await frame.getByText('Invalid confirmation code.').waitFor({ timeout: 15_000 });
    expect(verified).toEqual([]);
  }, 60_000);

  it('a tampered amount posted to /khalti/verify is refused', async () => {
    const page = await context.newPage();
    const frame = await openWidget(page);
    await page.evaluate('window.tamperAmount = 100000');
    await login(frame, '1111');
    await frame.getByPlaceholder('Enter Confirmation Code (OTP)').fill('987654');
    await frame.locator('.ui.tab.active button.ui.button.primary').click();
    await page.waitForFunction('window.results.verify !== undefined', undefined, { timeout: 15_000 });
    const { verify } = await results(page);
    expect(verify).toMatchObject({ status: 409, body: { ok: false, error: { code: 'amount_mismatch' } } });
    expect(verified).toEqual([]);
  }, 60_000);
});
