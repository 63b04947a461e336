// ePayment initiate, framework-free: an order id in, a Khalti payment link bound to that order out.

import { randomUUID } from 'node:crypto';
import { KhaltiError, type KhaltiErrorInit, type VerifyErrorCode } from '../errors';
import type { EpaymentInitiateRequest } from '../khalti/classify-epayment';
import { checkKey, pidxKey } from '../ledger/keys';
import { describeError, scrubSecret } from '../log';
import { isOrderId, isOrderIdAnswer } from '../request';
import type { EpaymentOrderInfo, InitiateBody } from '../types';
import type { FlowDeps } from './deps';
import { askExpectedAmount } from './price';
import type { Result } from './result';
import { BUSY_RETRY_AFTER_S } from './settle';

type InitiateResult = Result<InitiateBody>;

function fail(code: VerifyErrorCode, init: KhaltiErrorInit = {}): InitiateResult {
  return { ok: false, error: new KhaltiError(code, init), orderId: null };
}

/**
 * Start an ePayment for an order. The amount is never the client's: it is `expectedAmount(orderId)`.
 * An order already paid is refused before Khalti is asked; the `pidx` Khalti answers is bound to the
 * order in the ledger (a claim whose lease ends at once, so `reconcile()` looks it up until it settles).
 * Initiate is never retried: a lost answer would leave a second payment link behind.
 */
export class EpaymentInitiator<Req> {
  readonly #deps: FlowDeps<Req>;

  constructor(deps: FlowDeps<Req>) {
    this.#deps = deps;
  }

  async run(body: unknown, req: Req): Promise<InitiateResult> {
    const { config, client, log } = this.#deps;
    const epayment = config.epayment!;
    let orderId: unknown;
    try {
      orderId = config.getOrderId ? await config.getOrderId(req) : (body as Record<string, unknown> | undefined)?.orderId;
    } catch (error) {
      log('error', 'getOrderId threw', { error: describeError(error) });
      return fail('internal_error');
    }
    if (config.getOrderId && !isOrderIdAnswer(orderId)) {
      log('error', 'getOrderId must return a string (or null/undefined when the request has no order id)', { type: typeof orderId });
      return fail('internal_error');
    }
    if (!isOrderId(orderId)) return fail('invalid_request', { details: ['orderId'] });

    const amount = await askExpectedAmount(config, log, orderId, req);
    if (amount instanceof KhaltiError) return { ok: false, error: amount, orderId };
    let info: EpaymentOrderInfo = {};
    try {
      if (epayment.orderInfo) info = await epayment.orderInfo(orderId, req);
    } catch (error) {
      log('error', 'orderInfo threw', { orderId, error: describeError(error) });
      return fail('internal_error');
    }

    const refused = await this.#orderRefusal(orderId, amount, checkKey(), true);
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
    const started = await client.initiate(request, { deadline: Date.now() + config.timeoutMs });
    switch (started.kind) {
      case 'invalid':
        return fail('invalid_request', {
          message: 'Khalti refused the payment request.',
          details: Object.entries(started.fields).map(([field, messages]) =>
            scrubSecret(`${field}: ${messages.join(' ')}`, config.secretKey),
          ),
        });
      case 'auth_failed':
        log('error', 'configuration error: Khalti rejected our secret key (not a payment). Check `secretKey` and `baseUrl`', {
          httpStatus: started.httpStatus,
          detail: started.detail,
        });
        return fail('gateway_error');
      case 'unavailable':
        return fail('gateway_error', started.reason === 'timeout' ? { statusCode: 504 } : {});
      case 'initiated': {
        const bound = await this.#orderRefusal(orderId, amount, pidxKey(started.pidx), false);
        if (bound) return bound;
        const body: InitiateBody = { ok: true, orderId, pidx: started.pidx, paymentUrl: started.paymentUrl, expiresAt: started.expiresAt };
        return { ok: true, body, orderId };
      }
    }
  }

  /**
   * Claim `key` for the order, which refuses an order already paid (or being verified right now). A
   * check claim is released at once; a pidx claim keeps its record with its lease ended ("issued").
   */
  async #orderRefusal(orderId: string, amount: number, key: string, release: boolean): Promise<InitiateResult | undefined> {
    const { config, store, log } = this.#deps;
    const owner = randomUUID();
    const now = Date.now();
    try {
      const claim = await store.claim({ token: key, orderId, amount, owner, now, leaseMs: config.leaseMs });
      if (claim.status === 'order_conflict') return fail('order_already_paid');
      if (claim.status !== 'claimed') return fail('verification_in_progress', { retryAfter: BUSY_RETRY_AFTER_S });
      if (release) await store.release(key, owner);
      else await store.endLease(key, owner, now);
      return undefined;
    } catch (error) {
      log('error', 'the ledger store failed; failing closed', { orderId, error: describeError(error) });
      return fail('internal_error');
    }
  }
}
