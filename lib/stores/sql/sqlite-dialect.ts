// SQLite (better-sqlite3) as a SQL dialect.

import { errorCode, type SqlDialect } from './dialect';

export const SQLITE: SqlDialect = {
  name: 'sqlite',
  param: () => '?',
  reusesParams: false,
  integer: 'INTEGER',
  text: 'TEXT',
  // SQLite compares text with BINARY unless told otherwise.
  sortKey: 'token',
  insertIfAbsent: (table, columns, values) => `INSERT INTO ${table} (${columns}) VALUES (${values}) ON CONFLICT (token) DO NOTHING`,
  isUniqueViolation: (error) => errorCode(error) === 'SQLITE_CONSTRAINT_UNIQUE',
};
