// The admin pages' HTML: escaping (every value that reaches a page goes through `html`), the page frame,
// and how money, times and keys are shown.

import { maskToken } from '../log';
import { formatRupees } from '../money';
import { parseKey } from '../ledger/keys';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Text made safe for HTML content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

/** Markup that is already safe (built by `html`). */
export class Safe {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** A template tag: every interpolated value is escaped unless it is `Safe` (or an array of them). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Safe {
  let out = strings[0]!;
  values.forEach((value, i) => {
    const parts = Array.isArray(value) ? value : [value];
    out += parts.map((part) => (part instanceof Safe ? part.text : escapeHtml(part))).join('') + strings[i + 1]!;
  });
  return new Safe(out);
}

/** Paisa as rupees, `Rs 12,34,567.50` (Nepal's lakh grouping, as toPaisa reads it back). */
export const rupees = (paisa: number): string => formatRupees(paisa);

/** Epoch ms as an ISO time, UTC. */
export function when(ms: number): string {
  return ms > 0
    ? new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC')
    : '—';
}

/** A ledger key as shown on a page: its kind and the masked token or pidx (never the whole of it). */
export function shownKey(key: string): string {
  const parsed = parseKey(key);
  if (parsed.kind === 'pidx') return `pidx ${maskToken(parsed.pidx)}`;
  if (parsed.kind === 'check') return 'order check';
  return `token ${maskToken(parsed.token)}`;
}

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#f6f6f8}
header{background:#5c2d91;color:#fff;padding:12px 24px}header a{color:#fff;text-decoration:none;margin-right:18px}
main{padding:18px 24px;max-width:1100px}table{border-collapse:collapse;width:100%;background:#fff}
th,td{padding:6px 10px;border-bottom:1px solid #e2e2e6;text-align:left;vertical-align:top}th{background:#efeff3}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:18px}.card{background:#fff;padding:12px 16px;border-radius:8px;min-width:150px}
.card b{display:block;font-size:20px}.notice{padding:10px 14px;border-radius:6px;margin-bottom:14px;background:#e7f6ea}
.notice.error{background:#fde8e8}pre{background:#fff;padding:10px;overflow:auto;max-height:360px}
form.inline{display:inline}button{background:#5c2d91;color:#fff;border:0;border-radius:5px;padding:6px 14px;cursor:pointer}
input,select{padding:5px}.state{font-weight:600}`;

export interface Frame {
  title: string;
  base: string;
  nonce: string;
  notice?: { text: string; error: boolean } | null;
  body: Safe;
}

/** A whole page: the nav, an optional notice, the body. */
export function page({ title, base, nonce, notice, body }: Frame): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>${title} · Khalti ledger</title>
        <style nonce="${nonce}">
          ${new Safe(STYLE)}
        </style>
      </head>
      <body>
        <header><a href="${base}/">Khalti ledger</a><a href="${base}/payments">Payments</a></header>
        <main>${notice ? html`<div class="notice${notice.error ? ' error' : ''}" role="status">${notice.text}</div>` : ''}${body}</main>
      </body>
    </html>`.text;
}
