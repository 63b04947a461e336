// What every flow step works with: the resolved options, the Khalti API, the ledger and the log.

import type { KhaltiApi } from '../khalti/api';
import type { LedgerStore } from '../ledger/store';
import type { Log } from '../log';
import type { Config } from '../options';
import type { Tracing } from '../tracing';

export interface FlowDeps<Req> {
  config: Config<Req>;
  client: KhaltiApi;
  store: LedgerStore;
  log: Log;
  /** Spans, with `tracing: true`. */
  tracing?: Tracing;
}
