// The sandbox's hosted ePayment page (Khalti's `payment_url`): pay with a test Khalti ID, or cancel.

import type { SandboxEpayment } from './epayment';
import { TEST_MOBILES, TEST_MPIN, TEST_OTP } from './payments';

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The page for one payment; `error` is shown above the form (a wrong MPIN or OTP). */
export function epaymentPage(payment: SandboxEpayment, error = ''): string {
  const rupees = (payment.amount / 100).toFixed(2);
  const pidx = escapeHtml(payment.pidx);
  const payable = payment.status === 'Initiated' || payment.status === 'Pending';
  const form = payable
    ? `<form method="post" action="/epayment/pay">
    <input type="hidden" name="pidx" value="${pidx}">
    <label>Khalti ID (mobile)<input name="mobile" inputmode="numeric" autocomplete="off" required></label>
    <label>Khalti MPIN<input name="pin" type="password" inputmode="numeric" autocomplete="off" required></label>
    <label>OTP<input name="otp" inputmode="numeric" autocomplete="off" required></label>
    <button type="submit" id="pay">Pay Rs. ${rupees}</button>
  </form>
  <form method="post" action="/epayment/cancel"><input type="hidden" name="pidx" value="${pidx}"><button type="submit" id="cancel" class="link">Cancel and go back</button></form>`
    : `<p id="status">This payment is ${escapeHtml(payment.status)}.</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Khalti sandbox payment</title>
<style>
  body { font-family: system-ui, sans-serif; background: #f4f1fa; margin: 0; display: flex; justify-content: center; }
  main { background: #fff; margin: 2rem 1rem; padding: 1.5rem 2rem; border-radius: 12px; max-width: 380px; width: 100%; box-shadow: 0 4px 24px #5c2d9122; }
  h1 { color: #5c2d91; font-size: 1.25rem; }
  .sandbox { background: #fff3cd; color: #7a5b00; font-size: .8rem; padding: .35rem .6rem; border-radius: 6px; display: inline-block; }
  label { display: block; margin-top: 1rem; font-size: .9rem; }
  input { width: 100%; box-sizing: border-box; padding: .6rem; font-size: 1rem; border: 1px solid #ccc; border-radius: 6px; margin-top: .25rem; }
  button { margin-top: 1.25rem; width: 100%; padding: .7rem; font-size: 1rem; background: #5c2d91; color: #fff; border: 0; border-radius: 6px; cursor: pointer; }
  button.link { background: none; color: #5c2d91; text-decoration: underline; }
  .error { color: #b00020; }
  .hint { color: #666; font-size: .8rem; }
</style>
</head>
<body>
<main>
  <span class="sandbox">Sandbox — no real money moves</span>
  <h1>Pay Rs. ${rupees} to ${escapeHtml(new URL(payment.websiteUrl).host)}</h1>
  <p>${escapeHtml(payment.purchaseOrderName)}</p>
  <p class="error" id="error" role="alert">${escapeHtml(error)}</p>
  ${form}
  <p class="hint">Test Khalti IDs ${TEST_MOBILES[0]}–${TEST_MOBILES[TEST_MOBILES.length - 1]}, MPIN ${TEST_MPIN}, OTP ${TEST_OTP}.</p>
</main>
</body>
</html>
`;
}
