// The overload gate: under overload a request is refused before its body is even read, with a 503
// rendered once per Retry-After value, so a flood cannot starve the verifications already in flight.

import type { RequestHandler, Response } from 'express';
import { KhaltiError } from '../errors';
import type { Admission } from '../flow/admission';
import { OVERLOADED_RETRY_AFTER_MAX_S } from '../retry-after';
import { prerenderError, sendError } from './respond';

/** The refusal a flood repeats thousands of times a second, rendered once per Retry-After value (index = seconds - 1). */
const overloadedReplies = Array.from({ length: OVERLOADED_RETRY_AFTER_MAX_S }, (_, index) =>
  prerenderError(new KhaltiError('overloaded', { retryAfter: index + 1 })),
);

function sendOverloaded(res: Response, retryAfter: number): void {
  const reply = overloadedReplies[retryAfter - 1];
  if (reply) reply(res);
  else sendError(res, new KhaltiError('overloaded', { retryAfter }));
}

/** Refuse at once while every verification slot is taken (the flow checks again when it admits). */
export function refuseWhenFull(admission: Admission): RequestHandler {
  return (_req, res, next) => {
    if (!admission.full) return next();
    sendOverloaded(res, admission.refuseOverloaded());
  };
}
