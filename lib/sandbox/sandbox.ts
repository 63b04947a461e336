// createKhaltiSandbox(): a local Khalti on loopback, put together from its rooms: the widget's server
// API (widget-server-api.ts) and client API (widget-client-api.ts), ePayment and its hosted page
// (epayment-api.ts), the route table, faults, the control API, and the HTTP plumbing (server.ts, http.ts).

import type { SandboxContext } from './context';
import { controlApi } from './control';
import { EpaymentBook, type EpaymentStatus, type SandboxEpayment } from './epayment';
import { SandboxFaults } from './faults';
import { khaltiKey, PaymentBook, type NewPayment, type SandboxPayment, type SandboxPaymentState } from './payments';
import { listen } from './server';
import type { KhaltiSandbox, KhaltiSandboxOptions } from './types';

/** Start a sandbox. Resolves once it listens. */
export async function createKhaltiSandbox(options: KhaltiSandboxOptions = {}): Promise<KhaltiSandbox> {
  const context: SandboxContext = {
    secretKey: options.secretKey ?? khaltiKey('test_secret_key'),
    publicKey: options.publicKey ?? khaltiKey('test_public_key'),
    alreadyVerified: options.alreadyVerified ?? 'record',
    autoPay: options.autoPay ?? false,
    recordRequests: options.recordRequests ?? true,
    book: new PaymentBook(),
    epayments: new EpaymentBook(),
    faults: new SandboxFaults(),
    requests: [],
    baseUrl: '',
  };
  const server = await listen(context, options.port ?? 0, options.host ?? '127.0.0.1');
  context.baseUrl = server.baseUrl;
  return {
    baseUrl: context.baseUrl,
    secretKey: context.secretKey,
    publicKey: context.publicKey,
    requests: context.requests,
    faults: context.faults,
    ...controlApi(context),
    close: () => server.close(),
  };
}

export type { KhaltiSandbox, KhaltiSandboxOptions, SandboxRequest } from './types';
export type { SandboxPayment, SandboxPaymentState, NewPayment, SandboxEpayment, EpaymentStatus };
