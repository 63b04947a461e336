// MySQL and MariaDB (mysql2) as a SQL dialect.

import { errorCode, type SqlDialect } from './dialect';

export const MYSQL: SqlDialect = {
  name: 'mysql',
  param: () => '?',
  reusesParams: false,
  integer: 'BIGINT',
  text: 'LONGTEXT',
  // Every text column of the table is utf8mb4_bin: keys compare as bytes (tokens differ by case).
  sortKey: 'token',
  // IGNORE only turns the duplicate key into "0 rows": the row inserted is a claim, which no other
  // unique index (the paid-order one holds only verified or fulfilled rows) can refuse.
  insertIfAbsent: (table, columns, values) => `INSERT IGNORE INTO ${table} (${columns}) VALUES (${values})`,
  isUniqueViolation: (error) => errorCode(error) === 'ER_DUP_ENTRY',
};
