// The example shop as an Express app: products, server-side orders, and khalti-express verifying payments.
const { createHash, randomBytes, randomUUID, timingSafeEqual } = require('node:crypto');
const express = require('express');
const { khaltiVerifier } = require('khalti-express');
const { khaltiAdmin } = require('khalti-express/admin');
const { registerKhaltiMetrics } = require('khalti-express/metrics');
const { Registry } = require('prom-client');
const { SqliteStore } = require('khalti-express/stores/sqlite');
const { PRODUCTS, findProduct } = require('./catalog');
const { OrderBook } = require('./orders');
const views = require('./views');

const CUSTOMER_COOKIE = 'himal_customer';
const ADMIN_COOKIE = 'himal_admin';

function cookiesOf(req) {
  return Object.fromEntries(
    (req.headers.cookie ?? '')
      .split(';')
      .map((part) => part.trim().split('='))
      .filter(([name, value]) => name && value),
  );
}

/** Compare passwords in constant time (by their digests, so lengths do not leak either). */
function samePassword(given, expected) {
  const digest = (text) => createHash('sha256').update(String(text)).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The customer id from our cookie, or a new one (set on the response). No accounts in this demo. */
function customerOf(req, res) {
  const existing = cookiesOf(req)[CUSTOMER_COOKIE];
  if (existing && /^[0-9a-f-]{36}$/.test(existing)) return existing;
  const id = randomUUID();
  res.cookie(CUSTOMER_COOKIE, id, { httpOnly: true, sameSite: 'lax', path: '/' });
  return id;
}

/**
 * Build the shop. `khalti` is `{ secretKey, baseUrl, mode: 'sandbox', checkoutUrl }` or
 * `{ secretKey, baseUrl, mode: 'live', publicKey }`. `publicUrl` is where customers reach the shop
 * (Khalti's ePayment sends them back to `<publicUrl>/khalti/return`). `database` is the SQLite file
 * holding both the shop's orders and the khalti-express ledger (`:memory:` by default, for tests).
 * `adminPassword` mounts khalti-express's admin page at /admin behind a login (none: no admin page).
 */
function createShopApp({ khalti, publicUrl = 'http://127.0.0.1:3000', database = ':memory:', logger, adminPassword = '' }) {
  const orders = new OrderBook(database);
  const store = new SqliteStore({ filename: database });
  const app = express();
  app.disable('x-powered-by');
  // Which widget the order page's widget button uses: Khalti's genuine widget in live mode (and in
  // sandbox mode when a test harness routes its hard-coded hosts: khalti.genuineWidget), else the
  // sandbox's own checkout page, which works in anyone's browser without routing.
  const pageConfig =
    khalti.mode === 'live' || khalti.genuineWidget
      ? { widget: 'genuine', publicKey: khalti.publicKey }
      : { widget: 'sandbox-page', checkoutUrl: khalti.checkoutUrl };

  const verifier = khaltiVerifier({
    secretKey: khalti.secretKey,
    baseUrl: khalti.baseUrl,
    store,
    ...(logger ? { logger } : {}),
    // The price always comes from our own order, and only for the customer who owns it. reconcile()
    // asks with no request (req undefined): a payment nobody waits for is priced on the order alone.
    expectedAmount: (orderId, req) => {
      const order = req ? orders.findForCustomer(orderId, customerOf(req, req.res)) : orders.get(orderId);
      return order ? order.amountPaisa : null;
    },
    // Idempotent on the payment token: a second call for the same payment changes nothing.
    onVerified: (payment) => {
      const order = orders.markPaid(payment.orderId, payment);
      return { orderId: order.id, status: order.status };
    },
    onFailed: (failure) => {
      if (failure.orderId) orders.recordFailure(failure.orderId, failure.code, failure.message);
    },
    // A refund made from the admin page (or the khalti-ledger command) shows on the order page.
    onRefunded: (refund) => orders.markRefunded(refund.orderId, refund.refundedTotal),
    // Khalti ePayment (the default checkout): initiate here, pay on Khalti's page, come back to /khalti/return.
    epayment: {
      returnUrl: `${publicUrl}/khalti/return`,
      websiteUrl: publicUrl,
      successUrl: (orderId) => `/orders/${encodeURIComponent(orderId)}`,
      failureUrl: (orderId, code) => (orderId ? `/orders/${encodeURIComponent(orderId)}?error=${encodeURIComponent(code)}` : '/'),
      orderInfo: (orderId) => ({ purchaseOrderName: `Himal Bazaar ${orders.get(orderId)?.productName ?? orderId}` }),
    },
  });
  app.use(verifier);

  // Prometheus metrics for a scraper on this machine (the demo's choice: anyone else gets 403).
  const registry = new Registry();
  const metrics = registerKhaltiMetrics(verifier, { registry });
  app.get('/metrics', async (req, res) => {
    const from = req.socket.remoteAddress ?? '';
    if (!['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(from)) return res.status(403).type('text/plain').send('Forbidden');
    res
      .set('Cache-Control', 'no-store')
      .type(registry.contentType)
      .send(await registry.metrics());
  });

  // The shop owner's session: one password, sessions held in memory (a demo; use your own auth).
  const sessions = new Set();
  const isOwner = (req) => sessions.has(cookiesOf(req)[ADMIN_COOKIE]);
  if (adminPassword) {
    app.get('/admin/login', (req, res) => res.set('Cache-Control', 'no-store').type('html').send(views.adminLogin(false)));
    app.post('/admin/login', express.urlencoded({ extended: false, limit: '1kb' }), (req, res) => {
      if (!samePassword(req.body?.password ?? '', adminPassword)) return res.status(401).type('html').send(views.adminLogin(true));
      const session = randomBytes(24).toString('base64url');
      sessions.add(session);
      res.cookie(ADMIN_COOKIE, session, { httpOnly: true, sameSite: 'strict', path: '/', secure: req.secure });
      res.redirect(303, '/admin/');
    });
    // A page asked for without the session goes to the login; anything else khaltiAdmin refuses (403).
    app.use('/admin', (req, res, next) => (req.method === 'GET' && !isOwner(req) ? res.redirect(303, '/admin/login') : next()));
    app.use('/admin', khaltiAdmin(verifier, { authorize: isOwner }));
  }

  app.get('/', (req, res) => {
    customerOf(req, res);
    res.type('html').send(views.productList(PRODUCTS, khalti.mode));
  });

  app.post('/orders', express.urlencoded({ extended: false, limit: '1kb' }), (req, res) => {
    const product = findProduct(String(req.body?.productId ?? ''));
    if (!product) return res.status(404).type('html').send(views.notFound());
    const order = orders.create(customerOf(req, res), product);
    res.redirect(303, `/orders/${encodeURIComponent(order.id)}`);
  });

  app.get('/orders/:id', (req, res) => {
    const order = orders.findForCustomer(req.params.id, customerOf(req, res));
    if (!order) return res.status(404).type('html').send(views.notFound());
    res.type('html').send(views.orderPage(order, pageConfig, { owner: isOwner(req) }));
  });

  app.get('/orders/:id/status', (req, res) => {
    const order = orders.findForCustomer(req.params.id, customerOf(req, res));
    if (!order) return res.status(404).json({ error: 'not_found' });
    const { id, status, amountPaisa, transactionId, fulfilments, lastError, refundedPaisa } = order;
    res.json({ id, status, amountPaisa, transactionId, fulfilments, lastError, refundedPaisa });
  });

  const close = async () => {
    metrics.unregister();
    await store.close();
    orders.close();
  };
  return { app, orders, verifier, close };
}

module.exports = { createShopApp };
