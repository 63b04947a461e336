// The bench's judgement of issue 17's goals: results.md says which were missed and why, with the run's figures.
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const goals = require(path.join(ROOT, 'bench', 'goals.js')) as {
  goalsTable(throughput: unknown[], overload: unknown[]): string[];
  notMetReasons(throughput: unknown[], overload: unknown[]): string[];
};

const MB = 1024 * 1024;
const target = (name: string, rpsRatio: number, p99Ratio = 1) => ({ name: `khalti-express + ${name}`, rpsRatio, p99Ratio });
const flood = (storeName: string, over: Partial<Record<string, unknown>> = {}) => ({
  storeName,
  refusedP99BySecond: [20, 10, 10, 10],
  refusedP99: 12,
  maxRss: 200 * MB,
  healthFailed: 0,
  healthChecks: 100,
  recoveredAfter: 1,
  unrecorded: 0,
  duplicates: 0,
  notAtKhalti: 0,
  otherErrors: 0,
  completedAtKhalti: 15000,
  ...over,
});
const floor = { ...flood('floor (Express, refusals only)'), floor: true, maxRss: 150 * MB };
const control = { ...flood('floor, flooded again (control)'), floor: true, control: true };
const throughputMet = [
  {
    pinned: false,
    summary: [
      target('PostgresStore', 0.9, 1.1),
      target('RedisStore', 1.0),
      target('SqliteStore', 1.0),
      target('SqliteStore (synchronous: normal)', 1.0),
    ],
  },
];

describe('the bench goals', () => {
  it('gives no "not met" section when every goal was met', () => {
    const overload = [{ pinned: false, results: [floor, flood('MemoryStore'), control] }];
    expect(goals.goalsTable(throughputMet, overload).join('\n')).not.toContain('**no**');
    expect(goals.notMetReasons(throughputMet, overload)).toEqual([]);
  });

  it('names each missed goal with this run’s figures and the reason measured for it', () => {
    const throughput = [
      {
        pinned: true,
        summary: [
          target('PostgresStore', 0.72, 1.7),
          target('RedisStore', 1.0),
          target('SqliteStore', 0.9),
          target('SqliteStore (synchronous: normal)', 0.92),
        ],
      },
    ];
    const slowFirstSecond = flood('SqliteStore', { refusedP99BySecond: [90, 10, 10, 10], maxRss: 270 * MB, completedAtKhalti: 19000 });
    const overControl = { ...control, refusedP99BySecond: [20, 40, 10, 10] };
    const overload = [{ pinned: false, results: [floor, flood('MemoryStore'), slowFirstSecond, overControl] }];
    const text = goals.notMetReasons(throughput, overload).join('\n');
    expect(text).toContain('### Not met in this run, and why');
    expect(text).toContain('**PostgresStore** (pinned 0.72×, p99 1.7×)');
    expect(text).not.toContain('**RedisStore**');
    expect(text).toContain('**SqliteStore (`full`)** (pinned 0.9×; `normal` pinned 0.92×)');
    expect(text).toContain('(SqliteStore unpinned up to 4.5×)');
    expect(text).toContain('went over it in second 2 (4×) unpinned');
    expect(text).not.toContain('MemoryStore unpinned up to');
    expect(text).toContain('**Peak RSS < 250 MB** (SqliteStore unpinned 270 MB after 19000 payments, the floor 150 MB)');
    expect(text).not.toContain('503 p99 < 50 ms');
    expect(text).not.toContain('Health, recovery or the ledger');
  });

  it("gives the heap limit each server that missed the RSS goal ran with, and V8's growing factor for it", () => {
    const big = flood('MemoryStore', { maxRss: 280 * MB, heapLimit: 4144 * MB });
    const justUnder = flood('SqliteStore', { maxRss: 260 * MB, heapLimit: 2095 * MB });
    const atThreshold = flood('MemoryStore', { maxRss: 255 * MB, heapLimit: 2096 * MB });
    const text = (results: object[]) => goals.notMetReasons(throughputMet, [{ pinned: false, results }]).join('\n');
    expect(text([floor, big, justUnder, control])).toContain("V8's heap limit was 4144 MB (factor 4) / 2095 MB (factor at most 2).");
    expect(text([floor, atThreshold, control])).toContain("V8's heap limit was 2096 MB (factor 4).");
    expect(text([floor, flood('MemoryStore', { maxRss: 280 * MB }), control])).not.toContain("V8's heap limit was");
  });

  it('calls a miss of health, recovery or the ledger a defect', () => {
    const overload = [{ pinned: false, results: [floor, flood('MemoryStore', { duplicates: 1 }), control] }];
    expect(goals.notMetReasons(throughputMet, overload).join('\n')).toContain('**Health, recovery or the ledger** (MemoryStore unpinned)');
  });
});
