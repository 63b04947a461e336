// khaltiVerifier(): options in, an Express router mounting the verify endpoint out. Only HTTP here.

import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response, type Router } from 'express';
import { KhaltiError } from './errors';
import { VerificationFlow, type ReconcileOptions, type ReconcileSummary } from './flow';
import { OVERLOADED_RETRY_AFTER_MAX_S } from './retry-after';
import { KhaltiClient } from './khalti/client';
import type { LedgerStore } from './ledger/store';
import { createLog, type Log } from './log';
import { EpaymentInitiator } from './epayment-initiate';
import { parseOptions, type Config, type KhaltiVerifierOptions } from './options';
import { TOKEN_PATTERN } from './request';
import { prerenderError, sendError, sendSuccess } from './respond';

/** The router `khaltiVerifier()` returns, with its Khalti client and ledger store. */
export interface KhaltiVerifierRouter extends Router {
  /** The client the router verifies with. */
  readonly client: KhaltiClient;
  /** The ledger store the router records payments in. */
  readonly store: LedgerStore;
  /** Re-drive payments a crash left behind (see the README's "Leases and reconcile()"). */
  reconcile(options?: ReconcileOptions): Promise<ReconcileSummary>;
}

const ACCEPTED_TYPES = ['application/json', 'application/x-www-form-urlencoded'];

/** The refusal a flood repeats thousands of times a second, rendered once per Retry-After value (index = seconds - 1). */
const overloadedReplies = Array.from({ length: OVERLOADED_RETRY_AFTER_MAX_S }, (_, index) =>
  prerenderError(new KhaltiError('overloaded', { retryAfter: index + 1 })),
);

function sendOverloaded(res: Response, retryAfter: number): void {
  const reply = overloadedReplies[retryAfter - 1];
  if (reply) reply(res);
  else sendError(res, new KhaltiError('overloaded', { retryAfter }));
}

/**
 * Build the router that mounts `POST {path}` (default `/khalti/verify`). Options are validated here,
 * once: a wrong option throws a `KhaltiError` (`invalid_option`, `store_required`) at start-up.
 */
export function khaltiVerifier<Req extends Request = Request>(options: KhaltiVerifierOptions<Req>): KhaltiVerifierRouter {
  const config = parseOptions(options);
  const log = createLog(config.logger, config.secretKey);
  const client = new KhaltiClient({ secretKey: config.secretKey, baseUrl: config.baseUrl, timeoutMs: config.timeoutMs });
  const flow = new VerificationFlow<Req>(config, client, log);

  const verify: RequestHandler = (req, res) => {
    flow
      .run(req.body, req as Req)
      .then((outcome) => (outcome.ok ? sendSuccess(res, outcome.body) : sendError(res, outcome.error)))
      .catch((error: unknown) => {
        log('error', 'unexpected error in the verify handler', { error: error instanceof Error ? error.name : typeof error });
        if (!res.headersSent) sendError(res, new KhaltiError('internal_error'));
      });
  };

  // Under overload a request is refused before its body is even read: the cheapest possible 503,
  // so a flood cannot starve the verifications already in flight. (The flow checks again at claim.)
  const refuseWhenFull: RequestHandler = (_req, res, next) => {
    if (flow.inFlight < config.maxInFlight) return next();
    sendOverloaded(res, flow.refuseOverloaded());
  };

  // JSON or form bodies only, read by our own parsers on our routes only (whether or not the app parsed them).
  const bodyParsers: RequestHandler[] = [
    requireFormOrJson,
    express.json({ limit: config.bodyLimit, strict: true, type: 'application/json' }),
    express.urlencoded({ limit: config.bodyLimit, extended: false, parameterLimit: 64, type: 'application/x-www-form-urlencoded' }),
  ];
  const onBodyError = bodyErrorHandler(log);

  const router = express.Router() as KhaltiVerifierRouter;
  router.post(config.path, refuseWhenFull, ...bodyParsers, verify, onBodyError);
  if (config.epayment) {
    mountEpayment(router, config as Config<Req> & { epayment: NonNullable<Config<Req>['epayment']> }, flow, client, log, {
      refuseWhenFull,
      bodyParsers,
      onBodyError,
    });
  }
  Object.defineProperties(router, {
    client: { value: client },
    store: { value: config.store },
    reconcile: { value: (reconcileOptions?: ReconcileOptions) => flow.reconcile(reconcileOptions) },
  });
  return router;
}

/**
 * The ePayment routes: `POST initiatePath` (an order id in, a payment link out) and `GET returnPath`
 * (Khalti sends the customer back; lookup decides; redirect to the app's success or failure URL).
 */
function mountEpayment<Req extends Request>(
  router: Router,
  config: Config<Req> & { epayment: NonNullable<Config<Req>['epayment']> },
  flow: VerificationFlow<Req>,
  client: KhaltiClient,
  log: Log,
  parts: { refuseWhenFull: RequestHandler; bodyParsers: RequestHandler[]; onBodyError: ErrorRequestHandler },
): void {
  const { epayment } = config;
  const initiator = new EpaymentInitiator<Req>(config, client, log);
  const initiate: RequestHandler = (req, res) => {
    initiator
      .run(req.body, req as Req)
      .then((result) => (result.ok ? sendSuccess(res, result.body) : sendError(res, result.error)))
      .catch(() => sendError(res, new KhaltiError('internal_error')));
  };
  router.post(epayment.initiatePath, parts.refuseWhenFull, ...parts.bodyParsers, initiate, parts.onBodyError);

  const isSafeRedirect = redirectCheck(epayment);
  // Link prefetchers and some mail scanners send HEAD: Express would run the GET handler (the whole
  // verification, onVerified included) for it. Answer it without verifying anything.
  router.head(epayment.returnPath, (_req, res) => {
    res.writeHead(204, { 'Cache-Control': 'no-store' }).end();
  });
  router.get(epayment.returnPath, (req, res) => {
    // The query string is not proof of anything: only the pidx is read, and lookup decides.
    const query = req.query as Record<string, unknown>;
    const pidx = typeof query.pidx === 'string' && TOKEN_PATTERN.test(query.pidx) ? query.pidx : null;
    const go = (target: () => string): void => {
      let location: unknown;
      try {
        location = target();
      } catch (error) {
        log('error', 'successUrl or failureUrl threw', { error: error instanceof Error ? error.name : typeof error });
        return sendError(res, new KhaltiError('internal_error'));
      }
      if (!isSafeRedirect(location)) {
        log('error', 'successUrl or failureUrl gave a target off the shop’s origin (or scheme-relative); not redirecting. Encode the order id (encodeURIComponent) or list the origin in epayment.redirectOrigins');
        return sendError(res, new KhaltiError('internal_error'));
      }
      res.set('Cache-Control', 'no-store').redirect(302, location);
    };
    // Nothing else in the query is used, not even purchase_order_id: the order comes from our ledger.
    if (pidx === null) return go(() => epayment.failureUrl('', 'invalid_request'));
    flow
      .runPidx(pidx, null, req as Req)
      .then((outcome) =>
        outcome.ok
          ? go(() => epayment.successUrl(outcome.body.orderId))
          : go(() => epayment.failureUrl(outcome.orderId ?? '', outcome.error.code)),
      )
      .catch(() => sendError(res, new KhaltiError('internal_error')));
  });
}

/**
 * Where the return route may send the customer: a path on the shop, or an absolute http(s) URL on the
 * origin of `returnUrl` or `websiteUrl` or one the app listed in `redirectOrigins`. A target is resolved
 * the way the customer's browser resolves a `Location` (against `returnUrl`), so `//evil.example`,
 * `/\\evil.example` and `https://evil.example` are all refused.
 */
function redirectCheck(epayment: { returnUrl: string; websiteUrl: string; redirectOrigins?: string[] }): (target: unknown) => target is string {
  const allowed = new Set([epayment.returnUrl, epayment.websiteUrl, ...(epayment.redirectOrigins ?? [])].map((url) => new URL(url).origin));
  return (target): target is string => {
    if (typeof target !== 'string' || target === '') return false;
    let url: URL;
    try {
      url = new URL(target, epayment.returnUrl);
    } catch {
      return false;
    }
    return (url.protocol === 'https:' || url.protocol === 'http:') && allowed.has(url.origin);
  };
}

/** Refuse a missing body (400) or any type other than JSON and form posts (415) before reading it. */
const requireFormOrJson: RequestHandler = (req, res, next) => {
  const type = req.is(ACCEPTED_TYPES);
  if (type) return next();
  const empty = type === null || (req.headers['content-type'] === undefined && req.headers['content-length'] === '0');
  if (empty) return sendError(res, new KhaltiError('invalid_request', { details: ['body'] }));
  sendError(res, new KhaltiError('invalid_request', { statusCode: 415, message: 'Send the body as application/json or application/x-www-form-urlencoded.' }));
};

/** body-parser's errors → contract responses, so nothing reaches Express' HTML error page. */
function bodyErrorHandler(log: Log): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) return next(error);
    const type = typeof error === 'object' && error !== null ? (error as { type?: unknown }).type : undefined;
    switch (type) {
      case 'entity.too.large':
        return sendError(res, new KhaltiError('request_too_large'));
      case 'entity.parse.failed':
      case 'parameters.too.many':
        return sendError(res, new KhaltiError('invalid_request', { details: ['body'] }));
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return sendError(res, new KhaltiError('invalid_request', { statusCode: 415, message: 'Unsupported body encoding or charset.' }));
      default:
        log('error', 'could not read the request body', { type: typeof type === 'string' ? type : undefined });
        return sendError(res, new KhaltiError('invalid_request', { details: ['body'] }));
    }
  };
}
