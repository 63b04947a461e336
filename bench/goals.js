// The goals of issue 17, judged on one run's figures: a table of goal, figure and met, for results.md.
const { round, mb } = require('./stats');

/** The 503 p99 of each second may be at most this many times the floor's (same pinning). */
const FLOOR_FACTOR = 1.5;

const yes = (ok) => (ok ? 'yes' : '**no**');

/** The floor every run of an overload group is judged against: its first flood, not the control. */
const isFloor = (run) => run.floor && !run.control;

/** Each second's 503 p99 of a flood × the floor's in that second (not finite where either sent none). */
const ratiosToFloor = (run, floor) => run.refusedP99BySecond.map((ms, i) => ms / floor.refusedP99BySecond[i]);

/** Seconds of a flood whose 503 p99 exceeds FLOOR_FACTOR × the floor's in that second. */
function secondsOverFloor(run, floor) {
  return ratiosToFloor(run, floor)
    .map((ratio, i) => ({ second: i + 1, ratio }))
    .filter(({ ratio }) => Number.isFinite(ratio) && ratio > FLOOR_FACTOR);
}

/** "second 1 (3.2×), 3 (1.7×)": the seconds secondsOverFloor() found. */
const secondsText = (over) => `second ${over.map(({ second, ratio }) => `${second} (${round(ratio, 2)}×)`).join(', ')}`;

/** The highest of a flood's per-second ratios to the floor. */
const worstRatio = (run, floor) => Math.max(...ratiosToFloor(run, floor).filter(Number.isFinite));

/** Markdown lines: every goal with the figure measured in this run and whether it was met. */
function goalsTable(throughputGroups, overloadGroups) {
  const rows = [];
  const row = (goal, figure, ok) => rows.push(`| ${goal} | ${figure} | ${ok === null ? '—' : yes(ok)} |`);
  for (const { pinned, summary } of throughputGroups) {
    const how = pinned ? 'pinned' : 'unpinned';
    const throughput = (name, label, minRatio, maxP99) => {
      const r = summary.find((target) => target.name === `khalti-express + ${name}`);
      const goal = `${label}, ${how}: ≥ ${minRatio}× the baseline's throughput`;
      if (!r) return row(goal, 'not run', null);
      // Two decimals, or three where two would show the goal's own figure for a ratio just under it.
      const shown = round(r.rpsRatio, 2) === minRatio && r.rpsRatio < minRatio ? round(r.rpsRatio, 3) : round(r.rpsRatio, 2);
      row(goal, `${shown}×`, r.rpsRatio >= minRatio);
      if (maxP99 !== undefined) row(`${label}, ${how}: p99 ≤ ${maxP99}× the baseline's`, `${round(r.p99Ratio, 2)}×`, r.p99Ratio <= maxP99);
    };
    throughput('PostgresStore', 'PostgresStore', 0.8, 1.5);
    throughput('RedisStore', 'RedisStore', 0.95);
    throughput('SqliteStore', "SqliteStore (synchronous: 'full')", 0.95);
  }
  for (const { pinned, results } of overloadGroups) {
    const floor = results.find(isFloor);
    const how = pinned ? 'pinned' : 'unpinned';
    for (const run of results.filter((o) => !o.floor)) {
      const at = `${run.storeName}, ${how}`;
      const over = secondsOverFloor(run, floor);
      row(
        `${at}: every second's 503 p99 ≤ ${FLOOR_FACTOR}× the floor's`,
        over.length === 0 ? `worst ${round(worstRatio(run, floor), 2)}×` : secondsText(over),
        over.length === 0,
      );
      row(`${at}: 503 p99 once all users arrived < 50 ms`, `${round(run.refusedP99)} ms`, run.refusedP99 < 50);
      row(`${at}: peak RSS < 250 MB`, `${mb(run.maxRss)} MB`, run.maxRss < 250 * 1024 * 1024);
      row(`${at}: health route always answered`, `${run.healthFailed} of ${run.healthChecks} failed`, run.healthFailed === 0);
      row(
        `${at}: back to normal < 5 s after Khalti recovers`,
        run.recoveredAfter === null ? 'not within the window' : `${run.recoveredAfter} s`,
        run.recoveredAfter !== null && run.recoveredAfter < 5,
      );
      const exact = run.unrecorded === 0 && run.duplicates === 0 && run.notAtKhalti === 0 && run.otherErrors === 0;
      row(
        `${at}: ledger exact, no other errors`,
        `${run.unrecorded} unrecorded, ${run.duplicates} twice, ${run.otherErrors} other errors`,
        exact,
      );
    }
    // Not a goal: the floor flooded again, by the same per-second rule (what chance alone gives).
    const control = results.find((o) => o.control);
    if (control) {
      const over = secondsOverFloor(control, floor);
      row(
        `control, ${how}: the floor flooded again, each second's 503 p99 × its first flood's`,
        over.length === 0
          ? `within ${FLOOR_FACTOR}× (worst ${round(worstRatio(control, floor), 2)}×)`
          : `over ${FLOOR_FACTOR}× in ${secondsText(over)}`,
        null,
      );
    }
  }
  return ['| goal (issue 17) | this run | met |', '|---|---|---|', ...rows];
}

module.exports = { goalsTable, isFloor, ratiosToFloor, secondsOverFloor, secondsText, FLOOR_FACTOR };
