// The overloaded Retry-After: clients waiting ÷ slots freeing per second, within 1–10 s.
import { OVERLOADED_RETRY_AFTER_MAX_S, OVERLOADED_RETRY_AFTER_MIN_S, OverloadRetryAfter } from '../../lib/retry-after';

function clock(startMs = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = startMs;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const refuseTimes = (estimator: OverloadRetryAfter, times: number): number[] => Array.from({ length: times }, () => estimator.refuse());

describe('OverloadRetryAfter', () => {
  it('answers the minimum until a verification has released its slot', () => {
    const estimator = new OverloadRetryAfter(4, clock().now);
    expect(new Set(refuseTimes(estimator, 500))).toEqual(new Set([OVERLOADED_RETRY_AFTER_MIN_S]));
  });

  it('stays at 1 s while the waiting clients fit in the slots freeing within a second', () => {
    const estimator = new OverloadRetryAfter(256, clock().now);
    estimator.released(200); // 256 slots held 0.2 s each: 1,280 free up per second
    expect(new Set(refuseTimes(estimator, 1_000))).toEqual(new Set([1]));
  });

  it('grows with the clients waiting and with how long a slot is held', () => {
    const estimator = new OverloadRetryAfter(1, clock().now);
    estimator.released(1_600); // one slot, freeing every 1.6 s
    expect(refuseTimes(estimator, 2)).toEqual([2, 4]); // ⌈1 ÷ 0.625⌉, then 2 waiting in the last 2 s: ⌈3.2⌉
  });

  it('reaches the cap when a slow Khalti meets a flood, and falls back once refusals stop', () => {
    const time = clock();
    const estimator = new OverloadRetryAfter(256, time.now);
    estimator.released(2_000); // Khalti answers after 2 s: 128 slots free up per second
    const flood = refuseTimes(estimator, 1_744);
    expect(flood[0]).toBe(1);
    expect(flood.at(-1)).toBe(OVERLOADED_RETRY_AFTER_MAX_S);
    // Khalti is fast again and nobody was refused for a while: the old refusals have left the window.
    for (let i = 0; i < 20; i += 1) estimator.released(50);
    time.advance(OVERLOADED_RETRY_AFTER_MAX_S * 1_000 + 1);
    expect(estimator.refuse()).toBe(1);
  });

  it('counts only the refusals of the last Retry-After seconds', () => {
    const time = clock();
    const estimator = new OverloadRetryAfter(10, time.now);
    estimator.released(1_000); // 10 slots free up per second
    expect(refuseTimes(estimator, 30).at(-1)).toBe(3); // 30 waiting: ⌈30 ÷ 10⌉ … grown to 3
    time.advance(5_000); // the 3-second window has moved past them
    expect(estimator.refuse()).toBe(1);
  });
});
