// PaymentRecord ⇄ SQL row: one mapping for the SQL stores (snake_case columns, JSON text, integer times).

import type { PaymentRecord } from '../ledger/store';

export interface PaymentRow {
  token: string;
  order_id: string;
  amount: number | string;
  state: PaymentRecord['state'];
  owner: string | null;
  lease_until: number | string;
  transaction_id: string | null;
  khalti: string | null;
  response: string | null;
  failure_code: string | null;
  created_at: number | string;
  updated_at: number | string;
}

/** The columns, in the order `toRow` values are given to positional SQL. */
export const COLUMNS = [
  'token',
  'order_id',
  'amount',
  'state',
  'owner',
  'lease_until',
  'transaction_id',
  'khalti',
  'response',
  'failure_code',
  'created_at',
  'updated_at',
] as const;

export const SQL_COLUMNS = COLUMNS.join(', ');

const json = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));
const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

export function toRow(record: PaymentRecord): PaymentRow {
  return {
    token: record.token,
    order_id: record.orderId,
    amount: record.amount,
    state: record.state,
    owner: record.owner,
    lease_until: record.leaseUntil,
    transaction_id: record.transactionId,
    khalti: json(record.khalti),
    response: json(record.response),
    failure_code: record.failureCode,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

/** Integers come back as strings from PostgreSQL's bigint: numbers either way here. */
export function fromRow(row: PaymentRow): PaymentRecord {
  return {
    token: row.token,
    orderId: row.order_id,
    amount: Number(row.amount),
    state: row.state,
    owner: row.owner,
    leaseUntil: Number(row.lease_until),
    transactionId: row.transaction_id,
    khalti: parse(row.khalti),
    response: parse(row.response),
    failureCode: row.failure_code,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
