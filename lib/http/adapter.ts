// The one adapter from a flow result to a response, used by every route: a result is sent as the
// contract says, and an unexpected error is logged and answered `internal_error` unless headers went out.

import type { RequestHandler, Response } from 'express';
import { KhaltiError } from '../errors';
import type { Result } from '../flow/result';
import type { Log } from '../log';
import { sendError, sendSuccess } from './respond';

/** A route handler that runs `use` and hands its result to `send` (by default: JSON, 200 or the error's status). */
export function handle<T extends object>(
  log: Log,
  route: string,
  use: (req: Parameters<RequestHandler>[0]) => Promise<Result<T>>,
  send: (res: Response, result: Result<T>) => void = sendJson,
): RequestHandler {
  return (req, res) => {
    use(req)
      .then((result) => send(res, result))
      .catch((error: unknown) => {
        log('error', `unexpected error in the ${route} handler`, { error: error instanceof Error ? error.name : typeof error });
        if (!res.headersSent) sendError(res, new KhaltiError('internal_error'));
      });
  };
}

function sendJson<T extends object>(res: Response, result: Result<T>): void {
  if (result.ok) sendSuccess(res, result.body);
  else sendError(res, result.error);
}
