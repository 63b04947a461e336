// What differs between SQL databases for the ledger: parameters, types, insert-if-absent, errors.
// A further SQL store is one more file like sqlite-dialect.ts; the statements are written once.

export interface SqlDialect {
  readonly name: string;
  /** The n-th (1-based) distinct parameter: `?` (SQLite, MySQL) or `$n` (PostgreSQL). */
  param(n: number): string;
  /** `$n` can be used twice with one value; `?` needs a value per use. */
  readonly reusesParams: boolean;
  /** The 64-bit integer type, and the text type. */
  readonly integer: string;
  readonly text: string;
  /** The key column as it sorts for listing: byte (code-unit) order, whatever the database's collation. */
  readonly sortKey: string;
  /** `INSERT … VALUES (…)` that does nothing (0 rows) when the primary key `token` is taken. */
  insertIfAbsent(table: string, columns: string, values: string): string;
  /** The partial unique index (one paid token per order) refused a write. */
  isUniqueViolation(error: unknown): boolean;
}

export const errorCode = (error: unknown): unknown => (error as { code?: unknown } | null)?.code;
