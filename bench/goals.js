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

/** The throughput goals, each against the baseline measured in the same run. */
const THROUGHPUT_GOALS = [
  { store: 'PostgresStore', label: 'PostgresStore', minRatio: 0.8, maxP99: 1.5 },
  { store: 'RedisStore', label: 'RedisStore', minRatio: 0.95 },
  { store: 'SqliteStore', label: "SqliteStore (synchronous: 'full')", minRatio: 0.95 },
];
/** The summary row of `khalti-express + <store>` in one throughput group, if that target ran. */
const targetOf = (summary, store) => summary.find((target) => target.name === `khalti-express + ${store}`);
const rpsMet = (goal, r) => r.rpsRatio >= goal.minRatio;
const p99Met = (goal, r) => goal.maxP99 === undefined || r.p99Ratio <= goal.maxP99;

/** The overload goals besides the per-second rule, each a test of one flood. */
const REFUSAL_P99_MS = 50;
const RSS_LIMIT_MB = 250;
const RECOVERY_S = 5;
const refusalsFast = (run) => run.refusedP99 < REFUSAL_P99_MS;
const rssMet = (run) => run.maxRss < RSS_LIMIT_MB * 1024 * 1024;
const healthMet = (run) => run.healthFailed === 0;
const recoveryMet = (run) => run.recoveredAfter !== null && run.recoveredAfter < RECOVERY_S;
const ledgerMet = (run) => run.unrecorded === 0 && run.duplicates === 0 && run.notAtKhalti === 0 && run.otherErrors === 0;

/** Markdown lines: every goal with the figure measured in this run and whether it was met. */
function goalsTable(throughputGroups, overloadGroups) {
  const rows = [];
  const row = (goal, figure, ok) => rows.push(`| ${goal} | ${figure} | ${ok === null ? '—' : yes(ok)} |`);
  for (const { pinned, summary } of throughputGroups) {
    const how = pinned ? 'pinned' : 'unpinned';
    for (const goal of THROUGHPUT_GOALS) {
      const { label, minRatio, maxP99 } = goal;
      const r = targetOf(summary, goal.store);
      const rpsGoal = `${label}, ${how}: ≥ ${minRatio}× the baseline's throughput`;
      if (!r) {
        row(rpsGoal, 'not run', null);
        continue;
      }
      // Two decimals, or three where two would show the goal's own figure for a ratio just under it.
      const shown = round(r.rpsRatio, 2) === minRatio && r.rpsRatio < minRatio ? round(r.rpsRatio, 3) : round(r.rpsRatio, 2);
      row(rpsGoal, `${shown}×`, rpsMet(goal, r));
      if (maxP99 !== undefined) row(`${label}, ${how}: p99 ≤ ${maxP99}× the baseline's`, `${round(r.p99Ratio, 2)}×`, p99Met(goal, r));
    }
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
      row(`${at}: 503 p99 once all users arrived < ${REFUSAL_P99_MS} ms`, `${round(run.refusedP99)} ms`, refusalsFast(run));
      row(`${at}: peak RSS < ${RSS_LIMIT_MB} MB`, `${mb(run.maxRss)} MB`, rssMet(run));
      row(`${at}: health route always answered`, `${run.healthFailed} of ${run.healthChecks} failed`, healthMet(run));
      row(
        `${at}: back to normal < ${RECOVERY_S} s after Khalti recovers`,
        run.recoveredAfter === null ? 'not within the window' : `${run.recoveredAfter} s`,
        recoveryMet(run),
      );
      row(
        `${at}: ledger exact, no other errors`,
        `${run.unrecorded} unrecorded, ${run.duplicates} twice, ${run.otherErrors} other errors`,
        ledgerMet(run),
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

/**
 * V8's heap growing factor is 4 when its old generation may reach 2 GB, at most 2 below. Node 20 reports
 * that as heap_size_limit = old generation + 48 MB of young generation: 2,095 MB at
 * `--max-old-space-size=2047`, 2,096 MB at 2048 (measured).
 */
const FACTOR_4_FROM_BYTES = 2096 * 1024 * 1024;

/** The heap limit the missing servers ran with, when the run recorded it. */
function heapLimitText(misses) {
  const limits = [...new Set(misses.map(({ o }) => o.heapLimit).filter(Boolean))];
  return limits.length === 0
    ? ''
    : `In this run V8's heap limit was ${limits.map((limit) => `${mb(limit)} MB (factor ${limit >= FACTOR_4_FROM_BYTES ? '4' : 'at most 2'})`).join(' / ')}. `;
}

/**
 * Markdown paragraphs: for each kind of goal this run missed, the figures behind the miss and the reason
 * measured for it (the profiles and A/Bs are in docs/performance.md). Empty when every goal was met.
 */
function notMetReasons(throughputGroups, overloadGroups) {
  const notes = [];
  const tp = (store) => throughputGroups.map(({ pinned, summary }) => ({ pinned, r: targetOf(summary, store) })).filter(({ r }) => r);
  const missed = (store) => {
    const goal = THROUGHPUT_GOALS.find((g) => g.store === store);
    return tp(store).filter(({ r }) => !rpsMet(goal, r) || !p99Met(goal, r));
  };
  const how = (pinned) => (pinned ? 'pinned' : 'unpinned');
  /** "unpinned 0.91×; pinned 0.93×": the throughput ratios of `found`. */
  const ratios = (found, separator = '; ') => found.map(({ pinned, r }) => `${how(pinned)} ${round(r.rpsRatio, 2)}×`).join(separator);
  const pg = missed('PostgresStore');
  if (pg.length > 0)
    notes.push(
      `- **PostgresStore** (${pg.map(({ pinned, r }) => `${how(pinned)} ${round(r.rpsRatio, 2)}×, p99 ${round(r.p99Ratio, 2)}×`).join('; ')}): PostgreSQL's own CPU per payment. A payment is three statements, each committed before the next may start (claim, \`verified\`, \`fulfilled\`), and at this load a statement carries only a dozen payments, so each pays most of a statement's fixed cost; PostgreSQL's backends took about 280 µs of CPU per payment (\`npm run bench:cpu\`), on the two cores the server, the sandbox and the load generator share. With our client's work counted as nothing, that bound is about 0.75× on this machine; runs with idle CPU beat it.`,
    );
  const redis = missed('RedisStore');
  if (redis.length > 0)
    notes.push(
      `- **RedisStore** (${ratios(redis)}): three scripts per payment, and Redis's own CPU (about 100 µs per payment) on the shared cores; the same code's ratio moves by 0.1–0.2 between runs an hour apart.`,
    );
  const sqlite = missed('SqliteStore');
  if (sqlite.length > 0) {
    const normal = tp('SqliteStore (synchronous: normal)');
    notes.push(
      `- **SqliteStore (\`full\`)** (${ratios(sqlite)}${normal.length > 0 ? `; \`normal\` ${ratios(normal, ', ')}` : ''}): its disk sync runs off the event loop, so \`full\` costs what \`normal\` costs; what is left is the spread between runs (0.1–0.2 an hour apart) and the ledger's CPU in the server's one thread.`,
    );
  }
  const overloadMisses = (test) =>
    overloadGroups.flatMap(({ pinned, results }) => {
      const floor = results.find(isFloor);
      return results.filter((o) => !o.floor && test(o, floor)).map((o) => ({ pinned, o, floor }));
    });
  const perSecond = overloadMisses((o, floor) => secondsOverFloor(o, floor).length > 0);
  if (perSecond.length > 0) {
    const controls = overloadGroups.map(({ pinned, results }) => {
      const control = results.find((o) => o.control);
      if (!control) return `was not flooded again ${how(pinned)}`;
      const over = secondsOverFloor(control, results.find(isFloor));
      return over.length === 0 ? `stayed within ${FLOOR_FACTOR}× ${how(pinned)}` : `went over it in ${secondsText(over)} ${how(pinned)}`;
    });
    notes.push(
      `- **Every second's 503 p99 ≤ ${FLOOR_FACTOR}× the floor's** (${perSecond.map(({ pinned, o, floor }) => `${o.storeName} ${how(pinned)} up to ${round(worstRatio(o, floor), 2)}×`).join('; ')}): in this run the floor flooded a second time, judged by the same rule against its own first flood, ${controls.join(' and ')}; over the runs of 2026-12-06 it failed the rule in 17 groups of 18. A server identical to the floor does not meet this rule reliably on this machine. What the misses show is the first second, while the first \`maxInFlight\` (256) verifications start: the CPU profile puts ~550 ms of work in that second against the floor's ~290 ms (axios ~0.3 ms a call, ~200 new sockets to Khalti, garbage collection, body parsing), and the 503s queue behind it before the server reads them. Admitting fewer at the start (maxInFlight 64) did not bring every second under ${FLOOR_FACTOR}× either.`,
    );
  }
  const slow503 = overloadMisses((o) => !refusalsFast(o));
  if (slow503.length > 0)
    notes.push(
      `- **503 p99 < ${REFUSAL_P99_MS} ms once all users arrived** (${slow503.map(({ pinned, o, floor }) => `${o.storeName} ${how(pinned)} ${round(o.refusedP99)} ms, the floor ${round(floor.refusedP99)} ms`).join('; ')}): the same work as above still draining; the floor's own figure moved between 8 and 146 ms over the runs of 2026-12-06.`,
    );
  const rss = overloadMisses((o) => !rssMet(o));
  if (rss.length > 0)
    notes.push(
      `- **Peak RSS < ${RSS_LIMIT_MB} MB** (${rss.map(({ pinned, o, floor }) => `${o.storeName} ${how(pinned)} ${mb(o.maxRss)} MB after ${o.completedAtKhalti} payments, the floor ${mb(floor.maxRss)} MB`).join('; ')}): what is live is small (a heap snapshot of MemoryStore 1.8 s after Khalti recovered, where the peak comes: 33.5 MB, the 2,000 connections and ~4,600 records included), but under the flood's allocation rate V8 lets the heap grow to its maximum factor over what is live between collections (traced: heap total 165 MB after a collection that left 32 MB), and that factor is 4 when V8's heap limit is 2 GB or more and at most 2 below it. ${heapLimitText(rss)}Measured 2026-12-07, one MemoryStore flood each (unpinned), alternating: 216–227 MB with the default limit (4,144 MB on this 24 GB host), 224 MB at \`--max-old-space-size=2048\`, 169 MB at 2047, 164 MB at 1536, 156–157 MB at 1024 and 149–151 MB at 512 (docs/performance.md). The peak also grows with the payments a flood serves, so a faster host reads higher.`,
    );
  const rest = overloadMisses((o) => !healthMet(o) || !recoveryMet(o) || !ledgerMet(o));
  if (rest.length > 0)
    notes.push(
      `- **Health, recovery or the ledger** (${rest.map(({ pinned, o }) => `${o.storeName} ${how(pinned)}`).join('; ')}): no known cause; these held in every run before, so a miss here is a defect to investigate.`,
    );
  return notes.length === 0 ? [] : ['### Not met in this run, and why', '', ...notes, ''];
}

module.exports = { goalsTable, notMetReasons, isFloor, ratiosToFloor, secondsOverFloor, secondsText, FLOOR_FACTOR };
