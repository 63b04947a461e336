// RedisStore: the ledger in Redis (ioredis); every claim and transition is one Lua script.

import { Redis } from 'ioredis';
import { newClaim, settledRefund } from '../ledger/rules';
import type {
  BeginRefundInput,
  BeginRefundResult,
  FinishRefundInput,
  ClaimInput,
  ClaimResult,
  DeclinedInput,
  LedgerStore,
  LedgerTotals,
  ListPage,
  ListQuery,
  MarkVerifiedResult,
  PaymentRecord,
  PaymentState,
  VerifiedInput,
} from '../ledger/store';

export interface RedisStoreOptions {
  /** An ioredis client to use (the store never quits it). Give this or `url`. */
  client?: Redis;
  /** A Redis URL; the store makes its own client (connecting on first use) and quits it on `close()`. */
  url?: string;
  /** Key prefix. Defaults to `khx:`. */
  prefix?: string;
}

import { RedisListing } from './redis-listing';
import { fromHash, SCRIPTS, type Scripted } from './redis-records';

/**
 * A ledger in Redis. Each claim and transition is one Lua script, so each is atomic. For a ledger
 * rather than a cache, run Redis with `appendonly yes` (`appendfsync everysec` at least, `always` to
 * lose nothing) and `maxmemory-policy noeviction`. A single Redis (or a primary with its replicas):
 * the scripts touch keys of several tokens of one order, which Redis Cluster would spread over slots.
 */
export class RedisStore implements LedgerStore {
  readonly prefix: string;
  readonly #redis: Redis & Scripted;
  readonly #ownsClient: boolean;
  readonly #listing: RedisListing;

  constructor(options: RedisStoreOptions) {
    if (!options?.client && !options?.url) throw new Error('RedisStore: give `client` or `url`');
    this.prefix = options.prefix ?? 'khx:';
    this.#ownsClient = !options.client;
    // Auto-pipelining: the commands of one event-loop turn (every request's script) leave in one write.
    const client =
      options.client ??
      new Redis(options.url!, { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 5_000, enableAutoPipelining: true });
    for (const [name, numberOfKeys, lua] of SCRIPTS) {
      if (typeof (client as unknown as Record<string, unknown>)[name] !== 'function') client.defineCommand(name, { numberOfKeys, lua });
    }
    this.#redis = client as Redis & Scripted;
    this.#listing = new RedisListing(this.#redis, this.prefix, (tokens) => this.#records(tokens));
  }

  #key(token: string): string {
    return `${this.prefix}t:${token}`;
  }

  #orderKey(orderId: string): string {
    return `${this.prefix}o:${orderId}`;
  }

  get #active(): string {
    return `${this.prefix}active`;
  }

  get #refunds(): string {
    return `${this.prefix}refunds`;
  }

  get #owed(): string {
    return `${this.prefix}owed`;
  }

  async claim(input: ClaimInput): Promise<ClaimResult> {
    const [status, how, flat] = await this.#redis.khxClaim(
      this.#key(input.token),
      this.#orderKey(input.orderId),
      this.#active,
      input.token,
      input.orderId,
      String(input.amount),
      input.owner,
      String(input.now),
      String(input.now + input.leaseMs),
      this.prefix,
      input.evenIfOrderPaid ? '1' : '',
    );
    if (how === 'insert') return { status: 'claimed', record: newClaim(input), takenOver: false };
    const record = fromHash(Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]])));
    if (!record) throw new Error('RedisStore: claim answered without a record');
    return status === 'claimed' ? { status, record, takenOver: how === 'takeover' } : { status, record };
  }

  async markVerified(token: string, owner: string, input: VerifiedInput): Promise<MarkVerifiedResult> {
    return this.#redis.khxMarkVerified(
      this.#key(token),
      this.#active,
      this.#owed,
      token,
      owner,
      input.transactionId ?? '',
      JSON.stringify(input.khalti ?? null),
      String(input.now),
      this.prefix,
    );
  }

  async markFulfilled(token: string, owner: string, response: unknown, now: number): Promise<boolean> {
    return (await this.#redis.khxMarkFulfilled(this.#key(token), this.#active, owner, JSON.stringify(response ?? null), String(now))) === 1;
  }

  async markUnfulfillable(token: string, owner: string, input: VerifiedInput & { failureCode: string }): Promise<boolean> {
    const reply = await this.#redis.khxMarkUnfulfillable(
      this.#key(token),
      this.#active,
      this.#owed,
      owner,
      input.failureCode,
      input.transactionId ?? '',
      JSON.stringify(input.khalti ?? null),
      String(input.now),
    );
    return reply === 1;
  }

  async markDeclined(token: string, owner: string, input: DeclinedInput): Promise<boolean> {
    const reply = await this.#redis.khxMarkDeclined(
      this.#key(token),
      this.#active,
      owner,
      input.failureCode,
      JSON.stringify(input.khalti ?? null),
      String(input.now),
    );
    return reply === 1;
  }

  async release(token: string, owner: string): Promise<boolean> {
    const record = await this.get(token);
    if (!record) return false;
    return (await this.#redis.khxRelease(this.#key(token), this.#orderKey(record.orderId), this.#active, token, owner)) === 1;
  }

  async endLease(token: string, owner: string, now: number): Promise<boolean> {
    return (await this.#redis.khxEndLease(this.#key(token), owner, String(now))) === 1;
  }

  async get(token: string): Promise<PaymentRecord | null> {
    return fromHash(await this.#redis.hgetall(this.#key(token)));
  }

  async listStale(now: number, limit: number): Promise<PaymentRecord[]> {
    const tokens = await this.#redis.khxListStale(this.#active, String(now), String(limit), this.prefix);
    const records = await Promise.all(tokens.map((token) => this.get(token)));
    return records.filter((record): record is PaymentRecord => record !== null);
  }

  async beginRefund(token: string, input: BeginRefundInput): Promise<BeginRefundResult> {
    const status = await this.#redis.khxRefundBegin(
      this.#key(token),
      this.#refunds,
      this.#owed,
      input.id,
      input.amount === undefined ? '' : String(input.amount),
      input.mobile ?? '',
      input.owner,
      String(input.now),
      String(input.now + input.leaseMs),
    );
    const record = await this.get(token);
    if (status === 'not_found' || !record) return { status: 'not_found', record: null };
    return { status, record } as BeginRefundResult;
  }

  async finishRefund(token: string, refundId: string, owner: string, input: FinishRefundInput): Promise<boolean> {
    const record = await this.get(token);
    if (record?.refund?.id !== refundId || record.refund.owner !== owner) return false;
    // Only the intent's owner settles it and no other refund starts meanwhile: what was read holds, and
    // the script's guard (intent and owner) makes a lost lease a no-op.
    const settled = settledRefund(record, input.outcome, input.now);
    const args = [refundId, owner, String(settled.refundedTotal), JSON.stringify(settled.refunds), String(input.now)];
    return (await this.#redis.khxRefundSettle(this.#key(token), this.#refunds, ...args)) === 1;
  }

  async endRefundLease(token: string, refundId: string, owner: string, now: number): Promise<boolean> {
    return (await this.#redis.khxRefundEndLease(this.#key(token), refundId, owner, String(now))) === 1;
  }

  async takeRefund(token: string, refundId: string, owner: string, now: number, leaseMs: number): Promise<boolean> {
    return (await this.#redis.khxRefundTake(this.#key(token), refundId, owner, String(now), String(now + leaseMs))) === 1;
  }

  async listPendingRefunds(now: number, limit: number): Promise<PaymentRecord[]> {
    return this.#records(await this.#redis.khxListPendingRefunds(this.#refunds, String(now), String(limit), this.prefix));
  }

  async listOwedRefunds(limit: number): Promise<PaymentRecord[]> {
    return this.#records(await this.#redis.zrange(this.#owed, '0', String(limit - 1)));
  }

  list(query: ListQuery): Promise<ListPage> {
    return this.#listing.list(query);
  }

  count(query?: { state?: PaymentState }): Promise<number> {
    return this.#listing.count(query);
  }

  totals(): Promise<LedgerTotals> {
    return this.#listing.totals();
  }

  /**
   * Add records written before the listing index existed (an earlier version of this store) to it; safe
   * to run again, and while payments are being taken. Runs by itself before the first list/count/totals;
   * run it yourself after a rolling upgrade during which older instances kept writing.
   */
  reindex(): Promise<void> {
    return this.#listing.reindex();
  }

  async #records(tokens: string[]): Promise<PaymentRecord[]> {
    const records = await Promise.all(tokens.map((token) => this.get(token)));
    return records.filter((record): record is PaymentRecord => record !== null);
  }

  async close(): Promise<void> {
    if (this.#ownsClient && this.#redis.status !== 'end') await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}
