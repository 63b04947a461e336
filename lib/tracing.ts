// OpenTelemetry tracing (`tracing: true`): a span per verification attempt and a child span per call to
// Khalti, named and attributed as OpenTelemetry's HTTP client conventions say, with the contract's code
// as the error status. No token reaches a span: URLs are built without their query (the status call's
// `?token=`, which default URL redaction does not hide), and HTTP instrumentation is suppressed inside
// our Khalti calls so that it cannot record the raw URL either.

import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import type * as OtelApi from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import { KHALTI_CHANNEL, type KhaltiCallEvent, type KhaltiEndpoint } from './events';
import type { KhaltiApi } from './khalti/api';

/** The key OpenTelemetry's SDK reads to suppress instrumentation (`suppressTracing` in @opentelemetry/core). */
const SUPPRESS_TRACING = 'OpenTelemetry SDK Context Key SUPPRESS_TRACING';

const CALLS: Readonly<Record<KhaltiEndpoint, { method: 'GET' | 'POST'; template: string }>> = {
  verify: { method: 'POST', template: '/api/v2/payment/verify/' },
  status: { method: 'GET', template: '/api/v2/payment/status/' },
  initiate: { method: 'POST', template: '/api/v2/epayment/initiate/' },
  lookup: { method: 'POST', template: '/api/v2/epayment/lookup/' },
  refund: { method: 'POST', template: '/api/merchant-transaction/{transaction_id}/refund/' },
};

const API_METHODS: Readonly<Record<keyof KhaltiApi, KhaltiEndpoint>> = {
  verify: 'verify',
  status: 'status',
  initiate: 'initiate',
  lookup: 'lookup',
  refund: 'refund',
};

/** What an attempt span says once its attempt is over. */
export interface AttemptEnd {
  flow?: 'widget' | 'epayment';
  outcome: 'verified' | 'replayed' | 'failed';
  code?: string;
  orderId?: string | null;
}

export interface Tracing {
  /** Run `work` as one verification attempt's span; `end` describes how it went. */
  attempt<T>(source: 'request' | 'reconcile', work: () => Promise<T>, end: (result: T) => AttemptEnd): Promise<T>;
  /** `client` with a child span per call. */
  traceClient(client: KhaltiApi, baseUrl: string | undefined): KhaltiApi;
}

function loadApi(): typeof OtelApi {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- an optional peer, loaded only with tracing: true
    return require('@opentelemetry/api') as typeof OtelApi;
  } catch {
    throw new Error('tracing: true needs @opentelemetry/api: npm install @opentelemetry/api');
  }
}

export function createTracing(): Tracing {
  const otel = loadApi();
  const tracer = otel.trace.getTracer('khalti-express');
  const attempts = new AsyncLocalStorage<Span>();
  const calls = new AsyncLocalStorage<Span>();
  // Khalti's HTTP status comes from the client's own event, published inside the call.
  subscribe(KHALTI_CHANNEL, (message) => {
    const { httpStatus } = message as KhaltiCallEvent;
    if (httpStatus !== undefined) calls.getStore()?.setAttribute('http.response.status_code', httpStatus);
  });
  const parentContext = () => {
    const attempt = attempts.getStore();
    return attempt ? otel.trace.setSpan(otel.context.active(), attempt) : otel.context.active();
  };

  return {
    async attempt(source, work, end) {
      const span = tracer.startSpan('khalti verify payment', { attributes: { 'khalti.source': source } }, otel.context.active());
      try {
        const result = await attempts.run(span, work);
        const { flow, outcome, code, orderId } = end(result);
        span.setAttributes({
          'khalti.outcome': outcome,
          ...(flow ? { 'khalti.flow': flow } : {}),
          ...(orderId ? { 'khalti.order_id': orderId } : {}),
        });
        if (code) {
          span.setAttribute('error.type', code);
          span.setStatus({ code: otel.SpanStatusCode.ERROR, message: code });
        }
        return result;
      } finally {
        span.end();
      }
    },
    traceClient(client, baseUrl) {
      const origin = baseUrl ? new URL(baseUrl) : null;
      const traced = Object.create(client) as KhaltiApi;
      for (const [method, endpoint] of Object.entries(API_METHODS) as Array<[keyof KhaltiApi, KhaltiEndpoint]>) {
        const original = (client[method] as (...args: unknown[]) => Promise<{ kind: string; reason?: string }>).bind(client);
        const call = CALLS[endpoint];
        (traced as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
          const span = tracer.startSpan(
            `${call.method} ${call.template}`,
            {
              kind: otel.SpanKind.CLIENT,
              attributes: {
                'http.request.method': call.method,
                'url.template': call.template,
                'khalti.endpoint': endpoint,
                ...(origin
                  ? {
                      'server.address': origin.hostname,
                      'server.port': Number(origin.port || (origin.protocol === 'https:' ? 443 : 80)),
                      // Never the query: the status call's carries the token.
                      'url.full': `${origin.origin}${call.template}`,
                    }
                  : {}),
              },
            },
            parentContext(),
          );
          const quiet = otel.trace.setSpan(otel.context.active(), span).setValue(otel.createContextKey(SUPPRESS_TRACING), true);
          try {
            const outcome = await calls.run(span, () => otel.context.with(quiet, () => original(...args)));
            span.setAttribute('khalti.outcome', outcome.kind);
            if (outcome.kind === 'unavailable' || outcome.kind === 'auth_failed') {
              span.setAttribute('error.type', outcome.kind === 'unavailable' ? (outcome.reason ?? 'unavailable') : 'auth_failed');
              span.setStatus({ code: otel.SpanStatusCode.ERROR, message: outcome.kind });
            }
            return outcome;
          } catch (error) {
            span.setAttribute('error.type', 'exception');
            span.setStatus({ code: otel.SpanStatusCode.ERROR, message: 'the Khalti client threw' });
            throw error;
          } finally {
            span.end();
          }
        };
      }
      return traced;
    },
  };
}
