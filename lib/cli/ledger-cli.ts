// `khalti-ledger`: list, show, reconcile and refund from a terminal or a script, over the same ledger
// (and the same exactly-once rules) as the app. `run()` is the whole command; khalti-ledger.ts calls it.

import path from 'node:path';
import { parseArgs } from 'node:util';
import { isKhaltiError } from '../errors';
import { PAYMENT_STATES } from '../ledger/listing';
import type { LedgerStore, PaymentState } from '../ledger/store';
import type { RefundKey } from '../types';
import { khaltiVerifier, type KhaltiVerifierRouter } from '../verifier';
import { listTable, rupees, showText, time } from './format';
import { COMMAND_HELP, OVERVIEW } from './help';
import { openStore, UsageError } from './open-store';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** The next line of standard input, or `null` at its end. */
  readLine(): Promise<string | null>;
  env: Readonly<Record<string, string | undefined>>;
}

const OPTIONS = {
  store: { type: 'string' },
  table: { type: 'string' },
  app: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  state: { type: 'string' },
  order: { type: 'string' },
  limit: { type: 'string' },
  before: { type: 'string' },
  amount: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  made: { type: 'boolean' },
  'not-made': { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** Fulfilment is the app's: the command line records what Khalti says and leaves the order to it. */
class FulfilInApp extends Error {}

const wholeNumber = (text: string | undefined, name: string, max: number): number | undefined => {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > max)
    throw new UsageError(`--${name} must be a whole number from 1 to ${max}`);
  return n;
};

async function ledgerOf(values: Values, io: CliIo, needsKhalti: boolean): Promise<{ store: LedgerStore; router?: KhaltiVerifierRouter }> {
  const appModule = values.app ?? io.env.KHALTI_LEDGER_APP;
  if (appModule) {
    const loaded = (await import(path.resolve(appModule))) as {
      khalti?: KhaltiVerifierRouter;
      default?: { khalti?: KhaltiVerifierRouter };
    };
    const router = loaded.khalti ?? loaded.default?.khalti;
    if (!router || typeof router.reconcile !== 'function')
      throw new UsageError(`--app ${appModule} must export \`khalti\`, the router khaltiVerifier() returned`);
    return { store: router.store, router };
  }
  const spec = values.store ?? io.env.KHALTI_LEDGER_STORE;
  if (!spec)
    throw new UsageError('name the ledger: --store sqlite:PATH | postgres://… | redis://… (or KHALTI_LEDGER_STORE), or --app MODULE');
  const store = await openStore(spec, values.table);
  if (!needsKhalti) return { store };
  const secretKey = io.env.KHALTI_SECRET_KEY;
  if (!secretKey) throw new UsageError('set KHALTI_SECRET_KEY (the key is never taken as an argument, so it stays out of shell history)');
  const router = khaltiVerifier({
    secretKey,
    ...(io.env.KHALTI_BASE_URL ? { baseUrl: io.env.KHALTI_BASE_URL } : {}),
    store,
    // The ledger's amount was checked against the shop's price when the payment was claimed.
    expectedAmount: async (orderId) =>
      (await store.list({ orderId, limit: 10 })).records.find((r) => r.state === 'claimed' || r.state === 'verified')?.amount,
    onVerified: () => {
      throw new FulfilInApp('fulfilled by the app');
    },
    logger: { warn: (line) => io.err(line), error: (line) => (line.includes('onVerified') ? undefined : io.err(line)) },
  });
  return { store, router };
}

/** Run `khalti-ledger` with `argv` (no node, no script); resolves to the exit status. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  let store: LedgerStore | undefined;
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    const [command, ...rest] = positionals;
    if (!command || !(command in COMMAND_HELP)) {
      if (values.help && !command) return (io.out(OVERVIEW), 0);
      throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : 'name a command');
    }
    if (values.help) return (io.out(COMMAND_HELP[command]!), 0);
    const needsKey = command === 'show' || command === 'refund' || command === 'settle-refund';
    if (needsKey && rest.length !== 1) throw new UsageError(`${command} takes one KEY`);
    if (!needsKey && rest.length > 0) throw new UsageError(`${command} takes no ${JSON.stringify(rest[0])}`);
    if (command === 'settle-refund' && values.made === values['not-made'])
      throw new UsageError('settle-refund takes one of --made or --not-made');
    const ledger = await ledgerOf(values, io, command === 'reconcile' || command === 'refund' || command === 'settle-refund');
    store = ledger.store;
    const print = (json: unknown, text: string) => io.out(values.json ? JSON.stringify(json, null, 2) : text);
    switch (command) {
      case 'list': {
        const state = values.state as PaymentState | undefined;
        if (state !== undefined && !PAYMENT_STATES.includes(state))
          throw new UsageError(`--state must be one of ${PAYMENT_STATES.join(', ')}`);
        const limit = wholeNumber(values.limit, 'limit', 1000) ?? 50;
        const page = await store.list({
          ...(state ? { state } : {}),
          ...(values.order ? { orderId: values.order } : {}),
          before: values.before ?? null,
          limit,
        });
        print(page, `${listTable(page.records)}${page.next ? `\nmore: --before ${page.next}` : ''}`);
        return 0;
      }
      case 'show': {
        const record = await store.get(rest[0]!);
        if (!record) return (io.err(`khalti-ledger: no payment ${JSON.stringify(rest[0])}`), 1);
        print(record, showText(record));
        return 0;
      }
      case 'reconcile':
        return await reconcile(ledger.router!, store, wholeNumber(values.limit, 'limit', 1_000_000), values.json === true, io);
      case 'settle-refund':
        return await settleByHand(ledger.router!, store, rest[0]!, values, io);
      default:
        return await refund(ledger.router!, store, rest[0]!, wholeNumber(values.amount, 'amount', Number.MAX_SAFE_INTEGER), values, io);
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`khalti-ledger: ${(error as Error).message}\nRun \`khalti-ledger --help\` (or \`khalti-ledger <command> --help\`) for usage.`);
      return 2;
    }
    io.err(`khalti-ledger: ${isKhaltiError(error) ? `${error.message} [${error.code}]` : ((error as Error)?.message ?? String(error))}`);
    return 1;
  } finally {
    await store?.close?.().catch(() => undefined);
  }
}

async function reconcile(
  router: KhaltiVerifierRouter,
  store: LedgerStore,
  limit: number | undefined,
  json: boolean,
  io: CliIo,
): Promise<number> {
  const total = Math.min((await store.count({ state: 'claimed' })) + (await store.count({ state: 'verified' })), limit ?? Infinity);
  const sum = { fulfilled: 0, released: 0, unsettled: 0, refunds: { resolved: 0, pending: 0, refunded: 0 } };
  let done = 0;
  for (let first = true; first || done < total; first = false) {
    const batch = Math.max(1, Math.min(100, total - done));
    const summary = await router.reconcile({ limit: batch });
    const handled = summary.fulfilled + summary.released + summary.unsettled;
    done += handled;
    sum.fulfilled += summary.fulfilled;
    sum.released += summary.released;
    sum.unsettled += summary.unsettled;
    sum.refunds = {
      resolved: sum.refunds.resolved + summary.refunds.resolved,
      pending: summary.refunds.pending,
      refunded: sum.refunds.refunded + summary.refunds.refunded,
    };
    if (total > 0) io.err(`reconcile: ${done}/${total} payments`);
    if (handled < batch) break;
  }
  const text =
    `fulfilled ${sum.fulfilled}, released ${sum.released}, unsettled ${sum.unsettled}; ` +
    `refunds resolved ${sum.refunds.resolved}, pending ${sum.refunds.pending}, made ${sum.refunds.refunded}`;
  io.out(json ? JSON.stringify(sum, null, 2) : text);
  return sum.unsettled > 0 || sum.refunds.pending > 0 ? 1 : 0;
}

async function refund(
  router: KhaltiVerifierRouter,
  store: LedgerStore,
  key: string,
  amount: number | undefined,
  values: Values,
  io: CliIo,
): Promise<number> {
  const record = await store.get(key);
  if (!record) return (io.err(`khalti-ledger: no payment ${JSON.stringify(key)}`), 1);
  const asked = amount ?? record.amount - record.refundedTotal;
  if (!values.yes) {
    io.err(
      `Refund ${rupees(asked)} of order ${JSON.stringify(record.orderId)} (paid ${rupees(record.amount)}, refunded ${rupees(record.refundedTotal)})? [y/N] `,
    );
    const answer = await io.readLine();
    if (!/^y(es)?$/i.test(answer?.trim() ?? '')) return (io.err('khalti-ledger: not refunded (not confirmed)'), 1);
  }
  const refundKey: RefundKey = key.startsWith('pidx:') ? { pidx: key.slice('pidx:'.length) } : { token: key };
  try {
    const made = await router.refund(refundKey, amount === undefined ? {} : { amount });
    io.out(
      values.json
        ? JSON.stringify(made, null, 2)
        : `refunded ${rupees(made.amount)} of order ${made.orderId}; ${rupees(made.remaining)} left`,
    );
    return 0;
  } catch (error) {
    if (!isKhaltiError(error)) throw error;
    const details = error.details?.length ? ` (${error.details.join('; ')})` : '';
    if (values.json) io.out(JSON.stringify({ error: { code: error.code, message: error.message, details: error.details ?? [] } }, null, 2));
    io.err(`khalti-ledger: not refunded: ${error.message}${details} [${error.code}]`);
    return 1;
  }
}

async function settleByHand(router: KhaltiVerifierRouter, store: LedgerStore, key: string, values: Values, io: CliIo): Promise<number> {
  const pending = (await store.get(key))?.refund;
  if (!pending) return (io.err(`khalti-ledger: no pending refund for ${JSON.stringify(key)}`), 1);
  const outcome = values.made ? 'refunded' : 'not_refunded';
  if (!values.yes) {
    io.err(
      `Settle the pending refund of ${rupees(pending.amount)} (asked ${time(pending.requestedAt)}) as ${values.made ? 'MADE' : 'NOT made'}? [y/N] `,
    );
    if (!/^y(es)?$/i.test((await io.readLine())?.trim() ?? '')) return (io.err('khalti-ledger: not settled (not confirmed)'), 1);
  }
  const refundKey: RefundKey = key.startsWith('pidx:') ? { pidx: key.slice('pidx:'.length) } : { token: key };
  try {
    const settled = await router.settleRefund(refundKey, { refundId: pending.id, outcome });
    io.out(
      values.json ? JSON.stringify(settled, null, 2) : `settled as ${values.made ? 'made' : 'not made'}; ${rupees(settled.remaining)} left`,
    );
    return 0;
  } catch (error) {
    if (!isKhaltiError(error)) throw error;
    io.err(`khalti-ledger: not settled: ${error.message} [${error.code}]`);
    return 1;
  }
}
