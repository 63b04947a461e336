// PostgresStore's schema: the table, its indexes, and the upgrade of tables made by earlier versions.

import { POSTGRES } from './postgres-dialect';
import { ledgerSchema, REFUND_COLUMNS, refundColumnDefinitions, refundIndexes, STATE_LIST } from './rows';

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
${refundIndexes(table, POSTGRES)}`;
}
