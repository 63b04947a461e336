// `npm run bench` must keep working: a one-second smoke run of the same script. Asserts what it reports
// about correctness (no errors, nothing fulfilled twice, nothing unrecorded), never its timings.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureBuilt } from '../helpers/child-app';

const ROOT = path.resolve(__dirname, '..', '..');

describe('bench/run.js --smoke', () => {
  it('measures every target and the overload scenario, and reports a clean ledger', () => {
    ensureBuilt();
    const dir = mkdtempSync(path.join(tmpdir(), 'khx-bench-'));
    try {
      const out = path.join(dir, 'results.md');
      execFileSync(process.execPath, [path.join(ROOT, 'bench', 'run.js'), '--smoke', '--skip-growth', '--out', out], {
        cwd: ROOT,
        stdio: 'pipe',
        // Node flags for the servers under test only: the report must say so and show their heap limit.
        env: { ...process.env, KHX_PG_URL: '', KHX_REDIS_URL: '', KHX_BENCH_SERVER_NODE_ARGS: '--max-old-space-size=512' },
        timeout: 200_000,
      });
      const report = readFileSync(out, 'utf8');
      const rows = report.split('\n').filter((line) => /^\| (baseline|ceiling|khalti-express)/.test(line));
      // Unpinned, then pinned (taskset) where the machine can pin.
      const canPin = spawnSync('taskset', ['-p', String(process.pid)]).status === 0;
      const names = ['baseline (tutorial handler)', 'ceiling (Express, no Khalti)', 'khalti-express + MemoryStore'];
      expect(rows.map((row) => row.split('|')[1]!.trim())).toEqual(canPin ? [...names, ...names] : names);
      const throughputSection = report.slice(report.indexOf('## Throughput'), report.indexOf('Fulfilled twice'));
      expect(throughputSection).toContain('#### Unpinned');
      if (canPin) expect(throughputSection).toContain('#### Pinned (taskset)');
      // The errors column is 0 for every target.
      for (const row of rows) expect(row.split('|')[7]!.trim()).toBe('0');
      expect(report).toContain('Fulfilled twice: 0 tokens.');
      // The overload scenario ran once per store, each with no other errors and a clean ledger.
      const cells = (check: string) => {
        const line = report.split('\n').find((l) => l.startsWith(`| ${check} |`));
        return line === undefined
          ? []
          : line
              .split('|')
              .slice(2, -2)
              .map((cell) => cell.trim());
      };
      // The same flood against the refusal floor comes first: it refuses everything and audits nothing.
      // Last, the control: the floor flooded again, judged against its first flood by the same rule.
      expect(cells('check')).toEqual(['floor (Express, refusals only)', 'MemoryStore', 'SqliteStore', 'floor, flooded again (control)']);
      // Each flood is judged against the floor, second by second: unpinned, then pinned where taskset works.
      expect(report).toContain('#### Unpinned');
      if (spawnSync('taskset', ['-p', String(process.pid)]).status === 0) expect(report).toContain('#### Pinned (taskset)');
      expect(cells("each second's 503 p99 × the floor's in that second")[0]).toBe('1');
      expect(cells('every second within 1.5× the floor').slice(1)).toEqual([
        expect.stringMatching(/^(yes|no: second .*)$/),
        expect.stringMatching(/^(yes|no: second .*)$/),
        expect.stringMatching(/^(yes|no: second .*)$/),
      ]);
      expect(cells('other errors')).toEqual(['0', '0', '0', '0']);
      // 512 MB of old generation plus V8's young generation; the driver's own limit (Node's default) differs.
      expect(report).toContain('ran with `--max-old-space-size=512`** (KHX_BENCH_SERVER_NODE_ARGS)');
      expect(cells("V8's heap limit (Node's default: a quarter of the host's memory, at most 4 GB)")).toEqual(
        Array(4).fill(expect.stringMatching(/^5[1-9]\d MB$/)),
      );
      const [floorLedger, memoryLedger, sqliteLedger, controlLedger] = cells('ledger vs Khalti');
      expect([floorLedger, controlLedger]).toEqual(['—', '—']);
      const ledger = [memoryLedger, sqliteLedger];
      for (const cell of ledger)
        expect(cell).toMatch(
          /^[1-9]\d* completed at Khalti, [1-9]\d* fulfilled, 0 unrecorded, 0 fulfilled but not completed at Khalti, 0 fulfilled twice$/,
        );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 260_000);
});
