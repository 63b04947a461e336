// The listing part of the store conformance suite: pages newest first with a cursor, filters by state
// and order, counts and totals per state, copies. Stores on a shared server hold other tests' records
// too, so these tests either filter by an order of their own, or create records newer than any other
// test's (far-future timestamps) and look only at the top of the list, and they count by difference.

import assert from 'node:assert/strict';
import type { ClaimInput, LedgerStore, LedgerTotals, ListQuery, PaymentRecord } from './store';

type WithStore = (name: string, fn: (store: LedgerStore) => Promise<void>, timeout?: number) => void;

export interface ListingFixtures {
  claimInput(overrides?: Partial<ClaimInput>): ClaimInput;
  freshToken(label: string): string;
  LEASE: number;
}

/** Later than every other test's records, and later for each test than for the one before. */
let future = 4_000_000_000_000 + Date.now();
const nextFuture = () => (future += 10_000_000);

/** Every page of `query` from `start` (the first page when `null`), followed to the end. */
async function allPages(store: LedgerStore, query: Omit<ListQuery, 'before'>, start: string | null = null): Promise<PaymentRecord[][]> {
  const pages: PaymentRecord[][] = [];
  let before: string | null = start;
  do {
    const page = await store.list({ ...query, before });
    pages.push(page.records);
    before = page.next;
    assert.ok(pages.length < 100, 'paging ends');
  } while (before !== null);
  return pages;
}

const tokens = (records: PaymentRecord[]) => records.map((record) => record.token);

export function listingConformance(describe: (name: string, fn: () => void) => void, withStore: WithStore, f: ListingFixtures): void {
  const { claimInput, freshToken, LEASE } = f;

  /** Five claims of one order, `2 × LEASE` apart (so each may claim), the last two at the same instant. */
  async function oneOrder(store: LedgerStore) {
    const orderId = freshToken('order');
    const start = nextFuture();
    const times = [start, start + 2 * LEASE, start + 4 * LEASE, start + 6 * LEASE, start + 6 * LEASE];
    const inputs: ClaimInput[] = [];
    for (const [i, now] of times.entries()) {
      const input = claimInput({ orderId, now, token: freshToken(`list${i}`) });
      // The last two share an instant: the first must not hold a live lease when the second claims.
      if (i === 4) await store.endLease(inputs[3]!.token, inputs[3]!.owner, now);
      assert.equal((await store.claim(input)).status, 'claimed');
      inputs.push(input);
    }
    // Newest first: the later instant, then by key descending for the two at one instant.
    const tied = [inputs[3]!.token, inputs[4]!.token].sort().reverse();
    const expected = [...tied, inputs[2]!.token, inputs[1]!.token, inputs[0]!.token];
    return { orderId, inputs, expected };
  }

  describe('listing', () => {
    withStore('lists an order’s records newest first, in pages that join up with no gap or repeat', async (store) => {
      const { orderId, expected } = await oneOrder(store);
      const pages = await allPages(store, { orderId, limit: 2 });
      assert.deepEqual(
        pages.map((page) => page.length),
        [2, 2, 1],
      );
      assert.deepEqual(tokens(pages.flat()), expected);
      const whole = await store.list({ orderId, limit: 5 });
      assert.deepEqual(tokens(whole.records), expected);
      assert.equal(whole.next, null, 'a page that holds the rest says there is no next page');
      const single = await allPages(store, { orderId, limit: 1 });
      assert.deepEqual(tokens(single.flat()), expected, 'records at one instant are neither lost nor repeated');
    });

    withStore('filters by state, and by state and order together', async (store) => {
      const { orderId, inputs } = await oneOrder(store);
      const [a, b, c] = inputs as [ClaimInput, ClaimInput, ClaimInput];
      const later = inputs[4]!.now + 1;
      assert.equal(await store.markDeclined(a.token, a.owner, { failureCode: 'payment_not_completed', khalti: null, now: later }), true);
      assert.equal(await store.markDeclined(c.token, c.owner, { failureCode: 'payment_not_completed', khalti: null, now: later }), true);
      assert.equal(await store.markVerified(b.token, b.owner, { transactionId: 'idx-l', khalti: null, now: later }), 'verified');
      assert.deepEqual(tokens((await store.list({ orderId, state: 'declined', limit: 10 })).records), [c.token, a.token]);
      assert.deepEqual(tokens((await store.list({ orderId, state: 'verified', limit: 10 })).records), [b.token]);
      assert.equal((await store.list({ orderId, state: 'fulfilled', limit: 10 })).records.length, 0);
      // Across the whole ledger, the newest declined records are these two (nothing else is as new).
      const declined = await store.list({ state: 'declined', limit: 2 });
      assert.deepEqual(tokens(declined.records), [c.token, a.token]);
      assert.ok(declined.records.every((record) => record.state === 'declined'));
      const top = await store.list({ limit: 5 });
      assert.deepEqual(
        tokens(top.records),
        (await store.list({ orderId, limit: 5 })).records.map((r) => r.token),
      );
      assert.equal(await store.markFulfilled(b.token, b.owner, { ok: true }, later + 1), true);
      assert.deepEqual(
        tokens((await store.list({ orderId, state: 'fulfilled', limit: 10 })).records),
        [b.token],
        'a new state is listed at once',
      );
      assert.equal((await store.list({ orderId, state: 'verified', limit: 10 })).records.length, 0, 'and the old one no longer');
    });

    withStore('a cursor stays valid while newer records arrive, and a released claim leaves the list', async (store) => {
      const { orderId, inputs, expected } = await oneOrder(store);
      const first = await store.list({ orderId, limit: 2 });
      const newer = claimInput({ orderId, now: inputs[4]!.now + 2 * LEASE, token: freshToken('newer') });
      await store.endLease(inputs[4]!.token, inputs[4]!.owner, newer.now);
      await store.claim(newer);
      const rest = await allPages(store, { orderId, limit: 2 }, first.next);
      assert.deepEqual(tokens([...first.records, ...rest.flat()]), expected);
      assert.equal(await store.release(newer.token, newer.owner), true);
      assert.deepEqual(tokens((await store.list({ orderId, limit: 10 })).records), expected);
    });

    withStore('a listed record is a copy', async (store) => {
      const { orderId } = await oneOrder(store);
      const page = await store.list({ orderId, limit: 1 });
      const token = page.records[0]!.token;
      page.records[0]!.amount = 1;
      page.records[0]!.refunds.push({ id: 'x', amount: 1, outcome: 'refunded', at: 0 });
      const again = (await store.list({ orderId, limit: 1 })).records[0]!;
      assert.equal(again.token, token);
      assert.equal(again.amount, 1000);
      assert.deepEqual(again.refunds, []);
    });

    withStore('refuses a bad query: limit out of range, an unknown state, a cursor it did not make', async (store) => {
      await assert.rejects(store.list({ limit: 0 }));
      await assert.rejects(store.list({ limit: 1001 }));
      await assert.rejects(store.list({ limit: 1.5 }));
      await assert.rejects(store.list({ limit: 10, state: 'paid' as never }));
      await assert.rejects(store.list({ limit: 10, before: 'not-a-cursor' }));
      await assert.rejects(store.count({ state: 'paid' as never }));
    });

    withStore('counts and totals per state follow every transition, by difference', async (store) => {
      const before = await store.totals();
      const countBefore = await store.count();
      const declinedBefore = await store.count({ state: 'declined' });
      const now = nextFuture();
      const paid = claimInput({ amount: 1500, now });
      const declined = claimInput({ amount: 700, now });
      const released = claimInput({ amount: 300, now });
      for (const input of [paid, declined, released]) await store.claim(input);
      assert.equal(await store.count(), countBefore + 3);
      await store.markVerified(paid.token, paid.owner, { transactionId: 'idx-t', khalti: null, now: now + 1 });
      await store.markFulfilled(paid.token, paid.owner, { ok: true }, now + 2);
      await store.markDeclined(declined.token, declined.owner, { failureCode: 'payment_not_completed', khalti: null, now: now + 1 });
      await store.release(released.token, released.owner);
      const refund = await store.beginRefund(paid.token, {
        id: freshToken('refund'),
        amount: 400,
        mobile: null,
        owner: 'r',
        now: now + 3,
        leaseMs: LEASE,
      });
      assert.equal(refund.status, 'begun');
      await store.finishRefund(paid.token, refund.record!.refund!.id, 'r', { outcome: 'refunded', now: now + 4 });
      const after = await store.totals();
      const delta = (state: keyof LedgerTotals) => ({
        count: after[state].count - before[state].count,
        amount: after[state].amount - before[state].amount,
        refunded: after[state].refunded - before[state].refunded,
      });
      assert.deepEqual(delta('fulfilled'), { count: 1, amount: 1500, refunded: 400 });
      assert.deepEqual(delta('declined'), { count: 1, amount: 700, refunded: 0 });
      assert.deepEqual(delta('claimed'), { count: 0, amount: 0, refunded: 0 });
      assert.deepEqual(delta('verified'), { count: 0, amount: 0, refunded: 0 });
      assert.deepEqual(delta('unfulfillable'), { count: 0, amount: 0, refunded: 0 });
      assert.equal(await store.count(), countBefore + 2);
      assert.equal(await store.count({ state: 'declined' }), declinedBefore + 1);
      assert.equal(await store.count({ state: 'fulfilled' }), after.fulfilled.count);
    });
  });
}
