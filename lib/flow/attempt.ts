// One claimed try at settling a payment: the record it holds, until when Khalti may be asked, and what
// a failure of it reports. Passed through every step instead of a mutated context and a `fail` closure.

import { ERROR_CODES, type KhaltiErrorInit, type VerifyErrorCode } from '../errors';
import type { PaymentRecord } from '../ledger/store';
import { failure, type Failure, type FailureReport } from './result';

export interface PaymentInput {
  /** The ledger key (see `ledger/keys.ts`). */
  key: string;
  orderId: string;
  /** Paisa: what the customer paid, and what Khalti is asked about (the widget's `amount`). */
  amount: number;
}

export interface Attempt<Req> extends PaymentInput {
  /** Paisa: the order's price, which Khalti's confirmed amount must equal. */
  expected: number;
  /** This attempt's lease owner id. */
  owner: string;
  /** Epoch ms by which every Khalti call of this attempt must be done. */
  deadline: number;
  req: Req | undefined;
  /** What a failure of this attempt reports to `onFailed`. */
  report: FailureReport;
}

/** A failure of this attempt, reporting what the attempt knows plus `extra`. */
export function attemptFailure<Req>(
  attempt: Attempt<Req>,
  code: VerifyErrorCode,
  extra: FailureReport = {},
  init: KhaltiErrorInit = {},
): Failure {
  return failure(code, { ...attempt.report, ...extra }, init);
}

/** The code a final record answers every retry with. */
export function storedFailureCode(record: PaymentRecord): VerifyErrorCode {
  const code = record.failureCode as VerifyErrorCode | null;
  return code !== null && code in ERROR_CODES ? code : 'internal_error';
}
