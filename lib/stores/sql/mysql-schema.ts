// MysqlStore's schema (InnoDB, utf8mb4 with a binary collation, so keys compare as bytes). MySQL has no
// partial unique index: `paid_order_id`, a stored generated column, holds the order id only while the
// record is verified or fulfilled, and a unique index on it refuses a second paid token for one order
// (NULLs do not collide).

import { STATE_LIST } from './rows';

export const MYSQL_TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,54}$/;

/** The schema (idempotent), for shops that run migrations themselves. */
export function mysqlSchema(table = 'khalti_payments'): string {
  if (!MYSQL_TABLE_NAME.test(table)) throw new Error(`MysqlStore: invalid table name ${JSON.stringify(table)}`);
  const key = 'VARCHAR(255)';
  return `CREATE TABLE IF NOT EXISTS ${table} (
  token ${key} NOT NULL,
  order_id ${key} NOT NULL,
  amount BIGINT NOT NULL,
  state VARCHAR(16) NOT NULL,
  owner ${key} NULL,
  lease_until BIGINT NOT NULL,
  transaction_id ${key} NULL,
  khalti LONGTEXT NULL,
  response LONGTEXT NULL,
  failure_code VARCHAR(64) NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  refunded_total BIGINT NOT NULL DEFAULT 0,
  refund_id ${key} NULL,
  refund_amount BIGINT NULL,
  refund_mobile VARCHAR(32) NULL,
  refund_owner ${key} NULL,
  refund_lease_until BIGINT NULL,
  refund_requested_at BIGINT NULL,
  refunds LONGTEXT NULL,
  paid_order_id ${key} GENERATED ALWAYS AS (CASE WHEN state IN ('verified', 'fulfilled') THEN order_id END) STORED,
  PRIMARY KEY (token),
  CONSTRAINT ${table}_state_check CHECK (state IN (${STATE_LIST})),
  UNIQUE KEY ${table}_paid_order (paid_order_id),
  KEY ${table}_order (order_id),
  KEY ${table}_pending_refund (refund_requested_at),
  KEY ${table}_listing (created_at, token),
  KEY ${table}_state_listing (state, created_at, token)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
}
