// Yield to the event loop between expensive steps of admitted verifications, one step per loop turn.

/** Continuations resumed per event-loop turn. Small enough to keep a turn short, large enough that
 * stores which group the writes of one turn into one commit (SqliteStore) still get groups. */
export const PACER_BATCH = 16;

/**
 * A queue of continuations, resumed at most `batch` per event-loop turn (from a `setImmediate`). When
 * Khalti answers hundreds of calls at once, or a flood admits hundreds at once, their work is spread over
 * many turns; between two of them the loop reads sockets, so refusals, health checks and other routes
 * are answered in the meantime instead of after the whole burst. With nothing queued it costs one
 * `setImmediate`.
 */
export class Pacer {
  readonly #waiting: Array<() => void> = [];
  readonly #batch: number;
  #scheduled = false;

  constructor(batch = PACER_BATCH) {
    this.#batch = batch;
  }

  /** Resolves on a later event-loop turn, in the order asked, at most `batch` per turn. */
  turn(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(this.#next);
      }
    });
  }

  /** Continuations waiting for their turn. */
  get waiting(): number {
    return this.#waiting.length;
  }

  readonly #next = (): void => {
    for (const resume of this.#waiting.splice(0, this.#batch)) resume();
    if (this.#waiting.length > 0) setImmediate(this.#next);
    else this.#scheduled = false;
  };
}
