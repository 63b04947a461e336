// The verification use cases, framework-free: a request body (widget token or pidx) or a returning pidx
// in; parse → price → admit → claim → ask Khalti → settle; a result out, `onFailed` told of a failure.

import { KhaltiError, type VerifyErrorCode } from '../errors';
import { publishPayment } from '../events';
import { pidxKey } from '../ledger/keys';
import { describeError } from '../log';
import { createRequestParser, FROM_BODY, isOrderIdAnswer, type VerifyRequest } from '../request';
import type { ReconcileOptions, ReconcileSummary, SuccessBody } from '../types';
import { Admission } from './admission';
import { claimAndSettle } from './claim';
import type { FlowDeps } from './deps';
import { askExpectedAmount } from './price';
import { reconcile } from './reconcile';
import { attemptEnd, paymentEvent } from './payment-event';
import { failure, Failure, toResult, type FailureReport, type Result, type Step } from './result';

/** What an attempt learnt as it went: the ledger key of the payment it names, once known. */
interface Seen {
  key?: string;
}

/** Codes after which `onFailed` is not called: nothing was decided about the payment. */
const SILENT_CODES: ReadonlySet<string> = new Set(['verification_in_progress', 'overloaded']);

export class VerificationFlow<Req> {
  readonly #deps: FlowDeps<Req>;
  readonly #parse: ReturnType<typeof createRequestParser>;
  readonly admission: Admission;

  constructor(deps: FlowDeps<Req>) {
    this.#deps = deps;
    this.#parse = createRequestParser(deps.config.minAmount);
    this.admission = new Admission(deps.config.maxInFlight, deps.log);
  }

  /** Validate a verify request's `body` (the order id from `getOrderId` when set), verify it, tell `onFailed`. Never throws. */
  async run(body: unknown, req: Req): Promise<Result<SuccessBody>> {
    const started = performance.now();
    const seen: Seen = {};
    const step = await this.#traced(seen, () => this.#parseAndVerify(body, req, seen));
    return this.#finish(step, req, step instanceof Failure ? null : step.orderId, seen, started);
  }

  /**
   * Verify an ePayment `pidx`. It must be one this shop issued (the ledger holds it) for this order;
   * `orderId` `null` takes the order from the ledger (the return URL's query is not trusted).
   */
  async runPidx(pidx: string, orderId: string | null, req: Req): Promise<Result<SuccessBody>> {
    const started = performance.now();
    const seen: Seen = {};
    const step = await this.#traced(seen, () => this.#verifyPidx(pidx, orderId, req, seen));
    return this.#finish(step, req, step instanceof Failure ? (step.report.orderId ?? orderId) : step.orderId, seen, started);
  }

  /** See `reconcile.ts`. */
  reconcile(options?: ReconcileOptions): Promise<ReconcileSummary> {
    return reconcile(this.#deps, this.admission.pacer, options);
  }

  /** `work` as one attempt's span, with `tracing: true`. */
  #traced(seen: Seen, work: () => Promise<Step<SuccessBody>>): Promise<Step<SuccessBody>> {
    const { tracing } = this.#deps;
    return tracing ? tracing.attempt('request', work, (step) => attemptEnd(seen.key, step)) : work();
  }

  async #finish(step: Step<SuccessBody>, req: Req, orderId: string | null, seen: Seen, started: number): Promise<Result<SuccessBody>> {
    if (step instanceof Failure && !SILENT_CODES.has(step.error.code) && !step.joined) await this.#notify(step, req);
    // An attempt that named a payment (a request refused before that, or under load, is none).
    if (seen.key && !(step instanceof Failure && step.error.code === 'overloaded')) {
      const key = seen.key;
      publishPayment(() => paymentEvent(key, step, performance.now() - started, 'request'));
    }
    return toResult(step, orderId);
  }

  async #notify(failed: Failure, req: Req): Promise<void> {
    const { onFailed } = this.#deps.config;
    if (!onFailed) return;
    const { code, message } = failed.error;
    try {
      await onFailed({ code: code as VerifyErrorCode, message, ...failed.report }, req);
    } catch (error) {
      this.#deps.log('error', 'onFailed threw; the response is unchanged', { code, error: describeError(error) });
    }
  }

  async #parseAndVerify(body: unknown, req: Req, seen: Seen): Promise<Step<SuccessBody>> {
    const { config, log } = this.#deps;
    let orderId: unknown = FROM_BODY;
    if (config.getOrderId) {
      try {
        orderId = await config.getOrderId(req);
      } catch (error) {
        log('error', 'getOrderId threw', { error: describeError(error) });
        return failure('internal_error');
      }
      if (!isOrderIdAnswer(orderId)) {
        log('error', 'getOrderId must return a string (or null/undefined when the request has no order id)', { type: typeof orderId });
        return failure('internal_error');
      }
    }
    const parsed = this.#parse(body, orderId);
    if (!parsed.ok) return failure('invalid_request', {}, { details: parsed.details });
    if ('pidx' in parsed.value) return this.#verifyPidx(parsed.value.pidx, parsed.value.orderId, req, seen);
    seen.key = parsed.value.token;
    return this.#verifyToken(parsed.value, req);
  }

  async #verifyToken(input: VerifyRequest, req: Req): Promise<Step<SuccessBody>> {
    const asked: FailureReport = { orderId: input.orderId, token: input.token, amount: input.amount };
    const expected = await this.#price(input.orderId, req, asked);
    if (expected instanceof Failure) return expected;
    const report = { ...asked, expectedAmount: expected };
    if (input.amount !== expected) return failure('amount_mismatch', report);
    return this.#admitted({ key: input.token, orderId: input.orderId, amount: input.amount }, expected, req, report);
  }

  async #verifyPidx(pidx: string, orderId: string | null, req: Req, seen: Seen): Promise<Step<SuccessBody>> {
    const key = pidxKey(pidx);
    seen.key = key;
    const report: FailureReport = { pidx, ...(orderId === null ? {} : { orderId }) };
    let record;
    try {
      record = await this.#deps.store.get(key);
    } catch (error) {
      this.#deps.log('error', 'the ledger store failed; failing closed', { pidx, error: describeError(error) });
      return failure('internal_error', report);
    }
    if (!record) return failure('payment_rejected', report, { message: 'This payment was not started by this shop.' });
    if (orderId !== null && record.orderId !== orderId) return failure('token_already_used', report);
    const known: FailureReport = { ...report, orderId: record.orderId };
    const expected = await this.#price(record.orderId, req, known);
    if (expected instanceof Failure) return expected;
    return this.#admitted({ key, orderId: record.orderId, amount: expected }, expected, req, {
      ...known,
      amount: expected,
      expectedAmount: expected,
    });
  }

  /** The order's price, or the failure to answer (reporting `report`) when the app gives none. */
  async #price(orderId: string, req: Req, report: FailureReport): Promise<number | Failure> {
    const expected = await askExpectedAmount(this.#deps.config, this.#deps.log, orderId, req);
    return expected instanceof KhaltiError ? new Failure(expected, report) : expected;
  }

  #admitted(
    input: { key: string; orderId: string; amount: number },
    expected: number,
    req: Req,
    report: FailureReport,
  ): Promise<Step<SuccessBody>> {
    return this.admission.admit(input, report, () => claimAndSettle(this.#deps, this.admission.pacer, input, expected, req, report));
  }
}
