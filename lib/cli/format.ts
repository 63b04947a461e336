// `khalti-ledger`'s output for people: aligned tables, rupees, times.

import type { PaymentRecord } from '../ledger/store';
import { formatRupees } from '../money';

export const rupees = (paisa: number): string => formatRupees(paisa);

export function time(ms: number): string {
  return ms > 0
    ? new Date(ms)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
    : '-';
}

/** Rows as columns padded to their widest cell; control characters in values shown as `?`. */
export function table(header: string[], rows: string[][]): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
  const clean = (cell: string) => cell.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  const all = [header, ...rows].map((row) => row.map(clean));
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  return all.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

export function stateOf(record: PaymentRecord): string {
  if (record.refund) return `${record.state}, refund pending`;
  if (record.refundedTotal > 0) return record.refundedTotal === record.amount ? 'refunded' : 'partially refunded';
  return record.state === 'unfulfillable' ? 'unfulfillable (owed back)' : record.state;
}

export function listTable(records: PaymentRecord[]): string {
  return table(
    ['CREATED', 'ORDER', 'AMOUNT', 'STATE', 'KEY'],
    records.map((r) => [time(r.createdAt), r.orderId, rupees(r.amount), stateOf(r), r.token]),
  );
}

export function showText(record: PaymentRecord): string {
  const history: Array<[number, string]> = [[record.createdAt, 'claimed']];
  if (record.state !== 'claimed')
    history.push([record.updatedAt, `${record.state}${record.failureCode ? ` (${record.failureCode})` : ''}`]);
  for (const entry of record.refunds) history.push([entry.at, `refund ${rupees(entry.amount)} ${entry.outcome}`]);
  if (record.refund) history.push([record.refund.requestedAt, `refund ${rupees(record.refund.amount)} pending (outcome unknown)`]);
  history.sort((a, b) => a[0] - b[0]);
  return [
    table(
      ['FIELD', 'VALUE'],
      [
        ['key', record.token],
        ['order', record.orderId],
        ['amount', rupees(record.amount)],
        ['state', stateOf(record)],
        ['refunded', `${rupees(record.refundedTotal)} (left ${rupees(record.amount - record.refundedTotal)})`],
        ['transaction', record.transactionId ?? '-'],
      ],
    ),
    '',
    table(
      ['WHEN', 'WHAT'],
      history.map(([at, what]) => [time(at), what]),
    ),
  ].join('\n');
}
