// PostgreSQL (pg) as a SQL dialect.

import { errorCode, type SqlDialect } from './dialect';

export const POSTGRES: SqlDialect = {
  name: 'postgres',
  param: (n) => `$${n}`,
  reusesParams: true,
  integer: 'bigint',
  text: 'text',
  insertIfAbsent: (table, columns, values) => `INSERT INTO ${table} (${columns}) VALUES (${values}) ON CONFLICT (token) DO NOTHING`,
  // unique_violation
  isUniqueViolation: (error) => errorCode(error) === '23505',
};
