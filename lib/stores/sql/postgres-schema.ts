// PostgresStore's schema: the table, its indexes, and the upgrade of tables made by earlier versions.

import { POSTGRES } from './postgres-dialect';
import { claimManyFunction, claimResultColumns, fulfilManyFunction, verifyManyFunction } from './postgres-batch';
import { COLUMNS, ledgerSchema, REFUND_COLUMNS, refundColumnDefinitions, refundIndexes, SQL_COLUMNS, STATE_LIST } from './rows';

export const TABLE_NAME = /^([A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * The schema (idempotent), for shops that run migrations themselves. The primary key binds a token to
 * one record; the partial unique index lets at most one token per order be verified or fulfilled.
 */
export function postgresSchema(table = 'khalti_payments'): string {
  if (!TABLE_NAME.test(table)) throw new Error(`PostgresStore: invalid table name ${JSON.stringify(table)}`);
  const constraint = `${table.split('.').at(-1)}_state_check`;
  // A table made by an earlier version checks for fewer states: widen its CHECK, only then (an ALTER
  // takes the table's exclusive lock, which must not queue behind live claims on every start-up).
  return `${ledgerSchema(table, POSTGRES)}
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = '${table}'::regclass AND conname = '${constraint}'
                 AND pg_get_constraintdef(oid) LIKE '%declined%') THEN
    ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${constraint};
    ALTER TABLE ${table} ADD CONSTRAINT ${constraint} CHECK (state IN (${STATE_LIST}));
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = '${table}'::regclass AND attname = '${REFUND_COLUMNS[0]}' AND NOT attisdropped) THEN
    ALTER TABLE ${table} ${refundColumnDefinitions(POSTGRES)
      .map((definition) => `ADD COLUMN IF NOT EXISTS ${definition}`)
      .join(', ')};
  END IF;
END $$;
${refundIndexes(table, POSTGRES)}
${claimFunction(table)}
${claimManyFunction(table, claimManyFunctionName(table), orderLockKey(table, ''))}
${verifyManyFunction(table, verifyManyFunctionName(table))}
${fulfilManyFunction(table, fulfilManyFunctionName(table))}`;
}

/** The advisory lock key text of one order's claims: the claim function and PostgresStore's transaction agree on it. */
export const orderLockKey = (table: string, orderId: string): string => `khalti-express:order:${table}:${orderId}`;

/** The claim function's name for `table` (in the table's schema, if it names one). */
export const claimFunctionName = (table: string): string => `${table}_claim`;
/** The batched claim function's name (postgres-batch.ts). */
export const claimManyFunctionName = (table: string): string => `${table}_claim_many`;
/** The batched transitions' functions (postgres-batch.ts). */
export const verifyManyFunctionName = (table: string): string => `${table}_verify_many`;
export const fulfilManyFunctionName = (table: string): string => `${table}_fulfil_many`;
/** Every function the schema creates beside `table` (drop them with it: a function does not depend on the table it names). */
export const postgresFunctionNames = (table: string): string[] =>
  [claimFunctionName, claimManyFunctionName, verifyManyFunctionName, fulfilManyFunctionName].map((name) => name(table));

/**
 * A claim's common case in one round trip: under the order's advisory lock, the records of this token or
 * this order if there are any (PostgresStore decides on them, and redoes the claim in a transaction when
 * it must write), else the new \`claimed\` record inserted and nothing returned. Each statement of a
 * PL/pgSQL function reads a fresh snapshot, so the read after the lock sees every claim that held it.
 * The token and the order are looked up by two equalities, not one \`OR\`: PL/pgSQL keeps each
 * connection's plan, and the \`OR\` planned while the table was new stayed a sequential scan as it grew.
 */
function claimFunction(table: string): string {
  // The result's columns are declared, not the table's row type: a function returning the table's type
  // would stop the table from being dropped. Each is the column's name with an \`o_\` prefix (no clash
  // with the columns inside the body); PostgresStore's call renames them back.
  const columns = claimResultColumns();
  return `CREATE OR REPLACE FUNCTION ${claimFunctionName(table)}(p_token text, p_order_id text, p_amount bigint, p_owner text,
    p_lease_until bigint, p_now bigint) RETURNS TABLE (${columns}) LANGUAGE plpgsql AS $fn$
DECLARE
  v_found boolean;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('${orderLockKey(table, '')}' || p_order_id, 0));
  RETURN QUERY SELECT ${SQL_COLUMNS} FROM ${table} WHERE token = p_token;
  v_found := FOUND;
  RETURN QUERY SELECT ${SQL_COLUMNS} FROM ${table} WHERE order_id = p_order_id AND token <> p_token;
  IF v_found OR FOUND THEN RETURN; END IF;
  INSERT INTO ${table} (token, order_id, amount, state, owner, lease_until, created_at, updated_at)
    VALUES (p_token, p_order_id, p_amount, 'claimed', p_owner, p_lease_until, p_now, p_now)
    ON CONFLICT (token) DO NOTHING;
  IF NOT FOUND THEN
    -- Another order's claim inserted this token first: its record is the answer.
    RETURN QUERY SELECT ${SQL_COLUMNS} FROM ${table} WHERE token = p_token;
  END IF;
END $fn$;`;
}

const renamed = (): string => COLUMNS.map((column) => `o_${column} AS ${column}`).join(', ');

/** The claim function's call, its columns named as the table's. */
export const claimCall = (table: string): string => `SELECT ${renamed()} FROM ${claimFunctionName(table)}($1, $2, $3, $4, $5, $6)`;

/** The batched claim function's call: each row with `i`, the 1-based index of its claim. */
export const claimManyCall = (table: string): string =>
  `SELECT o_i AS i, ${renamed()} FROM ${claimManyFunctionName(table)}($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[])`;
