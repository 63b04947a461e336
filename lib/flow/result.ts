// What every use case of the flow answers: a body, or a typed failure with what `onFailed` must hear.

import { KhaltiError, type KhaltiErrorInit, type VerifyErrorCode } from '../errors';
import type { VerificationFailure } from '../types';

/** What a failure tells `onFailed`, besides its code and message. */
export type FailureReport = Omit<VerificationFailure, 'code' | 'message'>;

/** A failed step: the error to answer, and what `onFailed` is told about it. */
export class Failure {
  constructor(
    readonly error: KhaltiError,
    readonly report: FailureReport = {},
    /** A request that joined another's verification shares its failure: `onFailed` hears of it once, from the leader. */
    readonly joined = false,
  ) {}
}

/** A failure of `code`, reporting `report`. */
export function failure(code: VerifyErrorCode, report: FailureReport = {}, init: KhaltiErrorInit = {}): Failure {
  return new Failure(new KhaltiError(code, init), report);
}

/** A step's answer: its body, or a failure. */
export type Step<T> = T | Failure;

/** The one result every use case answers (verify, the return route, initiate). `orderId`: the order it concerned, when known. */
export type Result<T> = { ok: true; body: T; orderId: string | null } | { ok: false; error: KhaltiError; orderId: string | null };

/** A step's answer as a `Result`. */
export function toResult<T>(step: Step<T>, orderId: string | null): Result<T> {
  return step instanceof Failure ? { ok: false, error: step.error, orderId } : { ok: true, body: step, orderId };
}
