// The verification flow, framework-free: a parsed body and the app's request in, an outcome out.

import { randomUUID } from 'node:crypto';
import { ERROR_CODES, KhaltiError, type VerifyErrorCode } from './errors';
import type { KhaltiClient } from './khalti/client';
import { describeError, type Log } from './log';
import type { Config, VerificationFailure, VerifiedPayment } from './options';
import { Pacer } from './pacer';
import { OverloadRetryAfter } from './retry-after';
import { createRequestParser, FROM_BODY, isOrderIdAnswer, type VerifyRequest } from './request';
import type { LedgerStore, PaymentRecord } from './ledger/store';

/** The 200 body. */
export interface SuccessBody {
  ok: true;
  orderId: string;
  /** The ePayment `pidx`, for an ePayment payment. */
  pidx?: string;
  amount: number;
  transactionId: string | null;
  replayed: boolean;
  data?: Record<string, unknown>;
}

export type Outcome = { ok: true; body: SuccessBody } | { ok: false; error: KhaltiError };

/** What Khalti's answers add up to, for one claimed token. */
type Decision =
  | { kind: 'confirmed'; transactionId: string | null; amount: number; khalti: unknown }
  | { kind: 'declined'; code: 'payment_rejected' | 'payment_not_completed'; khalti: unknown }
  | { kind: 'unknown'; timedOut: boolean }
  /** ePayment not settled yet (Pending, Initiated, an unknown status): keep the record, ask again later. */
  | { kind: 'hold'; khalti: unknown };

interface Attempt {
  input: VerifyRequest;
  expected: number;
  owner: string;
  deadline: number;
}

/** Failure context passed to `onFailed` (everything but code and message). */
type FailureContext = Omit<VerificationFailure, 'code' | 'message'>;

/** A failure together with what `onFailed` should be told about it. */
class FlowFailure {
  constructor(
    readonly error: KhaltiError,
    readonly context: FailureContext,
    /** A request that joined another's verification shares its failure: `onFailed` hears of it once, from the leader. */
    readonly joined = false,
  ) {}
}

/** How many stale records `reconcile()` lists at a time. */
export const RECONCILE_BATCH = 100;

export interface ReconcileOptions {
  /** At most how many stale records to handle in this call, oldest first. Defaults to all of them. */
  limit?: number;
}

/** What `reconcile()` did: payments fulfilled, claims released (Khalti said no), and ones still unsettled. */
export interface ReconcileSummary {
  fulfilled: number;
  released: number;
  failed: number;
}

/** Seconds a client should wait before retrying a request that found the token busy. */
const BUSY_RETRY_AFTER_S = 2;

/** Codes after which `onFailed` is not called: nothing was decided about the payment. */
const SILENT_CODES: ReadonlySet<VerifyErrorCode> = new Set(['verification_in_progress', 'overloaded']);

export class VerificationFlow<Req> {
  readonly #config: Config<Req>;
  readonly #client: KhaltiClient;
  readonly #store: LedgerStore;
  readonly #log: Log;
  readonly #parse: ReturnType<typeof createRequestParser>;
  /** Leaders of in-process verifications, by token: identical concurrent requests share one. */
  readonly #pending = new Map<string, { orderId: string; amount: number; result: Promise<Outcome> }>();
  #inFlight = 0;
  /** The `Retry-After` of `overloaded` refusals. */
  readonly #retryAfter: OverloadRetryAfter;
  readonly #pacer = new Pacer();

  constructor(config: Config<Req>, client: KhaltiClient, log: Log) {
    this.#config = config;
    this.#client = client;
    this.#store = config.store;
    this.#log = log;
    this.#parse = createRequestParser(config.minAmount);
    this.#retryAfter = new OverloadRetryAfter(config.maxInFlight);
  }

  /** Verifications between claim and answer, right now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Count an `overloaded` refusal; answers its `Retry-After` in seconds (see `OverloadRetryAfter`). */
  refuseOverloaded(): number {
    return this.#retryAfter.refuse();
  }

  /**
   * Run one verification request: validate `body` (with the order id from `getOrderId` when set), then
   * verify, and tell `onFailed` about a failure. Never throws.
   */
  async run(body: unknown, req: Req): Promise<Outcome> {
    const result = await this.#parseAndVerify(body, req);
    if (!(result instanceof FlowFailure)) return { ok: true, body: result };
    if (!SILENT_CODES.has(result.error.code as VerifyErrorCode) && !result.joined) await this.#notify(result, req);
    return { ok: false, error: result.error };
  }

  /**
   * Re-drive what crashes left behind: every record whose lease ended while `claimed` (Khalti's answer
   * never recorded: ask the status API, then finish or release it) or `verified` (`onVerified` never
   * finished: run it again). Records held by a live lease are never touched.
   */
  async reconcile(options: ReconcileOptions = {}): Promise<ReconcileSummary> {
    const summary: ReconcileSummary = { fulfilled: 0, released: 0, failed: 0 };
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const startedAt = Date.now();
    const seen = new Set<string>();
    // Batches, oldest first, until no stale record is left that this call has not tried: one that stays
    // unsettled is listed again (it is older), so each batch asks for that many more.
    while (seen.size < limit) {
      let batch: PaymentRecord[];
      try {
        batch = await this.#store.listStale(startedAt, seen.size + Math.min(RECONCILE_BATCH, limit - seen.size));
      } catch (error) {
        this.#log('error', 'reconcile could not list stale records', { error: describeError(error) });
        throw new KhaltiError('internal_error');
      }
      const fresh = batch.filter((record) => !seen.has(record.token));
      if (fresh.length === 0) break;
      for (const record of fresh) {
        seen.add(record.token);
        await this.#reconcileOne(record, summary);
      }
    }
    if (seen.size > 0) this.#log('info', 'reconcile finished', { ...summary });
    return summary;
  }

  async #reconcileOne(record: PaymentRecord, summary: ReconcileSummary): Promise<void> {
    const input = { token: record.token, orderId: record.orderId, amount: record.amount };
    // The same decision as the request path: on the order's price now, not the one the record was
    // claimed at. A `verified` record is already decided (paid), so it needs no price.
    const expected = record.state === 'verified' ? record.amount : await askExpectedAmount(this.#config, this.#log, record.orderId, undefined);
    if (expected instanceof KhaltiError) {
      summary.failed += 1;
      this.#log('error', 'reconcile could not price the order (expectedAmount(orderId, undefined) gave no price); the payment stays unsettled', {
        ...keyFields(record.token),
        orderId: record.orderId,
        code: expected.code,
      });
      return;
    }
    const result = await this.#claimAndVerify(input, expected, undefined, { ...contextOf(record.token), orderId: record.orderId, amount: record.amount, expectedAmount: expected });
    if (!(result instanceof FlowFailure)) {
      if (!result.replayed) summary.fulfilled += 1;
    } else if ((result.error.code === 'payment_rejected' || result.error.code === 'payment_not_completed') && (await this.#ended(record.token))) {
      summary.released += 1;
    } else {
      summary.failed += 1;
      this.#log('warn', 'reconcile could not settle a payment yet', { ...keyFields(record.token), orderId: record.orderId, code: result.error.code });
    }
  }

  /** True when Khalti's "no" ended the record: released (a widget token) or declined (a pidx); a pending ePayment is neither. */
  async #ended(key: string): Promise<boolean> {
    const record = await this.#store.get(key).catch(() => undefined);
    return record === null || record?.state === 'declined';
  }

  async #parseAndVerify(body: unknown, req: Req): Promise<SuccessBody | FlowFailure> {
    let orderId: unknown = FROM_BODY;
    if (this.#config.getOrderId) {
      try {
        orderId = await this.#config.getOrderId(req);
      } catch (error) {
        this.#log('error', 'getOrderId threw', { error: describeError(error) });
        return new FlowFailure(new KhaltiError('internal_error'), {});
      }
      if (!isOrderIdAnswer(orderId)) {
        this.#log('error', 'getOrderId must return a string (or null/undefined when the request has no order id)', { type: typeof orderId });
        return new FlowFailure(new KhaltiError('internal_error'), {});
      }
    }
    const parsed = this.#parse(body, orderId);
    if (!parsed.ok) return new FlowFailure(new KhaltiError('invalid_request', { details: parsed.details }), {});
    if ('pidx' in parsed.value) return this.#verifyPidx(parsed.value.pidx, parsed.value.orderId, req);
    return this.#verify(parsed.value, req);
  }

  async #notify(failure: FlowFailure, req: Req): Promise<void> {
    if (!this.#config.onFailed) return;
    const { code, message } = failure.error;
    try {
      await this.#config.onFailed({ code: code as VerifyErrorCode, message, ...failure.context }, req);
    } catch (error) {
      this.#log('error', 'onFailed threw; the response is unchanged', { code, error: describeError(error) });
    }
  }

  async #verify(input: VerifyRequest, req: Req): Promise<SuccessBody | FlowFailure> {
    const context: FailureContext = { orderId: input.orderId, token: input.token, amount: input.amount };
    const expected = await this.#expectedAmount(input.orderId, req, context);
    if (expected instanceof FlowFailure) return expected;
    if (input.amount !== expected) return new FlowFailure(new KhaltiError('amount_mismatch'), context);
    return this.#claimOnce(input, expected, req, context);
  }

  /**
   * Verify an ePayment `pidx`. It must be one this shop issued (the ledger holds it) for this order;
   * `orderId` `null` takes the order from the ledger (the return URL's query is not trusted).
   */
  async runPidx(pidx: string, orderId: string | null, req: Req): Promise<Outcome & { orderId: string | null }> {
    const result = await this.#verifyPidx(pidx, orderId, req);
    const settledOrder = result instanceof FlowFailure ? (result.context.orderId ?? orderId) : result.orderId;
    if (!(result instanceof FlowFailure)) return { ok: true, body: result, orderId: settledOrder };
    if (!SILENT_CODES.has(result.error.code as VerifyErrorCode) && !result.joined) await this.#notify(result, req);
    return { ok: false, error: result.error, orderId: settledOrder };
  }

  async #verifyPidx(pidx: string, orderId: string | null, req: Req): Promise<SuccessBody | FlowFailure> {
    const key = PIDX_KEY_PREFIX + pidx;
    const context: FailureContext = { pidx, ...(orderId === null ? {} : { orderId }) };
    let record: PaymentRecord | null;
    try {
      record = await this.#store.get(key);
    } catch (error) {
      this.#log('error', 'the ledger store failed; failing closed', { pidx, error: describeError(error) });
      return new FlowFailure(new KhaltiError('internal_error'), context);
    }
    if (!record) {
      return new FlowFailure(new KhaltiError('payment_rejected', { message: 'This payment was not started by this shop.' }), context);
    }
    if (orderId !== null && record.orderId !== orderId) return new FlowFailure(new KhaltiError('token_already_used'), context);
    context.orderId = record.orderId;
    const expected = await this.#expectedAmount(record.orderId, req, context);
    if (expected instanceof FlowFailure) return expected;
    context.amount = expected;
    return this.#claimOnce({ token: key, orderId: record.orderId, amount: expected }, expected, req, context);
  }

  /** The order's price from the app, checked: a positive whole number of paisa, or a failure. */
  async #expectedAmount(orderId: string, req: Req, context: FailureContext): Promise<number | FlowFailure> {
    const expected = await askExpectedAmount(this.#config, this.#log, orderId, req);
    if (expected instanceof KhaltiError) return new FlowFailure(expected, context);
    context.expectedAmount = expected;
    return expected;
  }

  /** Identical concurrent requests share one verification; others claim, within `maxInFlight`. */
  async #claimOnce(input: VerifyRequest, expected: number, req: Req, context: FailureContext): Promise<SuccessBody | FlowFailure> {
    const leader = this.#pending.get(input.token);
    if (leader && leader.orderId === input.orderId && leader.amount === input.amount) {
      const shared = await leader.result;
      return shared.ok ? { ...shared.body, replayed: true } : new FlowFailure(shared.error, context, true);
    }
    if (this.#inFlight >= this.#config.maxInFlight) {
      return new FlowFailure(new KhaltiError('overloaded', { retryAfter: this.refuseOverloaded() }), context);
    }
    this.#inFlight += 1;
    const heldFrom = performance.now();
    const settled = this.#claimAndVerify(input, expected, req, context)
      .catch((error: unknown) => {
        // Unreachable by design (every step catches its own failures); fail closed if it happens anyway.
        this.#log('error', 'unexpected error during verification; failing closed', { ...keyFields(input.token), error: describeError(error) });
        return new FlowFailure(new KhaltiError('internal_error'), context);
      })
      .finally(() => {
        this.#inFlight -= 1;
        this.#retryAfter.released(performance.now() - heldFrom);
      });
    if (!leader) {
      const result = settled.then((r): Outcome => (r instanceof FlowFailure ? { ok: false, error: r.error } : { ok: true, body: r }));
      this.#pending.set(input.token, { orderId: input.orderId, amount: input.amount, result });
      void result.finally(() => this.#pending.delete(input.token));
    }
    return settled;
  }

  async #claimAndVerify(
    input: VerifyRequest,
    expected: number,
    req: Req | undefined,
    context: FailureContext,
  ): Promise<SuccessBody | FlowFailure> {
    const fail = (code: VerifyErrorCode, extra: FailureContext = {}, statusCode?: number): FlowFailure =>
      new FlowFailure(new KhaltiError(code, statusCode === undefined ? {} : { statusCode }), { ...context, ...extra });
    // Admitted work is paced (see Pacer): a flood's admissions, and Khalti's answers arriving together,
    // take one loop turn each, so cheap answers (refusals, other routes) are not stuck behind them.
    await this.#pacer.turn();
    const now = Date.now();
    const attempt: Attempt = { input, expected, owner: randomUUID(), deadline: now + this.#config.khaltiBudgetMs };
    try {
      const pidx = pidxOf(input.token);
      // An ePayment's money is captured on Khalti's page, not by our call: a pidx of an order paid with
      // another payment must still be looked up (and, if Khalti took it, kept for a refund).
      const claim = await this.#store.claim({
        ...input,
        owner: attempt.owner,
        now,
        leaseMs: this.#config.leaseMs,
        ...(pidx === null ? {} : { evenIfOrderPaid: true }),
      });
      switch (claim.status) {
        case 'fulfilled':
          return { ...(claim.record.response as SuccessBody), replayed: true };
        case 'unfulfillable':
        case 'declined':
          return fail(storedFailureCode(claim.record), { khalti: claim.record.khalti });
        case 'token_conflict':
          return fail('token_already_used');
        case 'order_conflict':
          return fail('order_already_paid');
        case 'busy':
          return new FlowFailure(new KhaltiError('verification_in_progress', { retryAfter: BUSY_RETRY_AFTER_S }), context);
        case 'claimed':
          break;
      }
      if (claim.record.state === 'verified') return await this.#fulfil({ ...attempt, expected: claim.record.amount }, paymentOf(claim.record), req, fail);
      const decision = pidx === null ? await this.#askKhalti(attempt, claim.takenOver) : await this.#askLookup(attempt, pidx);
      // The claim's lease covers this turn: a crash now is re-driven by reconcile() like one during the call.
      await this.#pacer.turn();
      return await this.#settle(attempt, decision, req, fail);
    } catch (error) {
      this.#log('error', 'the ledger store failed; failing closed', { ...keyFields(input.token), error: describeError(error) });
      await this.#store.endLease(input.token, attempt.owner, Date.now()).catch(() => false);
      return fail('internal_error');
    }
  }

  /**
   * Ask Khalti what happened to this payment. Verify first, unless an earlier attempt's outcome is
   * unknown (then the read-only status API first: verify's answer for an already-verified token is
   * undocumented). Any answer that is not clearly a payment or clearly not one is `unknown`.
   */
  async #askKhalti(attempt: Attempt, statusFirst: boolean): Promise<Decision> {
    const { token, amount } = attempt.input;
    const options = { deadline: attempt.deadline };
    let timedOut = false;
    let verifiedAgain = false;
    if (!statusFirst) {
      const verified = await this.#client.verify(token, amount, options);
      if (verified.kind !== 'unavailable') return this.#verifyDecision(verified, token);
      timedOut = verified.reason === 'timeout';
      this.#log('warn', 'Khalti verify gave no usable answer; asking the status API', { token, reason: verified.reason, httpStatus: verified.httpStatus });
    }
    for (;;) {
      const status = await this.#client.status(token, amount, options);
      if (status.kind === 'auth_failed') return this.#authFailed(status.httpStatus, status.detail);
      if (status.kind === 'unavailable') {
        this.#log('warn', 'Khalti status API gave no usable answer; outcome unknown', { token, reason: status.reason });
        return { kind: 'unknown', timedOut: timedOut || status.reason === 'timeout' };
      }
      switch (status.state) {
        case 'Complete':
          return { kind: 'confirmed', transactionId: null, amount, khalti: status.body };
        case 'Error':
          return { kind: 'declined', code: 'payment_rejected', khalti: status.body };
        case 'Confirmed': {
          if (verifiedAgain) return { kind: 'unknown', timedOut };
          verifiedAgain = true;
          const verified = await this.#client.verify(token, amount, options);
          if (verified.kind !== 'unavailable') return this.#verifyDecision(verified, token);
          timedOut ||= verified.reason === 'timeout';
          continue;
        }
        default:
          return { kind: 'declined', code: 'payment_not_completed', khalti: status.body };
      }
    }
  }

  /**
   * An ePayment: lookup decides. Completed (amount compared by #settle; refunded never fulfils)
   * confirms; Pending, Initiated and unknown statuses hold; Expired and User canceled fail; a pidx
   * Khalti does not know is rejected. Lookup is read-only, so it is safe to ask at any time.
   */
  async #askLookup(attempt: Attempt, pidx: string): Promise<Decision> {
    const looked = await this.#client.lookup(pidx, { deadline: attempt.deadline });
    switch (looked.kind) {
      case 'auth_failed':
        return this.#authFailed(looked.httpStatus, looked.detail);
      case 'unavailable':
        this.#log('warn', 'Khalti lookup gave no usable answer; outcome unknown', { pidx, reason: looked.reason });
        return { kind: 'unknown', timedOut: looked.reason === 'timeout' };
      case 'not_found':
        return { kind: 'declined', code: 'payment_rejected', khalti: looked.body };
      case 'status':
        switch (looked.status) {
          case 'completed':
            if (looked.refunded) return { kind: 'declined', code: 'payment_not_completed', khalti: looked.body };
            if (looked.totalAmount === null) {
              // Completed means the money is captured: an amount we cannot read is no "no". Hold the record.
              this.#log('warn', 'Khalti lookup said Completed without a usable total_amount; outcome unknown', { pidx });
              return { kind: 'unknown', timedOut: false };
            }
            return { kind: 'confirmed', transactionId: looked.transactionId, amount: looked.totalAmount, khalti: looked.body };
          case 'pending':
          case 'initiated':
          case 'unknown':
            return { kind: 'hold', khalti: looked.body };
          default:
            return { kind: 'declined', code: 'payment_not_completed', khalti: looked.body };
        }
    }
  }

  #verifyDecision(verified: Exclude<Awaited<ReturnType<KhaltiClient['verify']>>, { kind: 'unavailable' }>, token: string): Decision {
    switch (verified.kind) {
      case 'completed':
        return { kind: 'confirmed', transactionId: verified.transactionId, amount: verified.amount, khalti: verified.body };
      case 'not_completed':
        return { kind: 'declined', code: 'payment_not_completed', khalti: verified.body };
      case 'rejected':
        this.#log('warn', 'Khalti rejected the payment token', { token, httpStatus: verified.httpStatus });
        return { kind: 'declined', code: 'payment_rejected', khalti: verified.body };
      case 'auth_failed':
        return this.#authFailed(verified.httpStatus, verified.detail);
    }
  }

  #authFailed(httpStatus: number, detail: string | null): Decision {
    this.#log(
      'error',
      'configuration error: Khalti rejected our secret key (not the payment token). Check `secretKey` and that `baseUrl` matches it (test keys work on the sandbox host only)',
      { httpStatus, detail },
    );
    return { kind: 'unknown', timedOut: false };
  }

  async #settle(
    attempt: Attempt,
    decision: Decision,
    req: Req | undefined,
    fail: (code: VerifyErrorCode, extra?: FailureContext, statusCode?: number) => FlowFailure,
  ): Promise<SuccessBody | FlowFailure> {
    const { token } = attempt.input;
    if (decision.kind === 'hold') {
      await this.#store.endLease(token, attempt.owner, Date.now());
      return fail('payment_not_completed', { khalti: decision.khalti });
    }
    if (decision.kind === 'unknown') {
      await this.#store.endLease(token, attempt.owner, Date.now());
      return fail('gateway_error', {}, decision.timedOut ? 504 : 502);
    }
    if (decision.kind === 'declined') {
      // A widget token Khalti refused is free again; a pidx stays as the proof this shop issued it.
      if (pidxOf(token) === null) await this.#store.release(token, attempt.owner);
      else await this.#store.markDeclined(token, attempt.owner, { failureCode: decision.code, khalti: decision.khalti, now: Date.now() });
      return fail(decision.code, { khalti: decision.khalti });
    }
    const verified = { transactionId: decision.transactionId, khalti: decision.khalti, now: Date.now() };
    if (decision.amount !== attempt.expected) {
      this.#log('error', 'Khalti confirmed a different amount than the order costs; recorded as unfulfillable (refund it)', {
        ...keyFields(token),
        orderId: attempt.input.orderId,
        transactionId: decision.transactionId,
      });
      await this.#store.markUnfulfillable(token, attempt.owner, { ...verified, failureCode: 'amount_mismatch' });
      return fail('amount_mismatch', { khalti: decision.khalti });
    }
    const marked = await this.#store.markVerified(token, attempt.owner, verified);
    if (marked === 'order_conflict') {
      this.#log('error', 'Khalti confirmed a payment for an order already paid with another token; recorded as unfulfillable (refund it)', {
        ...keyFields(token),
        orderId: attempt.input.orderId,
        transactionId: decision.transactionId,
      });
      return fail('order_already_paid', { khalti: decision.khalti });
    }
    if (marked === 'not_owner') {
      this.#log('warn', 'the claim lease expired during verification; another attempt now owns this token', keyFields(token));
      return new FlowFailure(new KhaltiError('verification_in_progress', { retryAfter: BUSY_RETRY_AFTER_S }), {});
    }
    return this.#fulfil(attempt, { transactionId: decision.transactionId, khalti: decision.khalti }, req, fail);
  }

  async #fulfil(
    attempt: Attempt,
    payment: Pick<VerifiedPayment, 'transactionId' | 'khalti'>,
    req: Req | undefined,
    fail: (code: VerifyErrorCode, extra?: FailureContext) => FlowFailure,
  ): Promise<SuccessBody | FlowFailure> {
    const { input, owner } = attempt;
    const pidx = pidxOf(input.token);
    const who = pidx === null ? { token: input.token } : { token: null, pidx };
    const hook = (async () => this.#config.onVerified({ orderId: input.orderId, ...who, amount: attempt.expected, ...payment }, req))();
    let returned: unknown;
    try {
      returned = await settleWithin(hook, this.#config.fulfilmentTimeoutMs);
    } catch (error) {
      this.#log('error', 'onVerified threw; the payment stays verified and the next retry fulfils it', {
        ...keyFields(input.token),
        orderId: input.orderId,
        error: describeError(error),
      });
      await this.#store.endLease(input.token, owner, Date.now());
      return fail('fulfilment_failed', { khalti: payment.khalti });
    }
    if (returned === TIMED_OUT) {
      // The slot is freed and the request answered; the record stays verified under this attempt's lease,
      // so nothing runs onVerified again while this call may still finish. If it does, its fulfilment is
      // recorded; if it fails or never ends, the lease runs out and a retry or reconcile() fulfils it.
      this.#log('error', 'onVerified did not settle within fulfilmentTimeoutMs; answered fulfilment_failed, the payment stays verified', {
        ...keyFields(input.token),
        orderId: input.orderId,
        fulfilmentTimeoutMs: this.#config.fulfilmentTimeoutMs,
      });
      hook
        .then(
          (late) => this.#record(attempt, payment, late),
          () => this.#store.endLease(input.token, owner, Date.now()),
        )
        .catch(() => undefined);
      return fail('fulfilment_failed', { khalti: payment.khalti });
    }
    return this.#record(attempt, payment, returned);
  }

  /** Record fulfilment: the 200 body, with what `onVerified` returned as `data`. */
  async #record(attempt: Attempt, payment: Pick<VerifiedPayment, 'transactionId' | 'khalti'>, returned: unknown): Promise<SuccessBody> {
    const { input, owner } = attempt;
    const data = this.#plainData(returned);
    const pidx = pidxOf(input.token);
    const body: SuccessBody = {
      ok: true,
      orderId: input.orderId,
      ...(pidx === null ? {} : { pidx }),
      amount: attempt.expected,
      transactionId: payment.transactionId,
      replayed: false,
      ...(data === undefined ? {} : { data }),
    };
    if (!(await this.#store.markFulfilled(input.token, owner, body, Date.now()))) {
      this.#log('warn', 'the claim lease expired before fulfilment was recorded; onVerified may run again', keyFields(input.token));
    }
    return body;
  }

  /** `onVerified`'s return value as JSON data, when it is a plain object that survives JSON. */
  #plainData(value: unknown): Record<string, unknown> | undefined {
    if (typeof value !== 'object' || value === null) return undefined;
    const prototype = Object.getPrototypeOf(value) as unknown;
    if (prototype !== Object.prototype && prototype !== null) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(JSON.stringify(value));
    } catch {
      this.#log('warn', 'onVerified returned an object that is not JSON; it is left out of the response');
      return undefined;
    }
    // A `toJSON` may turn the object into anything: only an object serialises to `data`.
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      this.#log('warn', 'onVerified returned an object that does not serialise to a JSON object; it is left out of the response');
      return undefined;
    }
    return json as Record<string, unknown>;
  }
}

/**
 * The order's price from the app's `expectedAmount`, checked: a positive whole number of paisa, or the
 * error to answer (`order_not_found` for null/undefined, `internal_error` if it threw or returned nonsense).
 */
export async function askExpectedAmount<Req>(config: Config<Req>, log: Log, orderId: string, req: Req | undefined): Promise<number | KhaltiError> {
  let expected: unknown;
  try {
    expected = await config.expectedAmount(orderId, req);
  } catch (error) {
    log('error', 'expectedAmount threw', { orderId, error: describeError(error) });
    return new KhaltiError('internal_error');
  }
  if (expected === null || expected === undefined) return new KhaltiError('order_not_found');
  if (typeof expected !== 'number' || !Number.isSafeInteger(expected) || expected <= 0) {
    log('error', 'expectedAmount must return a positive whole number of paisa, or null', { orderId });
    return new KhaltiError('internal_error');
  }
  return expected;
}

/** Ledger keys of ePayment payments are `pidx:<pidx>`; widget payments are keyed by their token. */
export const PIDX_KEY_PREFIX = 'pidx:';

/** A ledger key as log fields: a widget token as `token`, an ePayment as `pidx` (each masked by the log). */
export function keyFields(key: string): { token: string } | { pidx: string } {
  const pidx = pidxOf(key);
  return pidx === null ? { token: key } : { pidx };
}

/** A ledger key as `onFailed` context: `token` for a widget payment, `pidx` for an ePayment. */
function contextOf(key: string): FailureContext {
  const pidx = pidxOf(key);
  return pidx === null ? { token: key } : { pidx };
}

/** The pidx behind a ledger key, or `null` for a widget token. */
export function pidxOf(key: string): string | null {
  return key.startsWith(PIDX_KEY_PREFIX) ? key.slice(PIDX_KEY_PREFIX.length) : null;
}

const TIMED_OUT = Symbol('timed out');

/** `promise`'s value, or `TIMED_OUT` when it has not settled within `ms`. */
async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function paymentOf(record: PaymentRecord): Pick<VerifiedPayment, 'transactionId' | 'khalti'> {
  return { transactionId: record.transactionId, khalti: record.khalti };
}

function storedFailureCode(record: PaymentRecord): VerifyErrorCode {
  const code = record.failureCode as VerifyErrorCode | null;
  return code !== null && code in ERROR_CODES ? code : 'internal_error';
}
