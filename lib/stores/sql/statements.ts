// The ledger's SQL, written once: every read and guarded transition as a template with named
// parameters (`:token`), compiled to a dialect's positional parameters and bound from an object.

import type { SqlDialect } from './dialect';
import { LISTING_TEMPLATES } from './listing-statements';
import { COLUMNS, SQL_COLUMNS } from './rows';

/** A compiled statement: its text, and the parameter names in the order their values are bound. */
export interface Statement {
  readonly text: string;
  readonly names: readonly string[];
}

/** Ends a lease: the record is no longer held by anyone. */
const UNHELD = 'owner = NULL, lease_until = 0';
const HELD_CLAIM = "token = :token AND owner = :owner AND state = 'claimed'";
const HELD_REFUND = 'token = :token AND refund_id = :refundId AND refund_owner = :owner';
const NO_REFUND =
  'refund_id = NULL, refund_amount = NULL, refund_mobile = NULL, refund_owner = NULL, refund_lease_until = NULL, refund_requested_at = NULL';

/**
 * Every transition applies only while `owner` holds the record in the expected state (0 rows
 * otherwise); the partial unique index refuses a second paid token for one order.
 */
const TEMPLATES = {
  get: `SELECT ${SQL_COLUMNS} FROM {table} WHERE token = :token`,
  byOrder: `SELECT ${SQL_COLUMNS} FROM {table} WHERE order_id = :orderId`,
  takeover: 'UPDATE {table} SET owner = :owner, lease_until = :leaseUntil, updated_at = :now WHERE token = :token',
  verify: `UPDATE {table} SET state = 'verified', transaction_id = :transactionId, khalti = :khalti, updated_at = :now WHERE ${HELD_CLAIM}`,
  unfulfillable: `UPDATE {table} SET state = 'unfulfillable', failure_code = :failureCode, transaction_id = :transactionId, khalti = :khalti,
    ${UNHELD}, updated_at = :now WHERE ${HELD_CLAIM}`,
  fulfil: `UPDATE {table} SET state = 'fulfilled', response = :response, ${UNHELD}, updated_at = :now
    WHERE token = :token AND owner = :owner AND state = 'verified'`,
  declined: `UPDATE {table} SET state = 'declined', failure_code = :failureCode, khalti = :khalti, ${UNHELD}, updated_at = :now WHERE ${HELD_CLAIM}`,
  release: `DELETE FROM {table} WHERE ${HELD_CLAIM}`,
  endLease: `UPDATE {table} SET ${UNHELD}, updated_at = :now WHERE token = :token AND owner = :owner AND state IN ('claimed', 'verified')`,
  stale: `SELECT ${SQL_COLUMNS} FROM {table} WHERE state IN ('claimed', 'verified') AND lease_until <= :now
    ORDER BY created_at, token LIMIT :limit`,
  // Refunds: read, decide (ledger/rules.ts), then one guarded UPDATE that applies only if nothing the
  // decision read has changed meanwhile (0 rows: decide again). No transaction is needed.
  refundBegin: `UPDATE {table} SET refund_id = :refundId, refund_amount = :refundAmount, refund_mobile = :refundMobile,
    refund_owner = :owner, refund_lease_until = :leaseUntil, refund_requested_at = :now, updated_at = :now
    WHERE token = :token AND refund_id IS NULL AND refunded_total = :seenTotal AND state IN ('fulfilled', 'unfulfillable')`,
  refundSettle: `UPDATE {table} SET refunded_total = :refundedTotal, refunds = :refunds, ${NO_REFUND}, updated_at = :now
    WHERE ${HELD_REFUND}`,
  refundEndLease: `UPDATE {table} SET refund_owner = NULL, refund_lease_until = 0, updated_at = :now WHERE ${HELD_REFUND}`,
  refundTake: `UPDATE {table} SET refund_owner = :owner, refund_lease_until = :leaseUntil, updated_at = :now
    WHERE token = :token AND refund_id = :refundId AND refund_lease_until <= :now`,
  pendingRefunds: `SELECT ${SQL_COLUMNS} FROM {table} WHERE refund_id IS NOT NULL AND refund_lease_until <= :now
    ORDER BY refund_requested_at, token LIMIT :limit`,
  owedRefunds: `SELECT ${SQL_COLUMNS} FROM {table}
    WHERE state = 'unfulfillable' AND transaction_id IS NOT NULL AND refund_id IS NULL AND refunds IS NULL
    ORDER BY created_at, token LIMIT :limit`,
  ...LISTING_TEMPLATES,
} as const;

export type StatementName = keyof typeof TEMPLATES | 'insert';
export type LedgerStatements = Readonly<Record<StatementName, Statement>>;

/** `template` with `{table}` filled in and `:name` turned into the dialect's parameters. */
export function compile(template: string, table: string, dialect: SqlDialect): Statement {
  const names: string[] = [];
  const text = template
    .replace('{table}', table)
    .replaceAll('{key}', dialect.sortKey)
    .replace(/:([A-Za-z_]+)/g, (_, name: string) => {
      const seen = names.indexOf(name);
      if (dialect.reusesParams && seen >= 0) return dialect.param(seen + 1);
      names.push(name);
      return dialect.param(names.length);
    });
  return { text, names };
}

/** The ledger's statements for `table` in `dialect`. */
export function ledgerStatements(table: string, dialect: SqlDialect): LedgerStatements {
  const compiled = Object.fromEntries(Object.entries(TEMPLATES).map(([name, template]) => [name, compile(template, table, dialect)]));
  const values = COLUMNS.map((column) => `:${column}`).join(', ');
  const insert = compile(dialect.insertIfAbsent('{table}', SQL_COLUMNS, values), table, dialect);
  return { ...compiled, insert } as LedgerStatements;
}

/** The values for `statement`'s parameters, in order. A missing one is a programming error. */
export function bind(statement: Statement, values: Readonly<Record<string, unknown>>): unknown[] {
  return statement.names.map((name) => {
    if (!(name in values)) throw new Error(`SQL parameter :${name} has no value`);
    return values[name];
  });
}
