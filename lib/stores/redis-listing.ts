// RedisStore's listing: pages of the per-state sorted sets (scripts in redis-listing-scripts.ts), an
// order's records from its set, counts and totals from the index, and building the index for records an
// earlier version wrote (once per prefix, marked by `P listing`).

import type { Redis } from 'ioredis';
import { checkCountQuery, checkListQuery, emptyTotals, orderPage, pageOf, PAYMENT_STATES } from '../ledger/listing';
import type { LedgerTotals, ListPage, ListQuery, PaymentRecord, PaymentState } from '../ledger/store';
import type { Scripted } from './redis-records';

export class RedisListing {
  readonly #redis: Redis & Scripted;
  readonly #prefix: string;
  readonly #records: (tokens: string[]) => Promise<PaymentRecord[]>;
  #indexed: Promise<void> | undefined;

  constructor(redis: Redis & Scripted, prefix: string, records: (tokens: string[]) => Promise<PaymentRecord[]>) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#records = records;
  }

  async list(query: ListQuery): Promise<ListPage> {
    const { state, orderId, after, limit } = checkListQuery(query);
    if (orderId !== undefined)
      return orderPage(await this.#records(await this.#redis.smembers(`${this.#prefix}o:${orderId}`)), state, after, limit);
    await this.#ensureIndexed();
    const zkey = state === undefined ? `${this.#prefix}all` : `${this.#prefix}s:${state}`;
    const tokens = await this.#redis.khxListPage(zkey, after ? String(after.createdAt) : '', after?.token ?? '', String(limit + 1));
    return pageOf(await this.#records(tokens), limit);
  }

  async count(query?: { state?: PaymentState }): Promise<number> {
    const state = checkCountQuery(query);
    await this.#ensureIndexed();
    return this.#redis.zcard(state === undefined ? `${this.#prefix}all` : `${this.#prefix}s:${state}`);
  }

  async totals(): Promise<LedgerTotals> {
    await this.#ensureIndexed();
    const transaction = this.#redis.multi();
    for (const state of PAYMENT_STATES) transaction.zcard(`${this.#prefix}s:${state}`);
    transaction.hgetall(`${this.#prefix}sums`);
    const replies = (await transaction.exec()) ?? [];
    const failed = replies.find(([error]) => error);
    if (failed) throw failed[0];
    const sums = replies[PAYMENT_STATES.length]![1] as Record<string, string>;
    const out = emptyTotals();
    PAYMENT_STATES.forEach((state, i) => {
      out[state] = {
        count: Number(replies[i]![1]),
        amount: Number(sums[`amount:${state}`] ?? 0),
        refunded: Number(sums[`refunded:${state}`] ?? 0),
      };
    });
    return out;
  }

  /** Index every record of the prefix (idempotent), then mark the index built. */
  async reindex(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', `${this.#prefix}t:*`, 'COUNT', 500);
      cursor = next;
      const tokens = keys.map((key) => key.slice(this.#prefix.length + 2));
      if (tokens.length > 0) await this.#redis.khxIndexRecords(this.#prefix, ...tokens);
    } while (cursor !== '0');
    await this.#redis.set(`${this.#prefix}listing`, '1');
  }

  #ensureIndexed(): Promise<void> {
    this.#indexed ??= (async () => {
      if ((await this.#redis.get(`${this.#prefix}listing`)) !== '1') await this.reindex();
    })().catch((error: unknown) => {
      this.#indexed = undefined;
      throw error;
    });
    return this.#indexed;
  }
}
