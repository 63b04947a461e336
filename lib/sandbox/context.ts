// What every room of the sandbox shares: its keys, its settings and its books of payments.

import type { EpaymentBook } from './epayment';
import type { SandboxFaults } from './faults';
import type { PaymentBook } from './payments';
import type { SandboxRequest } from './types';

export interface SandboxContext {
  readonly secretKey: string;
  readonly publicKey: string;
  readonly alreadyVerified: 'record' | 'invalid_token';
  readonly autoPay: boolean;
  readonly recordRequests: boolean;
  readonly book: PaymentBook;
  readonly epayments: EpaymentBook;
  readonly faults: SandboxFaults;
  readonly requests: SandboxRequest[];
  /** Known once the server listens. */
  baseUrl: string;
}
