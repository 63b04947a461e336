// The ledger's SQL is written once and compiled per dialect: parameters, reuse, binding.
import { POSTGRES } from '../../lib/stores/sql/postgres-dialect';
import { SQLITE } from '../../lib/stores/sql/sqlite-dialect';
import { bind, compile, ledgerStatements } from '../../lib/stores/sql/statements';

describe('SQL statements written once', () => {
  const template = 'UPDATE {table} SET a = :now, b = :token WHERE token = :token AND c = :now';

  it('gives SQLite one ? per use, bound in use order', () => {
    const statement = compile(template, 'ledger', SQLITE);
    expect(statement.text).toBe('UPDATE ledger SET a = ?, b = ? WHERE token = ? AND c = ?');
    expect(bind(statement, { now: 5, token: 't' })).toEqual([5, 't', 't', 5]);
  });

  it('gives PostgreSQL one $n per name, reused', () => {
    const statement = compile(template, 'ledger', POSTGRES);
    expect(statement.text).toBe('UPDATE ledger SET a = $1, b = $2 WHERE token = $2 AND c = $1');
    expect(bind(statement, { now: 5, token: 't' })).toEqual([5, 't']);
  });

  it('refuses to bind a statement with a value missing', () => {
    expect(() => bind(compile(template, 'ledger', SQLITE), { now: 5 })).toThrow(':token');
  });

  it('compiles every ledger statement in both dialects with no named parameter left', () => {
    for (const dialect of [SQLITE, POSTGRES]) {
      for (const [name, statement] of Object.entries(ledgerStatements('khalti_payments', dialect))) {
        expect(statement.text).not.toMatch(/:[a-z]|\{table\}|\{key\}/i);
        // Only the whole-table count and the totals take no parameter.
        if (name !== 'countAll' && name !== 'totals') expect(statement.names.length).toBeGreaterThan(0);
      }
    }
    expect(ledgerStatements('t', POSTGRES).insert.names).toHaveLength(20);
  });
});
