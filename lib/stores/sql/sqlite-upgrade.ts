// SqliteStore's schema, and tables made by earlier versions brought up to it on first use.

import type Database from 'better-sqlite3';
import { INDEX_SUFFIXES, ledgerSchema, REFUND_COLUMNS, refundColumnDefinitions, refundIndexes, SQL_COLUMNS } from './rows';
import { SQLITE } from './sqlite-dialect';

export const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The schema, for shops that create it themselves. Idempotent. */
export function sqliteSchema(table = 'khalti_payments'): string {
  if (!TABLE_NAME.test(table)) throw new Error(`SqliteStore: invalid table name ${JSON.stringify(table)}`);
  return `${ledgerSchema(table, SQLITE)}\n${refundIndexes(table, SQLITE)}`;
}

/** Upgrade `table` (if it exists) to `schema`: refund columns first, then the state CHECK. */
export function upgradeSqliteTable(db: Database.Database, table: string, schema: string): void {
  upgradeColumns(db, table);
  upgradeStateCheck(db, table, schema);
}

/** A table made before refunds lacks their columns: add them (SQLite adds a column without a rebuild). */
function upgradeColumns(db: Database.Database, table: string): void {
  const columns = db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`).all();
  if (columns.length === 0 || columns.some((column) => column.name === REFUND_COLUMNS[0])) return;
  db.transaction(() => {
    for (const definition of refundColumnDefinitions(SQLITE)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${definition}`);
  }).immediate();
}

/**
 * A table made by an earlier version has a CHECK constraint without the `declined` state, and SQLite
 * cannot alter a constraint: rebuild the table under the new schema, rows kept, in one transaction.
 */
function upgradeStateCheck(db: Database.Database, table: string, schema: string): void {
  const row = db.prepare<[string], { sql: string }>(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`).get(table);
  if (!row || row.sql.includes("'declined'")) return;
  db.transaction(() => {
    db.exec(`ALTER TABLE ${table} RENAME TO ${table}_upgrading`);
    for (const index of INDEX_SUFFIXES) db.exec(`DROP INDEX IF EXISTS ${table}_${index}`);
    db.exec(schema);
    db.exec(`INSERT INTO ${table} (${SQL_COLUMNS}) SELECT ${SQL_COLUMNS} FROM ${table}_upgrading`);
    db.exec(`DROP TABLE ${table}_upgrading`);
  }).immediate();
}
