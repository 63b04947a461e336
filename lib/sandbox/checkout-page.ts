// The sandbox's checkout page: a stand-in for Khalti's widget that pays with the test wallet credentials.

import { escapeHtml, sandboxPage } from './page';
import { TEST_MOBILES, TEST_MPIN, TEST_OTP } from './payments';

export interface CheckoutParams {
  publicKey: string;
  amount: string;
  productIdentity: string;
  productName: string;
  productUrl: string;
}

/** JSON for a `<script>` block: `<` escaped so no value can close the script. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/**
 * The page at `/checkout?amount=…&product_identity=…`. It logs in with a test Khalti ID through the
 * sandbox's client API (`/api/v2/payment/initiate/`, then `/confirm/` with the OTP), exactly as
 * Khalti's widget does, and hands the confirm body — `{ idx, token, amount, mobile, product_identity,
 * … }`, the widget's `onSuccess` payload — to the page that opened it (`window.opener`, or the parent
 * of an iframe) as `postMessage({ source: 'khalti-sandbox', event: 'success', payload })`.
 */
export function checkoutPage(params: CheckoutParams): string {
  const rupees = (Number(params.amount) / 100).toFixed(2);
  return sandboxPage(
    'Khalti sandbox checkout',
    `  <h1>Pay Rs. ${escapeHtml(rupees)} with Khalti</h1>
  <p id="product">${escapeHtml(params.productName)}</p>
  <form id="login">
    <label>Khalti ID (mobile)<input name="mobile" inputmode="numeric" autocomplete="off" placeholder="Enter khalti registered number" required></label>
    <label>Khalti MPIN<input name="pin" type="password" inputmode="numeric" autocomplete="off" placeholder="Enter Khalti Pin" required></label>
    <button type="submit">Pay Rs. ${escapeHtml(rupees)}</button>
  </form>
  <form id="otp" hidden>
    <label>Confirmation code (OTP)<input name="otp" inputmode="numeric" autocomplete="off" placeholder="Enter Confirmation Code (OTP)" required></label>
    <button type="submit">Confirm payment</button>
  </form>
  <p id="done" hidden>Payment confirmed. You can close this window.</p>
  <p class="error" id="error" role="alert"></p>
  <p class="hint">Test Khalti IDs ${TEST_MOBILES[0]}–${TEST_MOBILES[TEST_MOBILES.length - 1]}, MPIN ${TEST_MPIN}, OTP ${TEST_OTP}.</p>`,
    `<script>
const config = ${scriptJson({
      public_key: params.publicKey,
      amount: Number(params.amount),
      product_identity: params.productIdentity,
      product_name: params.productName,
      product_url: params.productUrl,
    })};
const error = document.getElementById('error');
let pin = '';
let token = '';

function messageOf(body) {
  if (body && typeof body.detail === 'string') {
    return body.detail + (body.tries_remaining !== undefined ? ' Attempts Remaining: ' + body.tries_remaining : '');
  }
  const field = body && Object.keys(body).find((key) => Array.isArray(body[key]));
  return field ? body[field].join(' ') : 'Something went wrong.';
}

async function call(path, body) {
  const response = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(messageOf(data));
  return data;
}

document.getElementById('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  error.textContent = '';
  const form = event.target;
  pin = form.pin.value;
  try {
    const data = await call('/api/v2/payment/initiate/', { ...config, mobile: form.mobile.value, transaction_pin: pin });
    token = data.token;
    form.hidden = true;
    document.getElementById('otp').hidden = false;
  } catch (e) {
    error.textContent = e.message;
  }
});

document.getElementById('otp').addEventListener('submit', async (event) => {
  event.preventDefault();
  error.textContent = '';
  try {
    const payload = await call('/api/v2/payment/confirm/', {
      public_key: config.public_key, transaction_pin: pin, token, confirmation_code: event.target.otp.value,
    });
    event.target.hidden = true;
    document.getElementById('done').hidden = false;
    const target = window.opener || (window.parent !== window ? window.parent : null);
    if (target) target.postMessage({ source: 'khalti-sandbox', event: 'success', payload }, '*');
    if (window.opener) setTimeout(() => window.close(), 300);
  } catch (e) {
    error.textContent = e.message;
  }
});
</script>`,
  );
}
