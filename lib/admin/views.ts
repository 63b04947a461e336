// The admin's pages as HTML bodies: the summary, the list of payments, one payment. Every value goes
// through `html` (escaped); keys are shown masked.

import type { LedgerTotals, PaymentRecord, PaymentState } from '../ledger/store';
import { PAYMENT_STATES } from '../ledger/listing';
import { maskToken } from '../log';
import { html, rupees, shownKey, when, type Safe } from './html';

const STATE_NAMES: Readonly<Record<PaymentState, string>> = {
  claimed: 'In flight',
  verified: 'Verified, fulfilling',
  fulfilled: 'Fulfilled',
  unfulfillable: 'Owed a refund',
  declined: 'Declined',
};

export const stateName = (record: PaymentRecord): string => {
  if (record.refundedTotal > 0) return record.refundedTotal === record.amount ? 'Refunded' : 'Partially refunded';
  return STATE_NAMES[record.state];
};

const csrfField = (csrf: string) => html`<input type="hidden" name="csrf" value="${csrf}" />`;

export function summaryView(base: string, totals: LedgerTotals, csrf: string): Safe {
  const confirmed = totals.verified.amount + totals.fulfilled.amount + totals.unfulfillable.amount;
  const refunded = PAYMENT_STATES.reduce((sum, state) => sum + totals[state].refunded, 0);
  const owed = totals.unfulfillable.amount - totals.unfulfillable.refunded;
  const card = (label: string, value: string, href?: string) =>
    html`<div class="card">${label}<b>${href ? html`<a href="${href}">${value}</a>` : value}</b></div>`;
  return html`<h1>Summary</h1>
    <div class="cards">
      ${PAYMENT_STATES.map((state) => card(STATE_NAMES[state], String(totals[state].count), `${base}/payments?state=${state}`))}
    </div>
    <div class="cards">
      ${card('Money confirmed', rupees(confirmed))}${card('Refunded', rupees(refunded))}${card('Owed back', rupees(owed), `${base}/payments?state=unfulfillable`)}
    </div>
    <form method="post" action="${base}/reconcile">${csrfField(csrf)}<button type="submit">Reconcile now</button></form>
    <p>Reconcile asks Khalti about payments left in flight, resolves refunds of unknown outcome, and reports what it did.</p>`;
}

export interface ListFilters {
  state?: PaymentState;
  orderId?: string;
}

export function listView(base: string, records: PaymentRecord[], filters: ListFilters, next: string | null): Safe {
  const query = (before: string) =>
    new URLSearchParams({
      ...(filters.state ? { state: filters.state } : {}),
      ...(filters.orderId ? { order: filters.orderId } : {}),
      before,
    }).toString();
  const rows = records.map(
    (r) =>
      html`<tr>
        <td>${when(r.createdAt)}</td>
        <td>${r.orderId}</td>
        <td><a href="${base}/payments/${encodeURIComponent(r.token)}">${shownKey(r.token)}</a></td>
        <td>${rupees(r.amount)}</td>
        <td class="state">${stateName(r)}</td>
        <td>${r.refundedTotal > 0 ? rupees(r.refundedTotal) : ''}</td>
      </tr>`,
  );
  return html`<h1>Payments</h1>
    <form method="get" action="${base}/payments">
      <label
        >State
        <select name="state">
          <option value="">any</option>
          ${PAYMENT_STATES.map(
            (state) => html`<option value="${state}" ${filters.state === state ? html` selected` : ''}>${STATE_NAMES[state]}</option>`,
          )}
        </select></label
      >
      <label>Order id <input name="order" value="${filters.orderId ?? ''}" /></label> <button type="submit">Show</button>
    </form>
    <table>
      <thead>
        <tr>
          <th>Created</th>
          <th>Order</th>
          <th>Payment</th>
          <th>Amount</th>
          <th>State</th>
          <th>Refunded</th>
        </tr>
      </thead>
      <tbody>
        ${
          rows.length > 0
            ? rows
            : html`<tr>
                <td colspan="6">No payments.</td>
              </tr>`
        }
      </tbody>
    </table>
    ${next ? html`<p><a href="${base}/payments?${query(next)}">Older payments →</a></p>` : ''}`;
}

export function paymentView(base: string, record: PaymentRecord, csrf: string): Safe {
  const history: Array<[number, string]> = [[record.createdAt, 'Claimed: asked Khalti']];
  if (record.state !== 'claimed')
    history.push([record.updatedAt, `${STATE_NAMES[record.state]}${record.failureCode ? ` (${record.failureCode})` : ''}`]);
  for (const entry of record.refunds)
    history.push([entry.at, `Refund of ${rupees(entry.amount)}: ${entry.outcome === 'refunded' ? 'made' : 'refused by Khalti'}`]);
  if (record.refund) history.push([record.refund.requestedAt, `Refund of ${rupees(record.refund.amount)} pending (outcome not known yet)`]);
  history.sort((a, b) => a[0] - b[0]);
  const remaining = record.amount - record.refundedTotal;
  const refundable =
    (record.state === 'fulfilled' || record.state === 'unfulfillable') && record.transactionId && !record.refund && remaining > 0;
  const path = `${base}/payments/${encodeURIComponent(record.token)}`;
  return html`<h1>Order ${record.orderId}</h1>
    <table>
      <tbody>
        <tr>
          <th>Payment</th>
          <td>${shownKey(record.token)}</td>
        </tr>
        <tr>
          <th>State</th>
          <td class="state">${stateName(record)}</td>
        </tr>
        <tr>
          <th>Amount</th>
          <td>${rupees(record.amount)}</td>
        </tr>
        <tr>
          <th>Refunded</th>
          <td>${rupees(record.refundedTotal)} (left: ${rupees(remaining)})</td>
        </tr>
        <tr>
          <th>Khalti transaction</th>
          <td>${record.transactionId ?? '—'}</td>
        </tr>
      </tbody>
    </table>
    <h2>History</h2>
    <table>
      <tbody>
        ${history.map(
          ([at, what]) =>
            html`<tr>
              <td>${when(at)}</td>
              <td>${what}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${
      refundable
        ? html`<h2>Refund</h2>
            <form method="post" action="${path}/refund">
              ${csrfField(csrf)}
              <label>Amount in rupees <input name="amount" inputmode="decimal" placeholder="all ${rupees(remaining)}" /></label>
              <button type="submit">Refund</button>
            </form>
            <p>Leave the amount empty to refund everything left.</p>`
        : ''
    }
    ${
      record.refund && record.refund.leaseUntil <= Date.now()
        ? html`<h2>Pending refund</h2>
            <p>
              Khalti gave no usable answer to the refund of ${rupees(record.refund.amount)} asked at ${when(record.refund.requestedAt)}, and
              its state has not settled it yet (Reconcile tries again). If Khalti’s merchant dashboard shows what became of it, say so:
            </p>
            <form method="post" action="${path}/settle-refund">
              ${csrfField(csrf)}<input type="hidden" name="refundId" value="${record.refund.id}" />
              <button type="submit" name="outcome" value="refunded">Khalti shows it refunded</button>
              <button type="submit" name="outcome" value="not_refunded">Khalti shows it not refunded</button>
            </form>`
        : ''
    }
    <h2>Khalti’s answer</h2>
    <pre>${JSON.stringify(masked(record.khalti), null, 2) ?? 'null'}</pre>`;
}

/** Khalti's answer with every token and pidx in it masked, as everywhere else on these pages. */
function masked(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(masked);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      (key === 'token' || key === 'pidx') && typeof inner === 'string' ? maskToken(inner) : masked(inner),
    ]),
  );
}
