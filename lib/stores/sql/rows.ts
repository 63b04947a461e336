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
  refunded_total: number | string;
  refund_id: string | null;
  refund_amount: number | string | null;
  refund_mobile: string | null;
  refund_owner: string | null;
  refund_lease_until: number | string | null;
  refund_requested_at: number | string | null;
  /** The settled refunds, a JSON array, or NULL for none. */
  refunds: string | null;
}

/** The columns refunds added (a table made before them gets them on first use). */
export const REFUND_COLUMNS = [
  'refunded_total',
  'refund_id',
  'refund_amount',
  'refund_mobile',
  'refund_owner',
  'refund_lease_until',
  'refund_requested_at',
  'refunds',
] as const;

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
  ...REFUND_COLUMNS,
] as const;

export const SQL_COLUMNS = COLUMNS.join(', ');

/** The columns of the dialect's 64-bit integer type; the others are text. */
export const INTEGER_COLUMNS: ReadonlySet<(typeof COLUMNS)[number]> = new Set([
  'amount',
  'lease_until',
  'created_at',
  'updated_at',
  'refunded_total',
  'refund_amount',
  'refund_lease_until',
  'refund_requested_at',
]);

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
    refunded_total: record.refundedTotal,
    refund_id: record.refund?.id ?? null,
    refund_amount: record.refund?.amount ?? null,
    refund_mobile: record.refund?.mobile ?? null,
    refund_owner: record.refund?.owner ?? null,
    refund_lease_until: record.refund?.leaseUntil ?? null,
    refund_requested_at: record.refund?.requestedAt ?? null,
    refunds: record.refunds.length > 0 ? JSON.stringify(record.refunds) : null,
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
    refundedTotal: Number(row.refunded_total ?? 0),
    refund:
      row.refund_id === null || row.refund_id === undefined
        ? null
        : {
            id: row.refund_id,
            amount: Number(row.refund_amount),
            mobile: row.refund_mobile,
            owner: row.refund_owner,
            leaseUntil: Number(row.refund_lease_until),
            requestedAt: Number(row.refund_requested_at),
          },
    refunds: row.refunds ? (JSON.parse(row.refunds) as PaymentRecord['refunds']) : [],
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
  updated_at ${integer} NOT NULL,
  ${refundColumnDefinitions(dialect).join(',\n  ')}
);
CREATE INDEX IF NOT EXISTS ${index}_order ON ${table} (order_id);
CREATE UNIQUE INDEX IF NOT EXISTS ${index}_paid_order ON ${table} (order_id) WHERE state IN ('verified', 'fulfilled');
CREATE INDEX IF NOT EXISTS ${index}_stale ON ${table} (created_at) WHERE state IN ('claimed', 'verified');`;
}

/** The refund columns' definitions, for CREATE TABLE and for ALTER TABLE … ADD COLUMN on an older table. */
export function refundColumnDefinitions(dialect: SqlDialect): string[] {
  const { integer, text } = dialect;
  return [
    `refunded_total ${integer} NOT NULL DEFAULT 0`,
    `refund_id ${text}`,
    `refund_amount ${integer}`,
    `refund_mobile ${text}`,
    `refund_owner ${text}`,
    `refund_lease_until ${integer}`,
    `refund_requested_at ${integer}`,
    `refunds ${text}`,
  ];
}

/**
 * The indexes added after the first version: pending refunds by age, unfulfillable payments (owed a
 * refund), and the listing's two orders (everything, and by state, newest first). Idempotent.
 */
export function refundIndexes(table: string, dialect: SqlDialect): string {
  const index = table.replace('.', '_');
  return `
CREATE INDEX IF NOT EXISTS ${index}_pending_refund ON ${table} (refund_requested_at) WHERE refund_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ${index}_owed ON ${table} (created_at) WHERE state = 'unfulfillable';
CREATE INDEX IF NOT EXISTS ${index}_listing ON ${table} (created_at, ${dialect.sortKey});
CREATE INDEX IF NOT EXISTS ${index}_state_listing ON ${table} (state, created_at, ${dialect.sortKey});`;
}

/** Every index name suffix of the ledger table, for an upgrade that rebuilds it. */
export const INDEX_SUFFIXES = ['order', 'paid_order', 'stale', 'pending_refund', 'owed', 'listing', 'state_listing'] as const;
