// ePayment initiate, framework-free: an order id in, a Khalti payment link bound to that order out.

import { randomUUID } from 'node:crypto';
import { KhaltiError } from './errors';
import { askExpectedAmount, PIDX_KEY_PREFIX, type Outcome } from './flow';
import type { KhaltiClient } from './khalti/client';
import type { EpaymentInitiateRequest } from './khalti/classify-epayment';
import type { LedgerStore } from './ledger/store';
import { describeError, type Log } from './log';
import type { Config, EpaymentOrderInfo } from './options';
import { isOrderIdAnswer, isOrderId } from './request';

/** The 200 body of the initiate route. */
export interface InitiateBody {
  ok: true;
  orderId: string;
  pidx: string;
  paymentUrl: string;
  expiresAt: string | null;
}

export type InitiateResult = { ok: true; body: InitiateBody } | Extract<Outcome, { ok: false }>;

const fail = (code: ConstructorParameters<typeof KhaltiError>[0], init?: ConstructorParameters<typeof KhaltiError>[1]): InitiateResult => ({
  ok: false,
  error: new KhaltiError(code, init),
});

/**
 * Start an ePayment for an order. The amount is never the client's: it is `expectedAmount(orderId)`.
 * An order already paid is refused before Khalti is asked; the `pidx` Khalti answers is bound to the
 * order in the ledger (a claim whose lease ends at once, so `reconcile()` looks it up until it settles).
 * Initiate is never retried: a lost answer would leave a second payment link behind.
 */
export class EpaymentInitiator<Req> {
  readonly #config: Config<Req>;
  readonly #client: KhaltiClient;
  readonly #store: LedgerStore;
  readonly #log: Log;

  constructor(config: Config<Req>, client: KhaltiClient, log: Log) {
    this.#config = config;
    this.#client = client;
    this.#store = config.store;
    this.#log = log;
  }

  async run(body: unknown, req: Req): Promise<InitiateResult> {
    const epayment = this.#config.epayment!;
    let orderId: unknown;
    try {
      orderId = this.#config.getOrderId ? await this.#config.getOrderId(req) : (body as Record<string, unknown> | undefined)?.orderId;
    } catch (error) {
      this.#log('error', 'getOrderId threw', { error: describeError(error) });
      return fail('internal_error');
    }
    if (this.#config.getOrderId && !isOrderIdAnswer(orderId)) {
      this.#log('error', 'getOrderId must return a string (or null/undefined when the request has no order id)', { type: typeof orderId });
      return fail('internal_error');
    }
    if (!isOrderId(orderId)) return fail('invalid_request', { details: ['orderId'] });

    const amount = await askExpectedAmount(this.#config, this.#log, orderId, req);
    if (amount instanceof KhaltiError) return { ok: false, error: amount };
    let info: EpaymentOrderInfo = {};
    try {
      if (epayment.orderInfo) info = await epayment.orderInfo(orderId, req);
    } catch (error) {
      this.#log('error', 'orderInfo threw', { orderId, error: describeError(error) });
      return fail('internal_error');
    }

    const refused = await this.#orderRefusal(orderId, amount, `check:${randomUUID()}`, true);
    if (refused) return refused;

    const request: EpaymentInitiateRequest = {
      return_url: epayment.returnUrl,
      website_url: epayment.websiteUrl,
      amount,
      purchase_order_id: orderId,
      purchase_order_name: info.purchaseOrderName ?? `Order ${orderId}`,
      ...(info.customerInfo ? { customer_info: info.customerInfo } : {}),
      ...(info.amountBreakdown ? { amount_breakdown: info.amountBreakdown } : {}),
      ...(info.productDetails ? { product_details: info.productDetails } : {}),
    };
    const started = await this.#client.initiate(request, { deadline: Date.now() + this.#config.timeoutMs });
    switch (started.kind) {
      case 'invalid':
        return fail('invalid_request', {
          message: 'Khalti refused the payment request.',
          details: Object.entries(started.fields).map(([field, messages]) => `${field}: ${messages.join(' ')}`),
        });
      case 'auth_failed':
        this.#log('error', 'configuration error: Khalti rejected our secret key (not a payment). Check `secretKey` and `baseUrl`', {
          httpStatus: started.httpStatus,
          detail: started.detail,
        });
        return fail('gateway_error');
      case 'unavailable':
        return fail('gateway_error', started.reason === 'timeout' ? { statusCode: 504 } : {});
      case 'initiated': {
        const bound = await this.#orderRefusal(orderId, amount, PIDX_KEY_PREFIX + started.pidx, false);
        if (bound) return bound;
        return { ok: true, body: { ok: true, orderId, pidx: started.pidx, paymentUrl: started.paymentUrl, expiresAt: started.expiresAt } };
      }
    }
  }

  /**
   * Claim `key` for the order, which refuses an order already paid (or being verified right now). A
   * check claim is released at once; a pidx claim keeps its record with its lease ended ("issued").
   */
  async #orderRefusal(orderId: string, amount: number, key: string, release: boolean): Promise<InitiateResult | undefined> {
    const owner = randomUUID();
    const now = Date.now();
    try {
      const claim = await this.#store.claim({ token: key, orderId, amount, owner, now, leaseMs: this.#config.leaseMs });
      if (claim.status === 'order_conflict') return fail('order_already_paid');
      if (claim.status !== 'claimed') return fail('verification_in_progress', { retryAfter: 2 });
      if (release) await this.#store.release(key, owner);
      else await this.#store.endLease(key, owner, now);
      return undefined;
    } catch (error) {
      this.#log('error', 'the ledger store failed; failing closed', { orderId, error: describeError(error) });
      return fail('internal_error');
    }
  }
}
