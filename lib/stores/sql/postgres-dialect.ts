// PostgreSQL (pg) as a SQL dialect.

import { errorCode, type SqlDialect } from './dialect';

export const POSTGRES: SqlDialect = {
  name: 'postgres',
  param: (n) => `$${n}`,
  reusesParams: true,
  integer: 'bigint',
  text: 'text',
  // The database's collation (en_US, say) would sort keys unlike every other store: compare bytes.
  sortKey: 'token COLLATE "C"',
  insertIfAbsent: (table, columns, values) => `INSERT INTO ${table} (${columns}) VALUES (${values}) ON CONFLICT (token) DO NOTHING`,
  // unique_violation
  isUniqueViolation: (error) => errorCode(error) === '23505',
};
