// The shop's HTML pages: product list and order page (with the Khalti checkout for the current mode).
const { rupees } = require('./catalog');

/** Khalti's widget loader, as Khalti's docs load it (used in live mode only). */
const KHALTI_WIDGET_SCRIPT = 'https://khalti.s3.ap-south-1.amazonaws.com/KPG/dist/2020.12.17.0.0.0/khalti-checkout.iffe.js';

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** JSON inside a <script>: `<` escaped so no value can close the script element. */
function scriptJson(value) {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function layout(title, body) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Himal Bazaar</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 720px; margin: 2rem auto; padding: 0 1rem; color: #222; }
  header a { color: #5c2d91; text-decoration: none; font-weight: 700; font-size: 1.3rem; }
  .product { border: 1px solid #ddd; border-radius: 10px; padding: 1rem; margin: 1rem 0; display: flex; justify-content: space-between; align-items: center; gap: 1rem; }
  button { background: #5c2d91; color: #fff; border: 0; border-radius: 6px; padding: .6rem 1rem; font-size: 1rem; cursor: pointer; }
  a.button { background: #5c2d91; color: #fff; border-radius: 6px; padding: .5rem 1rem; text-decoration: none; display: inline-block; }
  button.secondary { background: #fff; color: #5c2d91; border: 1px solid #5c2d91; }
  .status { font-size: 1.2rem; font-weight: 700; }
  .status[data-status="paid"] { color: #1b7f3b; }
  .status[data-status="failed"] { color: #b00020; }
  .error { color: #b00020; }
  .mode { background: #fff3cd; padding: .4rem .7rem; border-radius: 6px; font-size: .85rem; display: inline-block; }
</style>
</head>
<body>
<header><a href="/">Himal Bazaar</a></header>
${body}
</body>
</html>`;
}

function productList(products, mode) {
  const items = products
    .map(
      (p) => `<div class="product" data-product="${escapeHtml(p.id)}">
  <div><strong>${escapeHtml(p.name)}</strong><br><small>${escapeHtml(p.description)}</small></div>
  <form method="post" action="/orders"><input type="hidden" name="productId" value="${escapeHtml(p.id)}">
  <button type="submit">Buy for ${escapeHtml(rupees(p.pricePaisa))}</button></form>
</div>`,
    )
    .join('\n');
  const note = mode === 'sandbox' ? '<p class="mode">Sandbox mode: payments go to a local Khalti sandbox; no real money moves.</p>' : '';
  return layout('Products', `<h1>Products</h1>\n${note}\n${items}`);
}

function statusOf(order) {
  if (order.status === 'paid' && order.refundedPaisa >= order.amountPaisa) return { key: 'refunded', text: 'Refunded' };
  if (order.status === 'paid' && order.refundedPaisa > 0)
    return { key: 'partially-refunded', text: `Paid; ${rupees(order.refundedPaisa)} refunded` };
  if (order.status === 'paid') return { key: 'paid', text: 'Paid' };
  if (order.lastError) return { key: 'failed', text: `Payment failed: ${order.lastError.message}` };
  return { key: 'unpaid', text: 'Awaiting payment' };
}

/**
 * The order page. `khalti` is `{ widget: 'sandbox-page', checkoutUrl }` (the sandbox's checkout page,
 * opened in a popup that posts the widget's onSuccess payload back) or `{ widget: 'genuine', publicKey }`
 * (Khalti's own widget). Either way the payload's token and amount go to POST /khalti/verify; the server decides.
 */
function orderPage(order, khalti, { owner = false } = {}) {
  const status = statusOf(order);
  const payable = order.status !== 'paid';
  const config = { ...khalti, orderId: order.id, productName: order.productName };
  const widget = khalti.widget === 'genuine' ? `<script src="${KHALTI_WIDGET_SCRIPT}"></script>` : '';
  const body = `<h1>Order ${escapeHtml(order.id)}</h1>
<section id="order" data-order-id="${escapeHtml(order.id)}" data-amount="${order.amountPaisa}">
  <p>${escapeHtml(order.productName)} — <span id="price">${escapeHtml(rupees(order.amountPaisa))}</span></p>
  <p id="status" class="status" data-status="${status.key}">${escapeHtml(status.text)}</p>
  ${order.transactionId ? `<p>Khalti transaction <code id="transaction">${escapeHtml(order.transactionId)}</code></p>` : ''}
  ${payable ? '<button id="pay-epayment" type="button">Pay with Khalti</button> <button id="pay" type="button" class="secondary">Pay with the Khalti widget</button>' : ''}
  <p id="error" class="error" role="alert"></p>
  ${
    owner && order.status === 'paid' && order.paidWith && order.refundedPaisa < order.amountPaisa
      ? `<p><a id="refund" class="button" href="/admin/payments/${escapeHtml(encodeURIComponent(order.paidWith))}">Refund (shop owner)</a></p>`
      : ''
  }
</section>
${widget}
<script>
const KHALTI = ${scriptJson(config)};
const orderEl = document.getElementById('order');
const statusEl = document.getElementById('status');
const errorEl = document.getElementById('error');

async function verify(payload) {
  errorEl.textContent = 'Verifying your payment…';
  try {
    const response = await fetch('/khalti/verify', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token: payload.token, amount: payload.amount, orderId: KHALTI.orderId }),
    });
    const body = await response.json();
    if (body.ok) return location.reload();
    errorEl.textContent = body.error.message + ' (' + body.error.code + ')';
    statusEl.dataset.status = 'failed';
    statusEl.textContent = 'Payment failed: ' + body.error.message;
  } catch (e) {
    errorEl.textContent = 'Could not reach the shop. Retry: your payment is safe.';
  }
}

// Khalti ePayment (recommended): the server starts the payment; Khalti's page sends the customer back.
const payEpayment = document.getElementById('pay-epayment');
if (payEpayment) {
  payEpayment.addEventListener('click', async () => {
    errorEl.textContent = 'Starting your payment…';
    const response = await fetch('/khalti/initiate', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ orderId: KHALTI.orderId }),
    });
    const body = await response.json();
    if (body.ok) return location.assign(body.paymentUrl);
    errorEl.textContent = body.error.message + ' (' + body.error.code + ')';
  });
}

const pay = document.getElementById('pay');
if (pay && KHALTI.widget === 'sandbox-page') {
  const sandboxOrigin = new URL(KHALTI.checkoutUrl).origin;
  window.addEventListener('message', (event) => {
    if (event.origin !== sandboxOrigin || !event.data || event.data.source !== 'khalti-sandbox' || event.data.event !== 'success') return;
    verify(event.data.payload);
  });
  pay.addEventListener('click', () => {
    const url = new URL(KHALTI.checkoutUrl);
    url.searchParams.set('amount', orderEl.dataset.amount);
    url.searchParams.set('product_identity', KHALTI.orderId);
    url.searchParams.set('product_name', KHALTI.productName);
    url.searchParams.set('product_url', location.href);
    window.open(url.toString(), 'khalti-checkout', 'width=440,height=680');
  });
}
if (pay && KHALTI.widget === 'genuine') {
  const checkout = new KhaltiCheckout({
    publicKey: KHALTI.publicKey,
    productIdentity: KHALTI.orderId,
    productName: KHALTI.productName,
    productUrl: location.href,
    paymentPreference: ['KHALTI'],
    eventHandler: {
      onSuccess: verify,
      onError: () => { errorEl.textContent = 'Khalti reported an error. Please try again.'; },
      onClose: () => {},
    },
  });
  pay.addEventListener('click', () => checkout.show({ amount: Number(orderEl.dataset.amount) }));
}
</script>`;
  return layout(`Order ${order.id}`, body);
}

/** The admin's login page (the shop's own: khalti-express leaves authentication to the app). */
function adminLogin(failed) {
  return layout(
    'Shop owner',
    `<h1>Shop owner</h1>${failed ? '<p class="error" role="alert">Wrong password.</p>' : ''}
<form method="post" action="/admin/login"><label>Password <input type="password" name="password" autocomplete="current-password" autofocus></label>
<button type="submit">Log in</button></form>`,
  );
}

function notFound() {
  return layout('Not found', '<h1>Not found</h1><p><a href="/">Back to the shop</a></p>');
}

module.exports = { productList, orderPage, adminLogin, notFound, escapeHtml };
