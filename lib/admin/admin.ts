// `khaltiAdmin(router, { authorize })`: the operator's pages over a verifier's ledger (summary, payments,
// one payment) and its two actions (reconcile now, refund), mounted wherever the app likes. Every request
// is authorized first; every action is a POST with a CSRF check, answered with a redirect (PRG).

import { randomBytes } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { isKhaltiError } from '../errors';
import { PAYMENT_STATES } from '../ledger/listing';
import type { PaymentState } from '../ledger/store';
import type { KhaltiVerifierRouter } from '../verifier';
import { cookies, csrfRefusal, csrfToken, FLASH_COOKIE, setCookie } from './csrf';
import { html, page, rupees, type Safe } from './html';
import { parseRupees } from './money-input';
import { listView, paymentView, summaryView } from './views';

export interface KhaltiAdminOptions<Req extends Request = Request> {
  /**
   * Required. Whether this request may see and act on the ledger (may be async). Denied requests get
   * 403 with nothing of the ledger in them; a throw counts as a denial.
   */
  authorize: (req: Req) => boolean | Promise<boolean>;
  /** Records per page of the payments list. Defaults to `50`. */
  pageSize?: number;
  /** Where errors of the admin itself go. Defaults to `console.error`. */
  logError?: (message: string) => void;
}

const PAGE_SIZE = 50;

function startupError(message: string): Error {
  return Object.assign(new Error(`khaltiAdmin: ${message}`), { name: 'KhaltiAdminOptionError' });
}

/** The admin router. Throws at start-up without `authorize`, or without a verifier router to work on. */
export function khaltiAdmin<Req extends Request = Request>(khalti: KhaltiVerifierRouter, options: KhaltiAdminOptions<Req>): Router {
  if (
    !khalti ||
    typeof khalti.reconcile !== 'function' ||
    typeof khalti.refund !== 'function' ||
    typeof khalti.settleRefund !== 'function' ||
    !khalti.store
  )
    throw startupError('the first argument must be the router khaltiVerifier() returned.');
  if (typeof options?.authorize !== 'function')
    throw startupError('`authorize(req)` is required: return true only for your shop’s operators (e.g. check the session’s role).');
  const pageSize = options.pageSize ?? PAGE_SIZE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 1000)
    throw startupError('`pageSize` must be a whole number from 1 to 1000.');
  const logError = options.logError ?? ((message: string) => console.error(message));
  const { store } = khalti;
  const admin = express.Router();

  admin.use(async (req: Request, res: Response, next: NextFunction) => {
    const nonce = randomBytes(16).toString('base64');
    res.locals.khxNonce = nonce;
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader(
      'Content-Security-Policy',
      `default-src 'none'; style-src 'nonce-${nonce}'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    );
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on the admin's own form posts.
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader('X-Frame-Options', 'DENY');
    let allowed = false;
    try {
      allowed = (await options.authorize(req as Req)) === true;
    } catch (error) {
      logError(`khalti-express admin: authorize() threw; request denied (${(error as Error)?.name ?? 'error'})`);
    }
    if (!allowed) {
      res.status(403).type('text/plain').send('Forbidden');
      return;
    }
    next();
  });
  admin.use(express.urlencoded({ extended: false, limit: '8kb' }));

  /** Read and clear the flash notice a redirect left. */
  const takeNotice = (req: Request, res: Response) => {
    const raw = cookies(req)[FLASH_COOKIE];
    if (raw === undefined) return null;
    setCookie(res, req, FLASH_COOKIE, '', 0);
    try {
      const parsed = JSON.parse(raw) as { text?: unknown; error?: unknown };
      return typeof parsed.text === 'string' ? { text: parsed.text.slice(0, 500), error: parsed.error === true } : null;
    } catch {
      return null;
    }
  };
  const redirectWith = (req: Request, res: Response, to: string, text: string, error = false) => {
    setCookie(res, req, FLASH_COOKIE, JSON.stringify({ text, error }), 60);
    res.redirect(303, to);
  };
  const render = (req: Request, res: Response, title: string, body: Safe, status = 200) => {
    res
      .status(status)
      .type('html')
      .send(page({ title, base: req.baseUrl, nonce: String(res.locals.khxNonce), notice: takeNotice(req, res), body }));
  };
  const failed = (req: Request, res: Response) => (error: unknown) => {
    logError(`khalti-express admin: ${(error as Error)?.name ?? 'error'}: ${(error as Error)?.message ?? ''}`.slice(0, 300));
    render(
      req,
      res,
      'Error',
      html`<h1>Something went wrong</h1>
        <p>The ledger could not be read; the server log says why.</p>`,
      500,
    );
  };

  admin.get('/', (req, res) => {
    store.totals().then((totals) => render(req, res, 'Summary', summaryView(req.baseUrl, totals, csrfToken(req, res))), failed(req, res));
  });

  admin.get('/payments', (req, res) => {
    const state =
      typeof req.query.state === 'string' && PAYMENT_STATES.includes(req.query.state as PaymentState)
        ? (req.query.state as PaymentState)
        : undefined;
    const orderId = typeof req.query.order === 'string' && req.query.order.trim() !== '' ? req.query.order.trim().slice(0, 200) : undefined;
    const before = typeof req.query.before === 'string' ? req.query.before : null;
    store
      .list({ ...(state ? { state } : {}), ...(orderId ? { orderId } : {}), before, limit: pageSize })
      .then((listed) => render(req, res, 'Payments', listView(req.baseUrl, listed.records, { state, orderId }, listed.next)))
      .catch((error: unknown) => (before !== null ? res.redirect(303, `${req.baseUrl}/payments`) : failed(req, res)(error)));
  });

  admin.get('/payments/:key', (req, res) => {
    store.get(String(req.params.key)).then(
      (record) => {
        if (!record) return render(req, res, 'Not found', notFound(), 404);
        render(req, res, `Order ${record.orderId}`, paymentView(req.baseUrl, record, csrfToken(req, res)));
      },
      failed(req, res),
    );
  });

  admin.post('/reconcile', (req, res) => {
    const refused = csrfRefusal(req);
    if (refused) return refuse(res, refused);
    khalti.reconcile().then(
      ({ fulfilled, released, unsettled, refunds }) =>
        redirectWith(
          req,
          res,
          `${req.baseUrl}/`,
          `Reconciled: ${fulfilled} fulfilled, ${released} released, ${unsettled} unsettled; ` +
            `refunds: ${refunds.resolved} resolved, ${refunds.pending} pending, ${refunds.refunded} made.`,
        ),
      (error: unknown) => redirectWith(req, res, `${req.baseUrl}/`, `Reconcile failed: ${messageOf(error)}`, true),
    );
  });

  admin.post('/payments/:key/refund', (req, res) => {
    const refused = csrfRefusal(req);
    if (refused) return refuse(res, refused);
    const key = String(req.params.key);
    const back = `${req.baseUrl}/payments/${encodeURIComponent(key)}`;
    const asked = (req.body as Record<string, unknown>).amount;
    const amount = typeof asked === 'string' && asked.trim() !== '' ? parseRupees(asked) : undefined;
    if (amount === null)
      return redirectWith(req, res, back, 'Refund not made: the amount must be rupees with at most two decimals, like 150 or 12.50.', true);
    const refundKey = key.startsWith('pidx:') ? { pidx: key.slice('pidx:'.length) } : { token: key };
    khalti.refund(refundKey, amount === undefined ? {} : { amount }).then(
      (made) => redirectWith(req, res, back, `Refunded ${rupees(made.amount)}; ${rupees(made.remaining)} left.`),
      (error: unknown) => redirectWith(req, res, back, `Refund not made: ${messageOf(error)}`, true),
    );
  });

  admin.post('/payments/:key/settle-refund', (req, res) => {
    const refused = csrfRefusal(req);
    if (refused) return refuse(res, refused);
    const key = String(req.params.key);
    const back = `${req.baseUrl}/payments/${encodeURIComponent(key)}`;
    const { refundId, outcome } = req.body as Record<string, unknown>;
    const refundKey = key.startsWith('pidx:') ? { pidx: key.slice('pidx:'.length) } : { token: key };
    khalti.settleRefund(refundKey, { refundId: String(refundId ?? ''), outcome: outcome as 'refunded' | 'not_refunded' }).then(
      (settled) =>
        redirectWith(
          req,
          res,
          back,
          `Refund settled as ${settled.outcome === 'refunded' ? 'made' : 'not made'}; ${rupees(settled.remaining)} left.`,
        ),
      (error: unknown) => redirectWith(req, res, back, `Not settled: ${messageOf(error)}`, true),
    );
  });

  return admin;
}

function refuse(res: Response, why: string): void {
  res.status(403).type('text/plain').send(`Refused: ${why}. Reload the page and try again.`);
}

function messageOf(error: unknown): string {
  if (isKhaltiError(error)) return `${error.message}${error.details?.length ? ` (${error.details.join('; ')})` : ''} [${error.code}]`;
  return 'an internal error (see the server log).';
}

function notFound(): Safe {
  return html`<h1>No such payment</h1>
    <p>The ledger has no payment under this key.</p>`;
}
