// Which path is which Khalti endpoint, its method, whether it needs the secret key, and who answers it.

import type { SandboxContext } from './context';
import { epaymentInitiate, epaymentLookup } from './epayment-api';
import type { Endpoint, Fault } from './faults';
import { json, NOT_FOUND, type Body, type Reply } from './http';
import { refund, REFUND_PATH } from './refund-api';
import { banks, confirm, initiate } from './widget-client-api';
import { authorize, status, verify } from './widget-server-api';

/** One API call as the route table sees it. */
export interface Call {
  method: string;
  path: string;
  query: Body;
  body: Body | null;
  fault: Fault | undefined;
  authorization: string | undefined;
}

interface Route {
  method: 'GET' | 'POST';
  /** Needs `Authorization: Key <secret key>`. */
  secret: boolean;
  answer(context: SandboxContext, call: Call): Reply;
}

const ROUTES: ReadonlyMap<string, Route> = new Map(
  Object.entries({
    '/api/v2/payment/verify/': { method: 'POST', secret: true, answer: (c, call) => verify(c, call.body ?? {}, call.fault) },
    '/api/v2/payment/status/': { method: 'GET', secret: true, answer: (c, call) => status(c, call.query) },
    '/api/v2/payment/initiate/': { method: 'POST', secret: false, answer: (c, call) => initiate(c, call.body ?? {}) },
    '/api/v2/payment/confirm/': { method: 'POST', secret: false, answer: (c, call) => confirm(c, call.body ?? {}) },
    '/api/v2/epayment/initiate/': { method: 'POST', secret: true, answer: (c, call) => epaymentInitiate(c, call.body ?? {}) },
    '/api/v2/epayment/lookup/': { method: 'POST', secret: true, answer: (c, call) => epaymentLookup(c, String(call.body?.pidx ?? '')) },
    '/api/v2/bank/': { method: 'GET', secret: false, answer: () => banks() },
  } satisfies Record<string, Route>),
);

/** The widget's client API is called from browsers; the server API is not (as at Khalti: no CORS). */
export const CLIENT_API: ReadonlySet<string> = new Set(['/api/v2/payment/initiate/', '/api/v2/payment/confirm/', '/api/v2/bank/']);

export function route(context: SandboxContext, call: Call): Reply {
  const refunded = REFUND_PATH.exec(call.path);
  const entry = refunded
    ? ({
        method: 'POST',
        secret: true,
        answer: (c, refundCall) => refund(c, decodeURIComponent(refunded[1]!), refundCall.body),
      } satisfies Route)
    : ROUTES.get(call.path);
  if (!entry) return NOT_FOUND;
  if (call.method !== entry.method) return json(405, { detail: `Method "${call.method}" not allowed.` });
  return (entry.secret ? authorize(context, call.authorization) : undefined) ?? entry.answer(context, call);
}

/** The endpoint a fault targets. */
export function endpointOf(path: string): Endpoint {
  if (path === '/api/v2/epayment/initiate/') return 'epayment_initiate';
  if (path === '/api/v2/epayment/lookup/') return 'lookup';
  if (REFUND_PATH.test(path)) return 'refund';
  const name = /^\/api\/v2\/payment\/(verify|status|initiate|confirm)\/$/.exec(path)?.[1];
  return (name as Endpoint | undefined) ?? 'other';
}
