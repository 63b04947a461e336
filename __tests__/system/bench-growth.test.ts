// The bench's growth fill writes straight into the stores' tables: it must keep up with the schema (a
// column added by a later issue once broke `npm run bench` after twelve minutes of measuring).
import path from 'node:path';
import { PG_URL } from '../helpers/services';

const ROOT = path.resolve(__dirname, '..', '..');
interface GrowthRow {
  store: string;
  records: number;
  p50: number;
  p99: number;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const growth = require(path.join(ROOT, 'bench', 'growth.js')) as {
  sqliteGrowth(samples: number, sizes: number[]): Promise<GrowthRow[]>;
  postgresGrowth(samples: number, sizes: number[], url: string): Promise<GrowthRow[]>;
};

describe('the bench growth fill', () => {
  it('fills a SQLite ledger of the current schema and measures payments on it', async () => {
    const rows = await growth.sqliteGrowth(5, [200, 400]);
    expect(rows.map((row) => [row.store, row.records])).toEqual([
      ['SQLite', 200],
      ['SQLite', 400],
    ]);
    for (const row of rows) expect(row.p50).toBeGreaterThan(0);
  });

  it('fills a PostgreSQL ledger of the current schema and measures payments on it', async () => {
    const rows = await growth.postgresGrowth(5, [200], PG_URL);
    expect(rows.map((row) => [row.store, row.records])).toEqual([['PostgreSQL', 200]]);
    expect(rows[0]!.p50).toBeGreaterThan(0);
  });
});
