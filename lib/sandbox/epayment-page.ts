// The sandbox's hosted ePayment page (Khalti's `payment_url`): pay with a test Khalti ID, or cancel.

import type { SandboxEpayment } from './epayment';
import { escapeHtml, sandboxPage } from './page';
import { TEST_MOBILES, TEST_MPIN, TEST_OTP } from './payments';

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
  return sandboxPage(
    'Khalti sandbox payment',
    `  <h1>Pay Rs. ${rupees} to ${escapeHtml(new URL(payment.websiteUrl).host)}</h1>
  <p>${escapeHtml(payment.purchaseOrderName)}</p>
  <p class="error" id="error" role="alert">${escapeHtml(error)}</p>
  ${form}
  <p class="hint">Test Khalti IDs ${TEST_MOBILES[0]}–${TEST_MOBILES[TEST_MOBILES.length - 1]}, MPIN ${TEST_MPIN}, OTP ${TEST_OTP}.</p>`,
  );
}
