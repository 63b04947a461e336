// Fault injection for the sandbox: what production Khalti does on a bad day, queued per call.

/**
 * What a faulty call does:
 * - `server_error`: answers `status` (default 503) with Khalti's "service temporarily unavailable".
 * - `drop`: destroys the connection without an answer.
 * - `hang`: never answers (until the client gives up or the sandbox closes); the call is not processed.
 * - `lost_reply`: processes the call (a verify completes the payment, a refund is applied) but never
 *   answers: the worst case, where Khalti moved the money and the merchant never heard.
 * - `non_json`: answers 200 with an HTML page.
 * - `unauthorized`: answers 401 `{"detail": "Invalid token.", "status_code": 401}` (our key refused).
 * - `wrong_amount`: verify completes the payment but reports `amount` (default: the real amount + 100).
 * - `refunded`: verify completes the payment, then it is refunded: the record says `refunded: true`.
 */
export type FaultKind = 'server_error' | 'drop' | 'hang' | 'lost_reply' | 'non_json' | 'unauthorized' | 'wrong_amount' | 'refunded';

/**
 * The sandbox endpoints a fault can target. `server` = every secret-key call (verify, status, ePayment
 * initiate and lookup, refund); `initiate` and `confirm` are the widget's client API.
 */
export type FaultTarget = 'verify' | 'status' | 'epayment_initiate' | 'lookup' | 'refund' | 'server' | 'initiate' | 'confirm' | 'any';

export interface FaultOptions {
  /** How many matching calls it affects. Defaults to `1`. */
  times?: number;
  /** Which calls it affects. Defaults to `verify` for `wrong_amount` and `refunded`, else `server`. */
  on?: FaultTarget;
  /** For `server_error`: the HTTP status. Defaults to `503`. */
  status?: number;
  /** For `wrong_amount`: the amount verify reports. Defaults to the real amount + 100. */
  amount?: number;
}

export interface Fault extends Required<Pick<FaultOptions, 'on'>> {
  kind: FaultKind;
  remaining: number;
  status?: number;
  amount?: number;
}

export type Endpoint = 'verify' | 'status' | 'epayment_initiate' | 'lookup' | 'refund' | 'initiate' | 'confirm' | 'other';

const SERVER_ENDPOINTS: ReadonlySet<Endpoint> = new Set(['verify', 'status', 'epayment_initiate', 'lookup', 'refund']);

function targets(on: FaultTarget, endpoint: Endpoint): boolean {
  if (on === 'any') return true;
  if (on === 'server') return SERVER_ENDPOINTS.has(endpoint);
  return on === endpoint;
}

/** The fault controls of a sandbox. Faults apply in the order injected; `latencyMs` delays every API answer. */
export class SandboxFaults {
  /** Delay before every API answer, in ms. Defaults to `0`. */
  latencyMs = 0;
  readonly #queue: Fault[] = [];

  /** Make the next `times` matching calls fail with `kind`. Returns `this` for chaining. */
  inject(kind: FaultKind, options: FaultOptions = {}): this {
    const verifyOnly = kind === 'wrong_amount' || kind === 'refunded';
    const fault: Fault = { kind, remaining: options.times ?? 1, on: options.on ?? (verifyOnly ? 'verify' : 'server') };
    if (options.status !== undefined) fault.status = options.status;
    if (options.amount !== undefined) fault.amount = options.amount;
    this.#queue.push(fault);
    return this;
  }

  /** Remove every queued fault and the latency. */
  clear(): void {
    this.#queue.length = 0;
    this.latencyMs = 0;
  }

  /** Faults still queued (copies). */
  get pending(): Fault[] {
    return this.#queue.map((fault) => ({ ...fault }));
  }

  /** Take the fault the next call to `endpoint` suffers, if any. */
  take(endpoint: Endpoint): Fault | undefined {
    const index = this.#queue.findIndex((fault) => targets(fault.on, endpoint));
    if (index < 0) return undefined;
    const fault = this.#queue[index]!;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.#queue.splice(index, 1);
    return { ...fault };
  }
}
