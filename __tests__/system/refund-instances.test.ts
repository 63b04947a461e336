// Refunds across app instances: three Node processes share a PostgreSQL (a MySQL/MariaDB, a Redis) ledger and are all
// asked at once to refund the same payments. Khalti must see one refund POST per payment, whichever
// process sends it; every other call answers refund_in_progress (or, once the refund is made, that
// nothing is left to refund).
import { SECRET_KEY } from '../helpers/app';
import { ensureBuilt, postJson, useChildApps, type ChildApp } from '../helpers/child-app';
import { useSandbox } from '../helpers/sandbox';
import { SHARED_KINDS, sharedLedger, type SharedLedger } from '../helpers/shared-ledger';

const INSTANCES = 3;
const CALLS = 30;

const sandbox = useSandbox({ secretKey: SECRET_KEY });
const apps = useChildApps();

beforeAll(() => ensureBuilt(), 120_000);

const refundPosts = (transactionId: string) => sandbox.requests.filter((r) => r.path.endsWith(`/${transactionId}/refund/`));

/** One widget payment and one ePayment, verified through the first instance. */
async function paidPayments(first: ChildApp): Promise<{ token: string; pidx: string }> {
  const { token } = sandbox.pay({ amount: 1000 });
  expect((await postJson(`${first.url}/khalti/verify`, { token, amount: 1000, orderId: 'O-1' }))?.status).toBe(200);
  const started = await postJson(`${first.url}/khalti/initiate`, { orderId: 'O-2' });
  const pidx = String(started?.body.pidx);
  sandbox.setEpaymentStatus(pidx, 'Completed');
  expect((await postJson(`${first.url}/khalti/verify`, { pidx, orderId: 'O-2' }))?.status).toBe(200);
  return { token, pidx };
}

/** `CALLS` full refunds of one payment at once, spread over the instances; answers per instance. */
async function refundStorm(instances: ChildApp[], key: { token: string } | { pidx: string }) {
  const answers = await Promise.all(
    Array.from({ length: CALLS }, async (_, i) => ({
      instance: i % INSTANCES,
      answer: await postJson(`${instances[i % INSTANCES]!.url}/refund`, key),
    })),
  );
  const made = answers.filter(({ answer }) => answer?.status === 200);
  expect(made).toHaveLength(1);
  expect(made[0]!.answer!.body).toMatchObject({ ok: true, amount: 1000, refundedTotal: 1000, remaining: 0 });
  const refused = answers.filter(({ answer }) => answer?.status !== 200);
  expect(refused.map(({ answer }) => answer?.status)).toEqual(Array(CALLS - 1).fill(409));
  const codes = new Set(refused.map(({ answer }) => answer?.body.error));
  expect([...codes].filter((code) => code !== 'refund_in_progress' && code !== 'refund_too_large')).toEqual([]);
  // Other processes than the one that made the refund were turned away while it was being made.
  const inProgressElsewhere = refused.filter(
    ({ instance, answer }) => instance !== made[0]!.instance && answer?.body.error === 'refund_in_progress',
  );
  expect(inProgressElsewhere.length).toBeGreaterThan(0);
  return String(made[0]!.answer!.body.transactionId);
}

async function refundAcross(ledger: SharedLedger): Promise<void> {
  const instances = await Promise.all(
    Array.from({ length: INSTANCES }, () =>
      apps.start({
        ...ledger.env,
        KHX_KHALTI_URL: sandbox.baseUrl,
        KHX_SECRET_KEY: SECRET_KEY,
        KHX_SIDE_EFFECTS: '/dev/null',
      }),
    ),
  );
  const { token, pidx } = await paidPayments(instances[0]!);
  // Khalti takes its time over a refund, so that every call arrives while the first is being made.
  sandbox.faults.latencyMs = 300;
  const widgetIdx = await refundStorm(instances, { token });
  expect(refundPosts(widgetIdx)).toHaveLength(1);
  expect(sandbox.transaction(token)?.refundedAmount).toBe(1000);
  const epaymentTx = await refundStorm(instances, { pidx });
  expect(refundPosts(epaymentTx)).toHaveLength(1);
  expect(sandbox.epayment(pidx)?.status).toBe('Refunded');
  // Afterwards, any instance knows there is nothing left to refund, without asking Khalti.
  sandbox.faults.latencyMs = 0;
  for (const instance of instances) expect((await postJson(`${instance.url}/refund`, { token }))?.body.error).toBe('refund_too_large');
  expect(sandbox.requests.filter((r) => r.path.endsWith('/refund/'))).toHaveLength(2);
  for (const app of instances) expect(app.stderr()).toBe('');
}

describe('three app instances refunding one payment at once', () => {
  it.each(SHARED_KINDS)(
    '%s: 30 concurrent refunds of a widget payment, then of an ePayment: one POST each',
    async (kind) => {
      const ledger = await sharedLedger(kind, 'refunds');
      try {
        await refundAcross(ledger);
        if (ledger.redis) {
          expect(await ledger.redis.zcard(`${ledger.name}refunds`)).toBe(0);
        } else {
          const rows = await ledger.query(`SELECT refunded_total, refund_id FROM ${ledger.name} WHERE state = 'fulfilled'`);
          expect(rows.map((row) => ({ refunded_total: Number(row.refunded_total), refund_id: row.refund_id }))).toEqual([
            { refunded_total: 1000, refund_id: null },
            { refunded_total: 1000, refund_id: null },
          ]);
        }
      } finally {
        await ledger.drop();
      }
    },
    90_000,
  );
});
