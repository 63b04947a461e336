// The ePayment routes: `POST initiatePath` (an order id in, a payment link out) and `GET returnPath`
// (Khalti sends the customer back; lookup decides; redirect to the app's success or failure URL).

import type { Request, Response, Router } from 'express';
import { KhaltiError } from '../errors';
import type { EpaymentInitiator } from '../flow/initiate';
import type { Result } from '../flow/result';
import type { VerificationFlow } from '../flow/verify';
import type { Log } from '../log';
import type { Config } from '../options';
import { TOKEN_PATTERN } from '../request';
import type { SuccessBody } from '../types';
import { handle } from './adapter';
import { bodyErrorHandler, bodyParsers } from './body';
import { refuseWhenFull } from './overload';
import { redirectCheck } from './redirect';
import { sendError } from './respond';

export function mountEpayment<Req extends Request>(
  router: Router,
  config: Config<Req> & { epayment: NonNullable<Config<Req>['epayment']> },
  flow: VerificationFlow<Req>,
  initiator: EpaymentInitiator<Req>,
  log: Log,
): void {
  const { epayment } = config;
  const initiate = handle(log, 'initiate', (req) => initiator.run(req.body, req as Req));
  router.post(epayment.initiatePath, refuseWhenFull(flow.admission), ...bodyParsers(config.bodyLimit), initiate, bodyErrorHandler(log));

  // Link prefetchers and some mail scanners send HEAD: Express would run the GET handler (the whole
  // verification, onVerified included) for it. Answer it without verifying anything.
  router.head(epayment.returnPath, (_req, res) => {
    res.writeHead(204, { 'Cache-Control': 'no-store' }).end();
  });
  const isSafeRedirect = redirectCheck(epayment);
  const redirect = (res: Response, target: () => string): void => {
    let location: unknown;
    try {
      location = target();
    } catch (error) {
      log('error', 'successUrl or failureUrl threw', { error: error instanceof Error ? error.name : typeof error });
      return sendError(res, new KhaltiError('internal_error'));
    }
    if (!isSafeRedirect(location)) {
      log(
        'error',
        'successUrl or failureUrl gave a target off the shop’s origin (or scheme-relative); not redirecting. Encode the ' +
          'order id (encodeURIComponent) or list the origin in epayment.redirectOrigins',
      );
      return sendError(res, new KhaltiError('internal_error'));
    }
    res.set('Cache-Control', 'no-store').redirect(302, location);
  };
  const land = (res: Response, result: Result<SuccessBody>): void =>
    result.ok
      ? redirect(res, () => epayment.successUrl(result.body.orderId))
      : redirect(res, () => epayment.failureUrl(result.orderId ?? '', result.error.code));
  const returned = handle(
    log,
    'return',
    async (req): Promise<Result<SuccessBody>> => {
      // The query string is not proof of anything: only the pidx is read, and lookup decides. Nothing else
      // in it is used, not even purchase_order_id: the order comes from our ledger.
      const query = req.query as Record<string, unknown>;
      const pidx = typeof query.pidx === 'string' && TOKEN_PATTERN.test(query.pidx) ? query.pidx : null;
      if (pidx === null) return { ok: false, error: new KhaltiError('invalid_request'), orderId: null };
      return flow.runPidx(pidx, null, req as Req);
    },
    land,
  );
  router.get(epayment.returnPath, returned);
}
