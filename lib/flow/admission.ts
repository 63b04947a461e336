// Admission: how many verifications run at once (maxInFlight, with the overload Retry-After), identical
// concurrent requests sharing one verification, and the pacing of admitted work. The HTTP gate reads it.

import { publishOverloaded } from '../events';
import { KhaltiError } from '../errors';
import { keyFields } from '../ledger/keys';
import { describeError, type Log } from '../log';
import { Pacer } from '../pacer';
import { OverloadRetryAfter } from '../retry-after';
import type { SuccessBody } from '../types';
import type { PaymentInput } from './attempt';
import { Failure, type FailureReport, type Step } from './result';

interface Leader {
  orderId: string;
  amount: number;
  result: Promise<Step<SuccessBody>>;
}

export class Admission {
  /** Paces admitted work: see `Pacer`. */
  readonly pacer = new Pacer();
  readonly #maxInFlight: number;
  readonly #log: Log;
  readonly #retryAfter: OverloadRetryAfter;
  /** Leaders of in-process verifications, by ledger key. */
  readonly #leaders = new Map<string, Leader>();
  #inFlight = 0;

  constructor(maxInFlight: number, log: Log) {
    this.#maxInFlight = maxInFlight;
    this.#log = log;
    this.#retryAfter = new OverloadRetryAfter(maxInFlight);
  }

  /** Verifications between claim and answer, right now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** True when a new verification would be refused as `overloaded`. */
  get full(): boolean {
    return this.#inFlight >= this.#maxInFlight;
  }

  /** Count an `overloaded` refusal; answers its `Retry-After` in seconds (see `OverloadRetryAfter`). */
  refuseOverloaded(): number {
    const retryAfter = this.#retryAfter.refuse();
    publishOverloaded(retryAfter);
    return retryAfter;
  }

  /**
   * Run `work` for `input` within `maxInFlight`, or refuse it (`overloaded`). A request identical to one
   * in flight (same key, order and amount) joins it instead: it gets the leader's 200 with `replayed: true`,
   * or its failure, marked joined so `onFailed` hears of it once. Never throws.
   */
  async admit(input: PaymentInput, report: FailureReport, work: () => Promise<Step<SuccessBody>>): Promise<Step<SuccessBody>> {
    const leader = this.#leaders.get(input.key);
    if (leader && leader.orderId === input.orderId && leader.amount === input.amount) {
      const shared = await leader.result;
      return shared instanceof Failure ? new Failure(shared.error, report, true) : { ...shared, replayed: true };
    }
    if (this.full) return new Failure(new KhaltiError('overloaded', { retryAfter: this.refuseOverloaded() }), report);
    this.#inFlight += 1;
    const heldFrom = performance.now();
    const settled = work()
      .catch((error: unknown) => {
        // Unreachable by design (every step catches its own failures); fail closed if it happens anyway.
        this.#log('error', 'unexpected error during verification; failing closed', {
          ...keyFields(input.key),
          error: describeError(error),
        });
        return new Failure(new KhaltiError('internal_error'), report);
      })
      .finally(() => {
        this.#inFlight -= 1;
        this.#retryAfter.released(performance.now() - heldFrom);
      });
    if (!leader) {
      this.#leaders.set(input.key, { orderId: input.orderId, amount: input.amount, result: settled });
      void settled.finally(() => this.#leaders.delete(input.key));
    }
    return settled;
  }
}
