// KhaltiApi: the five Khalti server calls the flow depends on. KhaltiClient implements it over HTTP.

import type { StatusOutcome, VerifyOutcome } from './classify';
import type { EpaymentInitiateRequest, InitiateOutcome, LookupOutcome } from './classify-epayment';
import type { RefundOutcome, RefundRequest } from './classify-refund';

export interface CallOptions {
  /** Epoch ms after which no call is started, and which caps each call's timeout. */
  deadline?: number;
}

/**
 * Khalti's server API as the flow uses it. Every method resolves to a classified outcome and never
 * throws for an HTTP or network problem. Pass your own (a wrapper that traces, a fake in tests) as the
 * `client` option; `KhaltiClient` is the built-in one.
 */
export interface KhaltiApi {
  /** `POST /api/v2/payment/verify/`: completes a widget payment (moves money), so never retried blindly. */
  verify(token: string, amount: number, options?: CallOptions): Promise<VerifyOutcome>;
  /** `GET /api/v2/payment/status/`: read-only, what happened to a widget payment. */
  status(token: string, amount: number, options?: CallOptions): Promise<StatusOutcome>;
  /** `POST /api/v2/epayment/initiate/`: starts an ePayment; never retried. */
  initiate(request: EpaymentInitiateRequest, options?: CallOptions): Promise<InitiateOutcome>;
  /** `POST /api/v2/epayment/lookup/`: read-only, what happened to a pidx. */
  lookup(pidx: string, options?: CallOptions): Promise<LookupOutcome>;
  /**
   * `POST /api/merchant-transaction/{transactionId}/refund/`: moves money back to the customer and has
   * no idempotency key, so never retried; an `unavailable` outcome means "read the state, never post again".
   */
  refund(transactionId: string, request: RefundRequest, options?: CallOptions): Promise<RefundOutcome>;
}
