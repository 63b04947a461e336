// The sandbox's public shapes: its options, a recorded request, and the handle createKhaltiSandbox() gives.

import type { EpaymentStatus, SandboxEpayment } from './epayment';
import type { SandboxFaults } from './faults';
import type { NewPayment, SandboxPayment } from './payments';

export interface KhaltiSandboxOptions {
  /** Port to listen on. Defaults to `0` (any free port). */
  port?: number;
  /** Host to listen on. Defaults to `127.0.0.1`. */
  host?: string;
  /** The secret key the server API accepts. Defaults to a fresh `test_secret_key_<32 hex>`. */
  secretKey?: string;
  /** The public key the client API accepts. Defaults to a fresh `test_public_key_<32 hex>`. */
  publicKey?: string;
  /**
   * What verify answers for a token that is already verified — undocumented at Khalti, so both
   * plausible answers are here: `record` answers the Completed record again (200); `invalid_token`
   * answers `400 {"token": ["Invalid token."]}`. Defaults to `record`.
   */
  alreadyVerified?: 'record' | 'invalid_token';
  /**
   * Throughput mode, for load tests: a verify or status call for an unknown token that starts with
   * `bench_` creates that payment on the spot (state `Confirmed`, the amount asked), so a load
   * generator needs no pre-created tokens. Defaults to `false`.
   */
  autoPay?: boolean;
  /** Keep `requests` (every request's method, path, body). Turn off for long load tests. Defaults to `true`. */
  recordRequests?: boolean;
}

/** One request the sandbox received. The Authorization header is redacted. */
export interface SandboxRequest {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  body: Record<string, unknown> | null;
  /** `Key [redacted]` when a `Key` header was sent, `[redacted]` for any other scheme, `null` when none. */
  authorization: string | null;
  at: number;
}

export interface KhaltiSandbox {
  /** Where the sandbox listens, e.g. `http://127.0.0.1:49152`: use it as `baseUrl`. */
  readonly baseUrl: string;
  readonly secretKey: string;
  readonly publicKey: string;
  /** Create a payment as the widget would (state `Confirmed` unless given). */
  pay(input: NewPayment): { token: string; idx: string };
  /** A copy of the payment behind `token`, or `null`. */
  transaction(token: string): SandboxPayment | null;
  /** Every token whose payment is `Completed` (verified): Khalti's own record, to audit a ledger against. */
  completedTokens(): string[];
  /** Create an ePayment as `epayment/initiate` would (status `Initiated` unless given). */
  epay(input: { amount: number; purchaseOrderId?: string; purchaseOrderName?: string; returnUrl?: string; status?: EpaymentStatus }): {
    pidx: string;
    paymentUrl: string;
  };
  /** A copy of the ePayment behind `pidx`, or `null`. */
  epayment(pidx: string): SandboxEpayment | null;
  /** Move an ePayment to another status (Pending, Refunded, Expired…); `Completed` gives it a transaction id. */
  setEpaymentStatus(pidx: string, status: EpaymentStatus): void;
  /** Where the hosted page would send the customer back now (`return_url` with Khalti's parameters). */
  returnUrlFor(pidx: string): string;
  /** The checkout page's URL for an amount and product. */
  checkoutUrl(params: { amount: number; productIdentity: string; productName?: string; productUrl?: string }): string;
  /** Every request received, oldest first. Clear it with `requests.length = 0`. */
  readonly requests: SandboxRequest[];
  readonly faults: SandboxFaults;
  /** Stop listening and drop every open connection (hung ones included). */
  close(): Promise<void>;
}
