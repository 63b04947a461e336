// ePayment's exactly-once guarantees on every real store: a paid pidx fulfils once under concurrent
// returns and replays, is bound to one order, and a paid-and-abandoned pidx is found by reconcile().
import request from 'supertest';
import { createShop, SECRET_KEY } from '../helpers/app';
import { onHostedPage } from '../helpers/epayment';
import { useSandbox } from '../helpers/sandbox';
import { realStores } from '../helpers/real-stores';
import { uniqueName } from '../helpers/services';

const sandbox = useSandbox({ secretKey: SECRET_KEY });
const STORES = realStores('epay');

const EPAYMENT = {
  returnUrl: 'https://shop.example/khalti/return',
  websiteUrl: 'https://shop.example',
  successUrl: (orderId: string) => `/ok/${orderId}`,
  failureUrl: (orderId: string, code: string) => `/fail/${orderId}/${code}`,
};

const pay = (pidx: string) => onHostedPage(sandbox, pidx, 'pay', { mobile: '9800000004' });

describe.each(STORES)('ePayment on %s', (_name, makeStore) => {
  it('fulfils a paid pidx exactly once, for its own order only, and reconciles an abandoned one', async () => {
    const store = makeStore();
    const [first, second, abandoned] = [uniqueName('E1'), uniqueName('E2'), uniqueName('E3')];
    const shop = createShop({
      store,
      baseUrl: sandbox.baseUrl,
      epayment: EPAYMENT,
      prices: { [first]: 1000, [second]: 2500, [abandoned]: 1000 },
    });
    try {
      const pidx = (await request(shop.app).post('/khalti/initiate').send({ orderId: first })).body.pidx as string;
      const back = await pay(pidx);
      const landings = await Promise.all([
        ...Array.from({ length: 10 }, () => request(shop.app).get(back)),
        ...Array.from({ length: 5 }, () => shop.post({ pidx, orderId: first })),
      ]);
      expect(landings.slice(0, 10).map((r) => r.headers.location)).toEqual(Array(10).fill(`/ok/${first}`));
      expect(landings.slice(10).map((r) => r.status)).toEqual(Array(5).fill(200));
      expect((await shop.post({ pidx, orderId: second })).body.error.code).toBe('token_already_used');
      // A second payment link for an order already paid is refused before Khalti is asked.
      expect((await request(shop.app).post('/khalti/initiate').send({ orderId: first })).body.error.code).toBe('order_already_paid');

      const lost = (await request(shop.app).post('/khalti/initiate').send({ orderId: abandoned })).body.pidx as string;
      await pay(lost);
      const summary = await shop.router.reconcile();
      expect(summary.fulfilled).toBe(1);
      expect(shop.verified.map((p) => [p.orderId, p.pidx])).toEqual([
        [first, pidx],
        [abandoned, lost],
      ]);
      expect(shop.verified.every((p) => p.token === null)).toBe(true);
    } finally {
      await store.close?.();
    }
  });
});
