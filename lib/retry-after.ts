// The Retry-After of an `overloaded` refusal: about how long the clients already waiting need to get a
// verification slot, so a flood of refused clients does not come back every second to be refused again.

/** Bounds of the `Retry-After` sent with `overloaded`, in seconds. */
export const OVERLOADED_RETRY_AFTER_MIN_S = 1;
export const OVERLOADED_RETRY_AFTER_MAX_S = 10;
/** Weight of the newest slot-hold time in its moving average. */
const HOLD_TIME_WEIGHT = 0.2;

/**
 * Estimates `Retry-After` as (clients waiting) ÷ (slots freeing per second), rounded up, within 1–10 s:
 * - clients waiting: the refusals of the last `Retry-After` seconds (each waiting client is refused about
 *   once per `Retry-After`);
 * - slots freeing per second: `slots` ÷ the moving average of how long a verification holds its slot
 *   (Little's law: every slot is busy while refusals happen).
 * Before any verification has finished it answers the minimum.
 */
export class OverloadRetryAfter {
  readonly #slots: number;
  readonly #now: () => number;
  #holdMs: number | null = null;
  /** Refusals per second, in a ring indexed by whole seconds of `now()`. */
  readonly #refusals = new Array<number>(OVERLOADED_RETRY_AFTER_MAX_S).fill(0);
  #second = 0;
  #last = OVERLOADED_RETRY_AFTER_MIN_S;

  /** `now` is a millisecond clock; tests pass their own. */
  constructor(slots: number, now: () => number = () => performance.now()) {
    this.#slots = slots;
    this.#now = now;
  }

  /** A verification released its slot after holding it `ms`. */
  released(ms: number): void {
    this.#holdMs = this.#holdMs === null ? ms : this.#holdMs + HOLD_TIME_WEIGHT * (ms - this.#holdMs);
  }

  /** Count one refusal now, and answer the `Retry-After` (seconds) to send with it. */
  refuse(): number {
    const second = this.#advance();
    const slot = second % OVERLOADED_RETRY_AFTER_MAX_S;
    this.#refusals[slot] = (this.#refusals[slot] ?? 0) + 1;
    if (this.#holdMs === null) return this.#last;
    let waiting = 0;
    for (let back = 0; back < this.#last; back += 1) waiting += this.#refusals[(second - back) % OVERLOADED_RETRY_AFTER_MAX_S] ?? 0;
    const slotsPerSecond = (this.#slots * 1000) / Math.max(this.#holdMs, 1);
    this.#last = Math.min(OVERLOADED_RETRY_AFTER_MAX_S, Math.max(OVERLOADED_RETRY_AFTER_MIN_S, Math.ceil(waiting / slotsPerSecond)));
    return this.#last;
  }

  /** Move the ring to the current second, clearing the seconds that passed; returns that second. */
  #advance(): number {
    const second = Math.floor(this.#now() / 1000);
    const passed = Math.min(second - this.#second, OVERLOADED_RETRY_AFTER_MAX_S);
    for (let step = 1; step <= passed; step += 1) this.#refusals[(this.#second + step) % OVERLOADED_RETRY_AFTER_MAX_S] = 0;
    if (passed > 0) this.#second = second;
    return this.#second;
  }
}
