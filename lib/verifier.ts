// khaltiVerifier(): the composition root. Options in; the store, the Khalti client, the flow and the
// initiator made; the routes mounted on an Express router, which is returned.

import express, { type Request, type Router } from 'express';
import type { FlowDeps } from './flow/deps';
import { EpaymentInitiator } from './flow/initiate';
import { VerificationFlow } from './flow/verify';
import { mountEpayment } from './http/epayment-routes';
import { mountVerify } from './http/verify-route';
import type { KhaltiApi } from './khalti/api';
import { clientFor } from './khalti/client';
import { DEFAULT_RETRY_BASE_MS } from './khalti/options';
import { MemoryStore } from './ledger/memory';
import type { LedgerStore } from './ledger/store';
import { KhaltiError } from './errors';
import { warnAtStartup } from './guard-rails';
import { createTracing, type Tracing } from './tracing';
import { createLog } from './log';
import { parseOptions, type Config } from './options';
import { refund } from './flow/refund';
import { settleRefund } from './flow/settle-refund';
import type {
  HandSettled,
  HandSettlement,
  KhaltiVerifierOptions,
  ReconcileOptions,
  ReconcileSummary,
  RefundKey,
  RefundOptions,
  RefundReceipt,
} from './types';

/** The router `khaltiVerifier()` returns, with its Khalti client and ledger store. */
export interface KhaltiVerifierRouter extends Router {
  /** The Khalti API the router verifies with: a `KhaltiClient`, or the `client` option. */
  readonly client: KhaltiApi;
  /** The ledger store the router records payments in. */
  readonly store: LedgerStore;
  /** Re-drive payments a crash left behind (see the README's "Leases and reconcile()"). */
  reconcile(options?: ReconcileOptions): Promise<ReconcileSummary>;
  /**
   * Refund a settled payment, whole or in part, exactly once (docs/refunds.md). Rejects with a
   * `KhaltiError`: `refund_not_allowed`, `refund_too_large`, `refund_in_progress`, `refund_rejected`,
   * `refund_unknown` or `invalid_request`.
   */
  refund(key: RefundKey, options?: RefundOptions): Promise<RefundReceipt>;
  /**
   * Settle a pending refund of unknown outcome by hand, after checking Khalti's merchant dashboard (for
   * the ones Khalti's state cannot settle). Posts nothing. Rejects with `refund_not_allowed`,
   * `refund_in_progress` or `invalid_request`.
   */
  settleRefund(key: RefundKey, settlement: HandSettlement): Promise<HandSettled>;
  /** Verifications in flight right now (at most `maxInFlight`): the metrics' gauge. */
  readonly inFlight: number;
}

/**
 * Build the router that mounts `POST {path}` (default `/khalti/verify`), and the ePayment routes when
 * `epayment` is set. Options are validated here, once: a wrong option throws a `KhaltiError`
 * (`invalid_option`, `store_required`) at start-up.
 */
export function khaltiVerifier<Req extends Request = Request>(options: KhaltiVerifierOptions<Req>): KhaltiVerifierRouter {
  const config = parseOptions(options);
  const log = createLog(config.logger, config.secretKey);
  warnAtStartup(log, {
    secretKey: config.secretKey,
    baseUrl: config.client ? undefined : config.baseUrl,
    env: process.env,
    epayment: Boolean(config.epayment),
  });
  const tracing = config.tracing ? tracingOrFix() : undefined;
  const plainClient =
    config.client ??
    clientFor({ secretKey: config.secretKey, baseUrl: config.baseUrl, timeoutMs: config.timeoutMs, retryBaseMs: DEFAULT_RETRY_BASE_MS });
  const client = tracing ? tracing.traceClient(plainClient, config.client ? undefined : config.baseUrl) : plainClient;
  const deps: FlowDeps<Req> = { config, client, store: config.store ?? new MemoryStore(), log, ...(tracing ? { tracing } : {}) };
  const flow = new VerificationFlow<Req>(deps);

  const router = express.Router() as KhaltiVerifierRouter;
  mountVerify(router, config.path, config.bodyLimit, flow, log);
  if (config.epayment) {
    mountEpayment(
      router,
      config as Config<Req> & { epayment: NonNullable<Config<Req>['epayment']> },
      flow,
      new EpaymentInitiator<Req>(deps),
      log,
    );
  }
  Object.defineProperties(router, {
    client: { value: client },
    store: { value: deps.store },
    reconcile: { value: (reconcileOptions?: ReconcileOptions) => flow.reconcile(reconcileOptions) },
    refund: { value: (key: RefundKey, refundOptions?: RefundOptions) => refund(deps, key, refundOptions) },
    settleRefund: { value: (key: RefundKey, settlement: HandSettlement) => settleRefund(deps, key, settlement) },
    inFlight: { get: () => flow.admission.inFlight },
  });
  return router;
}

/** The tracing, or the start-up error naming what to install. */
function tracingOrFix(): Tracing {
  try {
    return createTracing();
  } catch (error) {
    throw new KhaltiError('invalid_option', { message: `khalti-express: ${(error as Error).message}` });
  }
}
