// RedisStore: the ledger in Redis (ioredis); every claim and transition is one Lua script.

import { Redis } from 'ioredis';
import type {
  ClaimInput,
  ClaimResult,
  DeclinedInput,
  LedgerStore,
  MarkVerifiedResult,
  PaymentRecord,
  VerifiedInput,
} from '../ledger/store';
import * as scripts from './redis-scripts';

export interface RedisStoreOptions {
  /** An ioredis client to use (the store never quits it). Give this or `url`. */
  client?: Redis;
  /** A Redis URL; the store makes its own client (connecting on first use) and quits it on `close()`. */
  url?: string;
  /** Key prefix. Defaults to `khx:`. */
  prefix?: string;
}

type ClaimReply = [ClaimResult['status'], 'takeover' | 'insert' | '', string[]];

interface Scripted {
  khxClaim(...args: string[]): Promise<ClaimReply>;
  khxMarkVerified(...args: string[]): Promise<MarkVerifiedResult>;
  khxMarkFulfilled(...args: string[]): Promise<number>;
  khxMarkUnfulfillable(...args: string[]): Promise<number>;
  khxMarkDeclined(...args: string[]): Promise<number>;
  khxRelease(...args: string[]): Promise<number>;
  khxEndLease(...args: string[]): Promise<number>;
  khxListStale(...args: string[]): Promise<string[]>;
}

const SCRIPTS: Array<[keyof Scripted, number, string]> = [
  ['khxClaim', 3, scripts.CLAIM],
  ['khxMarkVerified', 3, scripts.MARK_VERIFIED],
  ['khxMarkFulfilled', 2, scripts.MARK_FULFILLED],
  ['khxMarkUnfulfillable', 2, scripts.MARK_UNFULFILLABLE],
  ['khxMarkDeclined', 2, scripts.MARK_DECLINED],
  ['khxRelease', 3, scripts.RELEASE],
  ['khxEndLease', 1, scripts.END_LEASE],
  ['khxListStale', 1, scripts.LIST_STALE],
];

const orNull = (value: string | undefined): string | null => (value === undefined || value === '' ? null : value);

function fromHash(hash: Record<string, string>): PaymentRecord | null {
  if (hash.token === undefined) return null;
  return {
    token: hash.token,
    orderId: hash.orderId ?? '',
    amount: Number(hash.amount),
    state: hash.state as PaymentRecord['state'],
    owner: orNull(hash.owner),
    leaseUntil: Number(hash.leaseUntil),
    transactionId: orNull(hash.transactionId),
    khalti: JSON.parse(hash.khalti ?? 'null') as unknown,
    response: JSON.parse(hash.response ?? 'null') as unknown,
    failureCode: orNull(hash.failureCode),
    createdAt: Number(hash.createdAt),
    updatedAt: Number(hash.updatedAt),
  };
}

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

  constructor(options: RedisStoreOptions) {
    if (!options?.client && !options?.url) throw new Error('RedisStore: give `client` or `url`');
    this.prefix = options.prefix ?? 'khx:';
    this.#ownsClient = !options.client;
    const client = options.client ?? new Redis(options.url!, { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 5_000 });
    for (const [name, numberOfKeys, lua] of SCRIPTS) {
      if (typeof (client as unknown as Record<string, unknown>)[name] !== 'function') client.defineCommand(name, { numberOfKeys, lua });
    }
    this.#redis = client as Redis & Scripted;
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
    const record = fromHash(Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]])));
    if (!record) throw new Error('RedisStore: claim answered without a record');
    return status === 'claimed' ? { status, record, takenOver: how === 'takeover' } : { status, record };
  }

  async markVerified(token: string, owner: string, input: VerifiedInput): Promise<MarkVerifiedResult> {
    const record = await this.get(token);
    if (!record) return 'not_owner';
    return this.#redis.khxMarkVerified(
      this.#key(token),
      this.#orderKey(record.orderId),
      this.#active,
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

  async close(): Promise<void> {
    if (this.#ownsClient && this.#redis.status !== 'end') await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}
