// `registerKhaltiMetrics(router, { registry?, prefix? })`: Prometheus metrics from the package's events
// (events.ts), with prom-client (an optional peer dependency). Low-cardinality labels only: never an
// order id, a token or an amount.

import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type * as PromClient from 'prom-client';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { KHALTI_CHANNEL, OVERLOADED_CHANNEL, PAYMENT_CHANNEL, RECONCILE_CHANNEL, type KhaltiCallEvent, type PaymentEvent } from '../events';
import type { KhaltiVerifierRouter } from '../verifier';

export interface KhaltiMetricsOptions {
  /** Where the metrics are registered. Defaults to prom-client's global `register`. */
  registry?: Registry;
  /** Prepended to every metric name, e.g. `shop_` gives `shop_khalti_payments_total`. Defaults to none. */
  prefix?: string;
}

export interface KhaltiMetrics {
  /** Stop counting and remove the metrics from the registry. */
  unregister(): void;
}

/** Khalti's answer to a call takes from tens of ms to the client's timeout (default 10 s). */
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16];

/** A metric's registered name (prom-client keeps it on the instance). */
const metricName = (metric: Counter | Gauge | Histogram): string => (metric as unknown as { name: string }).name;

function promClient(): typeof PromClient {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- an optional peer, loaded when used
    return require('prom-client') as typeof PromClient;
  } catch {
    throw new Error('registerKhaltiMetrics needs prom-client: npm install prom-client');
  }
}

/**
 * Register the metrics and start counting. The events are process-wide: every khalti-express router in
 * the process feeds the counters; the in-flight gauge is `router`'s own.
 */
export function registerKhaltiMetrics(router: KhaltiVerifierRouter, options: KhaltiMetricsOptions = {}): KhaltiMetrics {
  if (!router || typeof router.reconcile !== 'function')
    throw new Error('registerKhaltiMetrics: pass the router khaltiVerifier() returned');
  const client = promClient();
  const registry = options.registry ?? client.register;
  const prefix = options.prefix ?? '';
  if (!/^[a-zA-Z_:]?[a-zA-Z0-9_:]*$/.test(prefix))
    throw new Error(`registerKhaltiMetrics: prefix ${JSON.stringify(prefix)} is not a Prometheus name prefix`);
  const name = (base: string) => `${prefix}${base}`;
  const taken = [
    'khalti_payments_total',
    'khalti_api_requests_total',
    'khalti_api_duration_seconds',
    'khalti_verifications_in_flight',
    'khalti_overloaded_total',
    'khalti_reconcile_runs_total',
  ].filter((base) => registry.getSingleMetric(name(base)) !== undefined);
  if (taken.length > 0) {
    throw new Error(
      `registerKhaltiMetrics: ${taken.join(', ')} already registered in this registry (a second router, or a second call). ` +
        'Register once per process, or give each router its own `registry` (new Registry()) or `prefix`.',
    );
  }
  const registers = [registry];
  const payments: Counter = new client.Counter({
    name: name('khalti_payments_total'),
    help: 'Finished verification attempts, by flow, outcome (verified, replayed, failed) and error code.',
    labelNames: ['flow', 'outcome', 'code'],
    registers,
  });
  const requests: Counter = new client.Counter({
    name: name('khalti_api_requests_total'),
    help: 'HTTP calls to Khalti, by endpoint and the client’s classification of the answer.',
    labelNames: ['endpoint', 'outcome'],
    registers,
  });
  const duration: Histogram = new client.Histogram({
    name: name('khalti_api_duration_seconds'),
    help: 'How long Khalti took to answer, by endpoint.',
    labelNames: ['endpoint'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const inFlight: Gauge = new client.Gauge({
    name: name('khalti_verifications_in_flight'),
    help: 'Verifications in flight right now (at most maxInFlight).',
    registers,
    collect() {
      this.set(router.inFlight);
    },
  });
  const overloaded: Counter = new client.Counter({
    name: name('khalti_overloaded_total'),
    help: 'Verifications refused with 503 overloaded.',
    registers,
  });
  const reconciles: Counter = new client.Counter({
    name: name('khalti_reconcile_runs_total'),
    help: 'reconcile() runs.',
    registers,
  });
  const listeners: Array<[string, (message: unknown) => void]> = [
    [
      PAYMENT_CHANNEL,
      (message) => {
        const { flow, outcome, code } = message as PaymentEvent;
        payments.inc({ flow, outcome, code: code ?? '' });
      },
    ],
    [
      KHALTI_CHANNEL,
      (message) => {
        const { endpoint, outcome, durationMs } = message as KhaltiCallEvent;
        requests.inc({ endpoint, outcome });
        duration.observe({ endpoint }, durationMs / 1000);
      },
    ],
    [OVERLOADED_CHANNEL, () => overloaded.inc()],
    [RECONCILE_CHANNEL, () => reconciles.inc()],
  ];
  for (const [channel, listener] of listeners) subscribe(channel, listener);
  return {
    unregister() {
      for (const [channel, listener] of listeners) unsubscribe(channel, listener);
      for (const metric of [payments, requests, duration, inFlight, overloaded, reconciles])
        registry.removeSingleMetric(metricName(metric));
    },
  };
}
