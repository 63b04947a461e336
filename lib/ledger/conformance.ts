// The store conformance suite: every LedgerStore (ours and third parties') must pass it unchanged.

import assert from 'node:assert/strict';
import { listingConformance } from './conformance-listing';
import { refundConformance } from './conformance-refunds';
import type { ClaimInput, LedgerStore } from './store';

type TestFn = () => Promise<void>;

/** The test-runner functions the suite needs: jest's, mocha's and node:test's all fit. */
export interface ConformanceRunner {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: TestFn, timeout?: number): void;
}

/** Let the suite run unchanged under any runner that defines `describe` and `it` globally. */
function globalRunner(): ConformanceRunner {
  const scope = globalThis as unknown as Partial<ConformanceRunner>;
  if (typeof scope.describe !== 'function' || typeof scope.it !== 'function') {
    throw new Error('runStoreConformance: no global describe/it; pass your test runner as the second argument.');
  }
  return { describe: scope.describe, it: scope.it };
}

const LEASE = 1_000;
const T0 = 1_700_000_000_000;

let sequence = 0;
/**
 * A key no earlier test used, so stores on a shared server need no cleanup between tests. It contains
 * `:`, as the package's own keys do (`pidx:<pidx>`, `check:<uuid>`): a store that splits on it fails.
 */
function freshToken(label: string): string {
  sequence += 1;
  return `${label}:${process.pid}-${Date.now().toString(36)}-${sequence}`;
}

function claimInput(overrides: Partial<ClaimInput> = {}): ClaimInput {
  return {
    token: freshToken('tok'),
    orderId: freshToken('order'),
    amount: 1000,
    owner: freshToken('owner'),
    now: T0,
    leaseMs: LEASE,
    ...overrides,
  };
}

/** What the suite may do beyond `makeStore`. */
export interface ConformanceOptions {
  /**
   * A durable store's second instance over the same data, as a restarted process would open it (same
   * file, table or prefix). Given, the suite also checks that what was recorded survives a restart.
   */
  reopen?: (closed: LedgerStore) => LedgerStore | Promise<LedgerStore>;
}

/**
 * Register the conformance tests for a store. `makeStore` is called once per test and must return a
 * fresh, usable store (on a real server for database stores); `close()` is called after each test.
 */
export function runStoreConformance(
  makeStore: () => LedgerStore | Promise<LedgerStore>,
  runner: ConformanceRunner = globalRunner(),
  options: ConformanceOptions = {},
): void {
  const { describe, it } = runner;
  const withStore = (name: string, fn: (store: LedgerStore) => Promise<void>, timeout?: number): void =>
    it(
      name,
      async () => {
        const store = await makeStore();
        try {
          await fn(store);
        } finally {
          await store.close?.();
        }
      },
      timeout,
    );

  describe('LedgerStore conformance', () => {
    describe('claim', () => {
      withStore('claims a new token and records it', async (store) => {
        const input = claimInput({ amount: 2500 });
        const result = await store.claim(input);
        assert.equal(result.status, 'claimed');
        assert.equal(result.status === 'claimed' && result.takenOver, false);
        const record = await store.get(input.token);
        assert.ok(record);
        assert.equal(record.token, input.token);
        assert.equal(record.orderId, input.orderId);
        assert.equal(record.amount, 2500);
        assert.equal(record.state, 'claimed');
        assert.equal(record.owner, input.owner);
        assert.equal(record.leaseUntil, T0 + LEASE);
        assert.equal(record.transactionId, null);
        assert.equal(record.createdAt, T0);
      });

      withStore('get() answers null for an unknown token', async (store) => {
        assert.equal(await store.get(freshToken('unknown')), null);
      });

      withStore('answers busy while another owner holds a live lease', async (store) => {
        const input = claimInput();
        await store.claim(input);
        const second = await store.claim({ ...input, owner: freshToken('owner'), now: T0 + LEASE - 1 });
        assert.equal(second.status, 'busy');
        assert.equal((await store.get(input.token))?.owner, input.owner);
      });

      withStore('binds a token to one order', async (store) => {
        const input = claimInput();
        await store.claim(input);
        const other = await store.claim({ ...input, orderId: freshToken('order'), owner: freshToken('owner'), now: T0 + 10 * LEASE });
        assert.equal(other.status, 'token_conflict');
        assert.equal(other.record.orderId, input.orderId);
      });

      withStore('refuses a second token for an order paid with another', async (store) => {
        const first = claimInput();
        await store.claim(first);
        assert.equal(await store.markVerified(first.token, first.owner, { transactionId: 'idx-1', khalti: null, now: T0 + 1 }), 'verified');
        const second = await store.claim(claimInput({ orderId: first.orderId, now: T0 + 2 }));
        assert.equal(second.status, 'order_conflict');
        assert.equal(second.record.token, first.token);
        await store.markFulfilled(first.token, first.owner, { ok: true }, T0 + 3);
        const third = await store.claim(claimInput({ orderId: first.orderId, now: T0 + 10 * LEASE }));
        assert.equal(third.status, 'order_conflict');
      });

      withStore('answers busy for a second token of an order whose first claim is live, and not once it expired', async (store) => {
        const first = claimInput();
        await store.claim(first);
        const second = claimInput({ orderId: first.orderId, now: T0 + 1 });
        assert.equal((await store.claim(second)).status, 'busy');
        assert.equal(await store.get(second.token), null);
        assert.equal((await store.claim({ ...second, now: T0 + LEASE + 1 })).status, 'claimed');
      });
    });

    describe('state machine', () => {
      withStore('claimed → verified → fulfilled, then replays', async (store) => {
        const input = claimInput();
        await store.claim(input);
        const khalti = { idx: 'idx-1', state: { name: 'Completed' }, amount: 1000, nested: [1, { a: 'b' }] };
        assert.equal(await store.markVerified(input.token, input.owner, { transactionId: 'idx-1', khalti, now: T0 + 5 }), 'verified');
        let record = await store.get(input.token);
        assert.equal(record?.state, 'verified');
        assert.equal(record?.transactionId, 'idx-1');
        assert.deepEqual(record?.khalti, khalti);
        assert.equal(record?.owner, input.owner, 'verified keeps the lease');

        const response = {
          ok: true,
          orderId: input.orderId,
          amount: 1000,
          transactionId: 'idx-1',
          replayed: false,
          data: { receipt: 'R-1' },
        };
        assert.equal(await store.markFulfilled(input.token, input.owner, response, T0 + 6), true);
        record = await store.get(input.token);
        assert.equal(record?.state, 'fulfilled');
        assert.deepEqual(record?.response, response);
        assert.equal(record?.owner, null);
        assert.equal(record?.leaseUntil, 0);
        assert.equal(record?.updatedAt, T0 + 6);

        const replay = await store.claim({ ...input, owner: freshToken('owner'), now: T0 + 7 });
        assert.equal(replay.status, 'fulfilled');
        assert.deepEqual(replay.record.response, response);
      });

      withStore('transitions need the owner and the right state', async (store) => {
        const input = claimInput();
        await store.claim(input);
        const stranger = freshToken('owner');
        const verified = { transactionId: 'idx', khalti: null, now: T0 + 1 };
        assert.equal(await store.markVerified(input.token, stranger, verified), 'not_owner');
        assert.equal(await store.markFulfilled(input.token, input.owner, {}, T0 + 1), false, 'fulfilled needs verified first');
        assert.equal(await store.release(input.token, stranger), false);
        assert.equal(await store.endLease(input.token, stranger, T0 + 1), false);
        assert.equal(await store.markUnfulfillable(input.token, stranger, { ...verified, failureCode: 'amount_mismatch' }), false);
        assert.equal((await store.get(input.token))?.state, 'claimed');
        assert.equal(await store.markVerified(input.token, input.owner, verified), 'verified');
        assert.equal(await store.markVerified(input.token, input.owner, verified), 'not_owner', 'verified only from claimed');
        assert.equal(await store.release(input.token, input.owner), false, 'a verified payment is never released');
        assert.equal(await store.markFulfilled(input.token, stranger, {}, T0 + 2), false);
        assert.equal(await store.markFulfilled(freshToken('unknown'), input.owner, {}, T0 + 2), false);
        assert.equal(await store.markVerified(freshToken('unknown'), input.owner, verified), 'not_owner');
      });

      withStore('release frees the token for a fresh claim', async (store) => {
        const input = claimInput();
        await store.claim(input);
        assert.equal(await store.release(input.token, input.owner), true);
        assert.equal(await store.get(input.token), null);
        const again = await store.claim({ ...input, orderId: freshToken('order'), owner: freshToken('owner'), now: T0 + 1 });
        assert.equal(again.status, 'claimed');
        assert.equal(again.status === 'claimed' && again.takenOver, false);
      });

      withStore('an unfulfillable payment stays bound and answers its code', async (store) => {
        const input = claimInput();
        await store.claim(input);
        const khalti = { idx: 'idx-9', amount: 999 };
        assert.equal(
          await store.markUnfulfillable(input.token, input.owner, {
            transactionId: 'idx-9',
            khalti,
            now: T0 + 1,
            failureCode: 'amount_mismatch',
          }),
          true,
        );
        const again = await store.claim({ ...input, owner: freshToken('owner'), now: T0 + 10 * LEASE });
        assert.equal(again.status, 'unfulfillable');
        assert.equal(again.record.failureCode, 'amount_mismatch');
        assert.equal(again.record.transactionId, 'idx-9');
        assert.deepEqual(again.record.khalti, khalti);
        assert.equal((await store.claim({ ...input, orderId: freshToken('order'), now: T0 + 10 * LEASE })).status, 'token_conflict');
      });

      withStore('a claim that could be taken over is refused once another token paid the order', async (store) => {
        const first = claimInput();
        const second = claimInput({ orderId: first.orderId });
        await store.claim(first);
        await store.endLease(first.token, first.owner, T0 + 1);
        await store.claim({ ...second, now: T0 + 2 });
        await store.claim({ ...first, owner: freshToken('owner'), now: T0 + 3 }).then((r) => assert.equal(r.status, 'busy'));
        assert.equal(
          await store.markVerified(second.token, second.owner, { transactionId: 'idx-b', khalti: null, now: T0 + 4 }),
          'verified',
        );
        // The first token's claim was taken over after its lease ended, and Khalti confirmed it too.
        const takeover = { ...first, owner: freshToken('owner'), now: T0 + 3 * LEASE };
        await store.endLease(second.token, second.owner, T0 + 5);
        assert.equal((await store.claim(takeover)).status, 'order_conflict');
      });

      withStore('markVerified refuses to pay an order twice', async (store) => {
        // A slow attempt outlives its lease; a second token of the same order is claimed meanwhile.
        const first = claimInput();
        await store.claim(first);
        const second = claimInput({ orderId: first.orderId, now: T0 + LEASE + 1 });
        assert.equal((await store.claim(second)).status, 'claimed', 'an expired claim does not block the order');
        assert.equal(
          await store.markVerified(second.token, second.owner, { transactionId: 'idx-2', khalti: null, now: T0 + LEASE + 2 }),
          'verified',
        );
        assert.equal(
          await store.markVerified(first.token, first.owner, { transactionId: 'idx-1', khalti: { idx: 'idx-1' }, now: T0 + LEASE + 3 }),
          'order_conflict',
        );
        const record = await store.get(first.token);
        assert.equal(record?.state, 'unfulfillable');
        assert.equal(record?.failureCode, 'order_already_paid');
        assert.equal(record?.transactionId, 'idx-1');
        assert.deepEqual(record?.khalti, { idx: 'idx-1' });
        assert.equal((await store.claim({ ...first, owner: freshToken('owner'), now: T0 + 3 * LEASE })).status, 'unfulfillable');
      });

      withStore('evenIfOrderPaid claims a second token of a paid order, and markVerified then keeps it for a refund', async (store) => {
        // Keys like the package's own (`pidx:<pidx>`): a store that splits on ':' must still pass.
        const paid = claimInput({ token: `pidx:${freshToken('paid')}` });
        await store.claim(paid);
        assert.equal(await store.markVerified(paid.token, paid.owner, { transactionId: 'idx-p', khalti: null, now: T0 + 1 }), 'verified');
        const second = claimInput({ token: `pidx:${freshToken('second')}`, orderId: paid.orderId, now: T0 + 2 });
        await store.claim(second).then((r) => assert.equal(r.status, 'order_conflict'));
        const claim = await store.claim({ ...second, evenIfOrderPaid: true });
        assert.equal(claim.status, 'claimed');
        assert.equal(claim.record.token, second.token);
        // A live claim on another token of the order still makes it busy, flag or not.
        const third = claimInput({ token: `pidx:${freshToken('third')}`, orderId: paid.orderId, now: T0 + 3 });
        assert.equal((await store.claim({ ...third, evenIfOrderPaid: true })).status, 'busy');
        assert.equal(
          await store.markVerified(second.token, second.owner, { transactionId: 'idx-s', khalti: { idx: 'idx-s' }, now: T0 + 4 }),
          'order_conflict',
        );
        const record = await store.get(second.token);
        assert.equal(record?.state, 'unfulfillable');
        assert.equal(record?.failureCode, 'order_already_paid');
        assert.equal(record?.transactionId, 'idx-s');
      });
    });

    describe('markDeclined', () => {
      withStore('declines a claimed record for good: kept, final, answered with its code, never stale', async (store) => {
        const input = claimInput({ token: `pidx:${freshToken('declined')}` });
        await store.claim(input);
        assert.equal(
          await store.markDeclined(input.token, freshToken('stranger'), {
            failureCode: 'payment_not_completed',
            khalti: null,
            now: T0 + 1,
          }),
          false,
        );
        const khalti = { pidx: input.token, status: 'Expired' };
        assert.equal(
          await store.markDeclined(input.token, input.owner, { failureCode: 'payment_not_completed', khalti, now: T0 + 1 }),
          true,
        );
        const record = await store.get(input.token);
        assert.equal(record?.state, 'declined');
        assert.equal(record?.failureCode, 'payment_not_completed');
        assert.deepEqual(record?.khalti, khalti);
        assert.equal(record?.owner, null);
        assert.equal(record?.leaseUntil, 0);
        const again = await store.claim({ ...input, owner: freshToken('owner'), now: T0 + 10 * LEASE });
        assert.equal(again.status, 'declined');
        assert.equal(
          (await store.listStale(T0 + 10 * LEASE, 1000)).some((r) => r.token === input.token),
          false,
        );
        assert.equal(await store.release(input.token, input.owner), false);
        // A declined payment does not block the order: another token may pay it.
        const other = claimInput({ orderId: input.orderId, now: T0 + 2 });
        assert.equal((await store.claim(other)).status, 'claimed');
        assert.equal(await store.markVerified(other.token, other.owner, { transactionId: 'idx-o', khalti: null, now: T0 + 3 }), 'verified');
      });

      withStore('declines only a claimed record', async (store) => {
        const input = claimInput();
        await store.claim(input);
        await store.markVerified(input.token, input.owner, { transactionId: 'idx-v', khalti: null, now: T0 + 1 });
        assert.equal(
          await store.markDeclined(input.token, input.owner, { failureCode: 'payment_rejected', khalti: null, now: T0 + 2 }),
          false,
        );
        assert.equal((await store.get(input.token))?.state, 'verified');
      });
    });

    describe('leases', () => {
      withStore('an expired lease is taken over, keeping the state, and the old owner loses it', async (store) => {
        const input = claimInput();
        await store.claim(input);
        assert.equal((await store.claim({ ...input, owner: freshToken('owner'), now: T0 + LEASE - 1 })).status, 'busy');
        const next = { ...input, owner: freshToken('owner'), now: T0 + LEASE };
        const takeover = await store.claim(next);
        assert.equal(takeover.status, 'claimed');
        assert.equal(takeover.status === 'claimed' && takeover.takenOver, true);
        assert.equal(takeover.record.state, 'claimed');
        assert.equal(takeover.record.owner, next.owner);
        assert.equal(takeover.record.leaseUntil, next.now + LEASE);
        assert.equal(await store.markVerified(input.token, input.owner, { transactionId: 'x', khalti: null, now: next.now }), 'not_owner');
        assert.equal(await store.markVerified(input.token, next.owner, { transactionId: 'x', khalti: null, now: next.now }), 'verified');
      });

      withStore('endLease keeps a verified record for the next attempt to fulfil', async (store) => {
        const input = claimInput();
        await store.claim(input);
        await store.markVerified(input.token, input.owner, { transactionId: 'idx-3', khalti: { idx: 'idx-3' }, now: T0 + 1 });
        assert.equal(await store.endLease(input.token, input.owner, T0 + 2), true);
        const next = { ...input, owner: freshToken('owner'), now: T0 + 3 };
        const takeover = await store.claim(next);
        assert.equal(takeover.status, 'claimed');
        assert.equal(takeover.record.state, 'verified');
        assert.equal(takeover.record.transactionId, 'idx-3');
        assert.equal(await store.markFulfilled(input.token, next.owner, { ok: true }, T0 + 4), true);
      });

      withStore('listStale finds expired claimed and verified records, oldest first', async (store) => {
        const order = (n: number): ClaimInput => claimInput({ now: T0 + n });
        const stuckClaim = order(1);
        const stuckVerified = order(2);
        const live = order(3);
        const done = order(4);
        for (const input of [stuckClaim, stuckVerified, live, done]) await store.claim(input);
        await store.markVerified(stuckVerified.token, stuckVerified.owner, { transactionId: 'v', khalti: null, now: T0 + 5 });
        await store.endLease(stuckVerified.token, stuckVerified.owner, T0 + 6);
        await store.endLease(stuckClaim.token, stuckClaim.owner, T0 + 6);
        await store.markVerified(done.token, done.owner, { transactionId: 'd', khalti: null, now: T0 + 5 });
        await store.markFulfilled(done.token, done.owner, {}, T0 + 6);
        const mine = new Set([stuckClaim.token, stuckVerified.token, live.token, done.token]);
        // Array.from: a native driver may hand back arrays of another realm, which strict equality rejects.
        const stale = Array.from(await store.listStale(T0 + 10, 1000)).filter((r) => mine.has(r.token));
        assert.deepEqual(
          stale.map((r) => r.token),
          [stuckClaim.token, stuckVerified.token],
        );
        assert.deepEqual(
          stale.map((r) => r.state),
          ['claimed', 'verified'],
        );
        const later = Array.from(await store.listStale(T0 + LEASE + 10, 1000)).filter((r) => mine.has(r.token));
        assert.deepEqual(
          later.map((r) => r.token),
          [stuckClaim.token, stuckVerified.token, live.token],
        );
        assert.ok((await store.listStale(T0 + LEASE + 10, 1)).length <= 1);
      });
    });

    describe('atomicity', () => {
      withStore(
        '100 parallel claims of one token: exactly one wins',
        async (store) => {
          const base = claimInput();
          const results = await Promise.all(Array.from({ length: 100 }, () => store.claim({ ...base, owner: freshToken('owner') })));
          const winners = results.filter((r) => r.status === 'claimed');
          assert.equal(winners.length, 1);
          assert.equal(results.filter((r) => r.status === 'busy').length, 99);
          assert.equal((await store.get(base.token))?.owner, winners[0]?.record.owner);
        },
        30_000,
      );

      withStore(
        '100 parallel claims of different tokens for one order: exactly one wins',
        async (store) => {
          const orderId = freshToken('order');
          const results = await Promise.all(Array.from({ length: 100 }, () => store.claim(claimInput({ orderId }))));
          assert.equal(results.filter((r) => r.status === 'claimed').length, 1);
          assert.equal(results.filter((r) => r.status === 'busy').length, 99);
        },
        30_000,
      );

      withStore(
        'parallel takeovers of one expired lease: exactly one wins',
        async (store) => {
          const input = claimInput();
          await store.claim(input);
          const results = await Promise.all(
            Array.from({ length: 50 }, () => store.claim({ ...input, owner: freshToken('owner'), now: T0 + 2 * LEASE })),
          );
          assert.equal(results.filter((r) => r.status === 'claimed').length, 1);
        },
        30_000,
      );

      withStore('a record read back is a copy: changing it changes nothing stored', async (store) => {
        const input = claimInput();
        const result = await store.claim(input);
        result.record.state = 'fulfilled';
        const record = await store.get(input.token);
        assert.ok(record);
        record.orderId = 'tampered';
        assert.equal((await store.get(input.token))?.state, 'claimed');
        assert.equal((await store.get(input.token))?.orderId, input.orderId);
      });
    });
    refundConformance(describe, withStore, { claimInput, freshToken, T0, LEASE, reopen: options.reopen });
    listingConformance(describe, withStore, { claimInput, freshToken, LEASE });
  });
}
