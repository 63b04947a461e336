// POST {path} (default /khalti/verify): a widget token or an ePayment pidx in, the contract's JSON out.

import type { Request, Router } from 'express';
import type { VerificationFlow } from '../flow/verify';
import type { Log } from '../log';
import { handle } from './adapter';
import { bodyErrorHandler, bodyParsers } from './body';
import { refuseWhenFull } from './overload';

export function mountVerify<Req extends Request>(
  router: Router,
  path: string,
  bodyLimit: number,
  flow: VerificationFlow<Req>,
  log: Log,
): void {
  const verify = handle(log, 'verify', (req) => flow.run(req.body, req as Req));
  router.post(path, refuseWhenFull(flow.admission), ...bodyParsers(bodyLimit), verify, bodyErrorHandler(log));
}
