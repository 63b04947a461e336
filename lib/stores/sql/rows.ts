// The SQL stores' shared table: its schema in any dialect, and PaymentRecord ⇄ row (JSON text, integer times).
// "No value" is SQL NULL in every column, never the text `null`.

import type { PaymentRecord } from '../../ledger/store';
import type { SqlDialect } from './dialect';

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

/** A value as JSON text, or SQL NULL for no value (`null` or `undefined`). */
export const jsonText = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));
/** Rows written by earlier versions may hold the text `null`: it reads as no value too. */
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
    khalti: jsonText(record.khalti),
    response: jsonText(record.response),
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

/** Every state a record can be in, as SQL: the table's CHECK constraint. */
export const STATE_LIST = "'claimed', 'verified', 'fulfilled', 'unfulfillable', 'declined'";

/**
 * The ledger table and its indexes, idempotent, in `dialect`'s types. The partial unique index is what
 * lets at most one token per order be verified or fulfilled.
 */
export function ledgerSchema(table: string, dialect: SqlDialect): string {
  const { integer, text } = dialect;
  const index = table.replace('.', '_');
  return `
CREATE TABLE IF NOT EXISTS ${table} (
  token ${text} PRIMARY KEY,
  order_id ${text} NOT NULL,
  amount ${integer} NOT NULL,
  state ${text} NOT NULL CHECK (state IN (${STATE_LIST})),
  owner ${text},
  lease_until ${integer} NOT NULL,
  transaction_id ${text},
  khalti ${text},
  response ${text},
  failure_code ${text},
  created_at ${integer} NOT NULL,
  updated_at ${integer} NOT NULL
);
CREATE INDEX IF NOT EXISTS ${index}_order ON ${table} (order_id);
CREATE UNIQUE INDEX IF NOT EXISTS ${index}_paid_order ON ${table} (order_id) WHERE state IN ('verified', 'fulfilled');
CREATE INDEX IF NOT EXISTS ${index}_stale ON ${table} (created_at) WHERE state IN ('claimed', 'verified');`;
}
