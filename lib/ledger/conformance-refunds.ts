// The refund part of the store conformance suite: one intent at a time per payment, the refunded total
// never past the amount, guarded settling, leases, and the two lists reconcile() reads.

import assert from 'node:assert/strict';
import type { ClaimInput, LedgerStore } from './store';

type WithStore = (name: string, fn: (store: LedgerStore) => Promise<void>, timeout?: number) => void;

export interface RefundFixtures {
  claimInput(overrides?: Partial<ClaimInput>): ClaimInput;
  freshToken(label: string): string;
  T0: number;
  LEASE: number;
  /** A second instance over the same data, as after a restart (durable stores only). */
  reopen?: (closed: LedgerStore) => LedgerStore | Promise<LedgerStore>;
}

export function refundConformance(describe: (name: string, fn: () => void) => void, withStore: WithStore, f: RefundFixtures): void {
  const { claimInput, freshToken, T0, LEASE, reopen } = f;

  /** A fulfilled payment of `amount` paisa with Khalti transaction id `idx`. */
  async function fulfilled(store: LedgerStore, amount = 1000, transactionId: string | null = 'idx-r') {
    const input = claimInput({ amount });
    await store.claim(input);
    assert.equal(
      await store.markVerified(input.token, input.owner, { transactionId, khalti: { idx: transactionId }, now: T0 + 1 }),
      'verified',
    );
    assert.equal(await store.markFulfilled(input.token, input.owner, { ok: true }, T0 + 2), true);
    return input;
  }

  const begin = (store: LedgerStore, token: string, amount?: number, now = T0 + 10) =>
    store.beginRefund(token, { id: freshToken('refund'), amount, mobile: null, owner: freshToken('owner'), now, leaseMs: LEASE });

  describe('refunds', () => {
    withStore('records a refund intent, settles it, and keeps the refunded total and history', async (store) => {
      const input = await fulfilled(store);
      const begun = await begin(store, input.token, 400);
      assert.equal(begun.status, 'begun');
      const intent = begun.record!.refund!;
      assert.equal(intent.amount, 400);
      assert.equal((await store.get(input.token))?.refund?.id, intent.id, 'the intent is stored before any POST');
      assert.equal(await store.finishRefund(input.token, intent.id, intent.owner!, { outcome: 'refunded', now: T0 + 11 }), true);
      const record = await store.get(input.token);
      assert.equal(record?.refundedTotal, 400);
      assert.equal(record?.refund, null);
      assert.deepEqual(record?.refunds, [{ id: intent.id, amount: 400, outcome: 'refunded', at: T0 + 11 }]);
      assert.equal(record?.state, 'fulfilled', 'a refund does not change the payment state');
    });

    withStore('an omitted amount is everything left; nothing left is too_large', async (store) => {
      const input = await fulfilled(store);
      const first = await begin(store, input.token, 300);
      await store.finishRefund(input.token, first.record!.refund!.id, first.record!.refund!.owner!, { outcome: 'refunded', now: T0 + 11 });
      const rest = await begin(store, input.token);
      assert.equal(rest.status, 'begun');
      assert.equal(rest.record!.refund!.amount, 700);
      await store.finishRefund(input.token, rest.record!.refund!.id, rest.record!.refund!.owner!, { outcome: 'refunded', now: T0 + 12 });
      assert.equal((await store.get(input.token))?.refundedTotal, 1000);
      assert.equal((await begin(store, input.token)).status, 'too_large');
      assert.equal((await begin(store, input.token, 1)).status, 'too_large');
    });

    withStore('refuses more than what is left, and a rejected refund adds nothing', async (store) => {
      const input = await fulfilled(store);
      assert.equal((await begin(store, input.token, 1001)).status, 'too_large');
      const begun = await begin(store, input.token, 1000);
      const intent = begun.record!.refund!;
      assert.equal(await store.finishRefund(input.token, intent.id, intent.owner!, { outcome: 'rejected', now: T0 + 11 }), true);
      const record = await store.get(input.token);
      assert.equal(record?.refundedTotal, 0);
      assert.equal(record?.refunds[0]?.outcome, 'rejected');
      assert.equal((await begin(store, input.token, 1000)).status, 'begun', 'after a refusal a new refund may start');
    });

    withStore('one intent at a time per payment, also when many begin at once', async (store) => {
      const input = await fulfilled(store);
      const results = await Promise.all(Array.from({ length: 20 }, () => begin(store, input.token, 100)));
      assert.equal(results.filter((r) => r.status === 'begun').length, 1);
      assert.ok(results.every((r) => r.status === 'begun' || r.status === 'in_progress'));
    });

    withStore('refuses what cannot be refunded: no record, a claim in flight, no transaction id', async (store) => {
      assert.deepEqual(await begin(store, freshToken('missing')), { status: 'not_found', record: null });
      const claimed = claimInput();
      await store.claim(claimed);
      assert.equal((await begin(store, claimed.token)).status, 'not_refundable');
      const noIdx = await fulfilled(store, 1000, null);
      assert.equal((await begin(store, noIdx.token)).status, 'not_refundable');
    });

    withStore('settling is guarded by the intent and its owner; an unknown outcome keeps the intent', async (store) => {
      const input = await fulfilled(store);
      const intent = (await begin(store, input.token, 500)).record!.refund!;
      assert.equal(await store.finishRefund(input.token, intent.id, 'someone-else', { outcome: 'refunded', now: T0 + 11 }), false);
      assert.equal(await store.finishRefund(input.token, 'another-refund', intent.owner!, { outcome: 'refunded', now: T0 + 11 }), false);
      assert.equal(await store.endRefundLease(input.token, intent.id, intent.owner!, T0 + 12), true);
      const pending = await store.get(input.token);
      assert.deepEqual(pending?.refund, { ...intent, owner: null, leaseUntil: 0 });
      assert.equal((await begin(store, input.token, 100)).status, 'in_progress', 'an unknown refund blocks the next one');
      assert.equal(await store.finishRefund(input.token, intent.id, intent.owner!, { outcome: 'refunded', now: T0 + 13 }), false);
      assert.equal((await store.get(input.token))?.refundedTotal, 0);
    });

    withStore('a pending refund is taken over only once its lease ended, by one taker', async (store) => {
      const input = await fulfilled(store);
      const intent = (await begin(store, input.token, 500, T0 + 10)).record!.refund!;
      assert.equal(await store.takeRefund(input.token, intent.id, 'early', T0 + 10 + LEASE - 1, LEASE), false);
      const early = await store.listPendingRefunds(T0 + 10 + LEASE - 1, 1000);
      assert.equal(early.filter((record) => record.token === input.token).length, 0, 'not listed while its lease is live');
      const later = T0 + 10 + LEASE;
      const listed = await store.listPendingRefunds(later, 1000);
      assert.ok(listed.some((record) => record.token === input.token && record.refund?.id === intent.id));
      const takers = await Promise.all(['a', 'b', 'c'].map((owner) => store.takeRefund(input.token, intent.id, owner, later, LEASE)));
      assert.equal(takers.filter(Boolean).length, 1);
      const owner = ['a', 'b', 'c'][takers.indexOf(true)]!;
      assert.equal(await store.finishRefund(input.token, intent.id, owner, { outcome: 'refunded', now: later + 1 }), true);
      assert.equal((await store.get(input.token))?.refundedTotal, 500);
      assert.ok(!(await store.listPendingRefunds(later + 2, 1000)).some((record) => record.token === input.token));
    });

    withStore('lists an unfulfillable payment as owed a refund until a refund of it is tried', async (store) => {
      const input = claimInput();
      await store.claim(input);
      await store.markUnfulfillable(input.token, input.owner, {
        transactionId: 'idx-u',
        khalti: null,
        failureCode: 'amount_mismatch',
        now: T0 + 1,
      });
      const noIdx = claimInput();
      await store.claim(noIdx);
      await store.markUnfulfillable(noIdx.token, noIdx.owner, {
        transactionId: null,
        khalti: null,
        failureCode: 'amount_mismatch',
        now: T0 + 1,
      });
      const owed = (await store.listOwedRefunds(1000)).map((record) => record.token);
      assert.ok(owed.includes(input.token));
      assert.ok(!owed.includes(noIdx.token), 'no transaction id: nothing to refund through Khalti');
      const intent = (await begin(store, input.token)).record!.refund!;
      assert.ok(!(await store.listOwedRefunds(1000)).some((record) => record.token === input.token), 'not while a refund is pending');
      await store.finishRefund(input.token, intent.id, intent.owner!, { outcome: 'rejected', now: T0 + 12 });
      assert.ok(!(await store.listOwedRefunds(1000)).some((record) => record.token === input.token), 'tried once: never listed again');
    });

    withStore('a record read back carries copies of its refund fields', async (store) => {
      const input = await fulfilled(store);
      const begun = await begin(store, input.token, 200);
      begun.record!.refund!.amount = 999;
      const record = await store.get(input.token);
      record!.refunds.push({ id: 'x', amount: 1, outcome: 'refunded', at: 0 });
      assert.equal((await store.get(input.token))?.refund?.amount, 200);
      assert.deepEqual((await store.get(input.token))?.refunds, []);
    });

    if (reopen) {
      withStore('a pending intent and the refunded total survive a restart, and still hold the payment', async (store) => {
        const input = await fulfilled(store);
        const first = (await begin(store, input.token, 250)).record!.refund!;
        await store.finishRefund(input.token, first.id, first.owner!, { outcome: 'refunded', now: T0 + 11 });
        const pending = (await begin(store, input.token, 300, T0 + 20)).record!.refund!;
        await store.close?.();
        const after = await reopen(store);
        try {
          const record = await after.get(input.token);
          assert.equal(record?.refundedTotal, 250);
          assert.deepEqual(record?.refund, pending, 'the intent is read back as it was recorded');
          assert.deepEqual(record?.refunds, [{ id: first.id, amount: 250, outcome: 'refunded', at: T0 + 11 }]);
          assert.equal((await begin(after, input.token, 1, T0 + 21)).status, 'in_progress', 'no second intent after the restart');
          const due = await after.listPendingRefunds(T0 + 20 + LEASE, 1000);
          assert.ok(
            due.some((listed) => listed.token === input.token),
            'listed for resolution once its lease ends',
          );
          assert.equal(await after.takeRefund(input.token, pending.id, 'resolver', T0 + 20 + LEASE, LEASE), true);
          assert.equal(await after.finishRefund(input.token, pending.id, 'resolver', { outcome: 'refunded', now: T0 + 30 + LEASE }), true);
          assert.equal((await after.get(input.token))?.refundedTotal, 550);
        } finally {
          await after.close?.();
        }
      });
    }
  });
}
