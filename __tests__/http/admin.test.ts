// The admin pages over a shop's ledger, against the sandbox: authorization first, the summary, the list
// with filters and paging, a payment's page, reconcile and refund as POSTs behind a CSRF check answered
// with redirects, escaping, and the headers every page sends.
import request from 'supertest';
import { khaltiAdmin } from '../../lib/admin/admin';
import { parseRupees } from '../../lib/admin/money-input';
import { assertNoSecretLeaked, createShop, SECRET_KEY, type ShopOptions } from '../helpers/app';
import { useSandbox } from '../helpers/sandbox';

const sandbox = useSandbox({ secretKey: SECRET_KEY });

function adminShop(options: ShopOptions & { allow?: (req: { headers: Record<string, unknown> }) => boolean | Promise<boolean> } = {}) {
  const { allow = (req) => req.headers['x-operator'] === 'yes', ...shopOptions } = options;
  const shop = createShop({
    baseUrl: sandbox.baseUrl,
    prices: { 'A-17': 1000, 'B-2': 2500, '<script>alert(1)</script>': 1200 },
    ...shopOptions,
  });
  shop.app.use('/admin', khaltiAdmin(shop.router, { authorize: allow, pageSize: 2 }));
  const agent = request.agent(shop.app);
  const get = (path: string) => agent.get(`/admin${path}`).set('X-Operator', 'yes');
  const post = (path: string, body: Record<string, string>) => agent.post(`/admin${path}`).set('X-Operator', 'yes').type('form').send(body);
  /** The CSRF token of a page's form. */
  const csrfOf = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
  return Object.assign(shop, { get, adminPost: post, csrfOf, agent });
}

async function paid(shop: ReturnType<typeof adminShop>, orderId = 'A-17', amount = 1000): Promise<string> {
  const { token } = sandbox.pay({ amount });
  expect((await shop.post({ token, amount, orderId })).status).toBe(200);
  return token;
}

afterEach(() => assertNoSecretLeaked());

describe('khaltiAdmin at start-up', () => {
  it('requires authorize and a verifier router, naming the fix', () => {
    const shop = createShop();
    expect(() => khaltiAdmin(shop.router, {} as never)).toThrow(/authorize\(req\)` is required/);
    expect(() => khaltiAdmin({} as never, { authorize: () => true })).toThrow(/router khaltiVerifier\(\) returned/);
    expect(() => khaltiAdmin(shop.router, { authorize: () => true, pageSize: 0 })).toThrow(/pageSize/);
  });
});

describe('khaltiAdmin pages', () => {
  it('answers 403 with nothing of the ledger to a request authorize() denies, or when it throws', async () => {
    const shop = adminShop({
      allow: (req) => {
        if (req.headers['x-operator'] === 'boom') throw new Error('session store down');
        return req.headers['x-operator'] === 'yes';
      },
    });
    await paid(shop);
    for (const operator of [undefined, 'no', 'boom']) {
      for (const path of ['/', '/payments', `/payments/x`]) {
        const call = request(shop.app).get(`/admin${path}`);
        const response = await (operator ? call.set('X-Operator', operator) : call);
        expect(response.status).toBe(403);
        expect(response.text).toBe('Forbidden');
      }
    }
    const posted = await request(shop.app).post('/admin/reconcile').type('form').send({ csrf: 'x' });
    expect(posted.status).toBe(403);
    expect(sandbox.requests.filter((r) => r.path.endsWith('/refund/'))).toEqual([]);
  });

  it('shows a summary: counts by state, money confirmed, refunded and owed back, with strict headers', async () => {
    const shop = adminShop();
    await paid(shop, 'A-17');
    await paid(shop, 'B-2', 2500);
    const response = await shop.get('/');
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).not.toMatch(/unsafe-inline/);
    const nonce = /style-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(response.text).toContain(`<style nonce="${nonce}">`);
    expect(response.text).toMatch(/Fulfilled<b><a [^>]*>2<\/a>/);
    expect(response.text).toContain('Money confirmed<b>Rs 35.00</b>');
    expect(response.text).toContain('Owed back<b><a href="/admin/payments?state=unfulfillable">Rs 0.00</a>');
    expect(response.headers['set-cookie']?.[0]).toMatch(/^khx_admin_csrf=[\w-]{43}; Path=\/admin; HttpOnly; SameSite=Strict/);
  });

  it('lists payments newest first in pages, filters by state and searches by order id; keys are masked, values escaped', async () => {
    const shop = adminShop();
    const first = await paid(shop, 'A-17');
    const second = await paid(shop, 'B-2', 2500);
    const evil = await paid(shop, '<script>alert(1)</script>', 1200);
    const listed = await shop.get('/payments');
    expect(listed.status).toBe(200);
    expect(listed.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(listed.text).not.toContain('<script>');
    expect(listed.text.indexOf(`token ${evil.slice(0, 4)}`)).toBeLessThan(listed.text.indexOf(`token ${second.slice(0, 4)}`));
    expect(listed.text).not.toContain(`>${first.slice(0, 4)}`);
    // The visible text never holds a whole token (links carry the key; the text shows it masked).
    const visible = listed.text.replace(/<[^>]*>/g, ' ');
    for (const token of [second, evil]) expect(visible).not.toContain(token);
    const older = /href="(\/admin\/payments\?before=[^"]+)"/.exec(listed.text)?.[1];
    expect(older).toBeDefined();
    const next = await shop.get(older!.replace('/admin', '').replaceAll('&amp;', '&'));
    expect(next.text).toContain('A-17');
    expect(next.text).not.toContain('B-2');
    const searched = await shop.get('/payments?order=B-2');
    expect(searched.text).toContain('B-2');
    expect(searched.text).not.toContain('A-17</td>');
    expect((await shop.get('/payments?state=declined')).text).toContain('No payments.');
    expect((await shop.get('/payments?before=garbage')).status).toBe(303);
  });

  it('shows a payment with its history and Khalti’s answer, and a refund form only when refundable', async () => {
    const shop = adminShop();
    const token = await paid(shop);
    const shown = await shop.get(`/payments/${encodeURIComponent(token)}`);
    expect(shown.status).toBe(200);
    expect(shown.text).toContain('Order A-17');
    expect(shown.text).toContain('Claimed: asked Khalti');
    expect(shown.text).toContain('Fulfilled');
    expect(shown.text).toContain(`&quot;idx&quot;: &quot;${sandbox.transaction(token)!.idx}&quot;`);
    expect(shown.text).toContain('action="/admin/payments/');
    // Khalti's answer is shown with its token masked too: the visible text never holds it whole.
    expect(shown.text.replace(/<[^>]*>/g, ' ')).not.toContain(token);
    expect((await shop.get('/payments/nope')).status).toBe(404);
  });
});

describe('khaltiAdmin actions', () => {
  it('refunds partially, then the rest, each a POST answered with a redirect and a notice shown once', async () => {
    const shop = adminShop();
    const token = await paid(shop);
    const path = `/payments/${encodeURIComponent(token)}`;
    const csrf = shop.csrfOf((await shop.get(path)).text);
    const partial = await shop.adminPost(`${path}/refund`, { csrf, amount: '3.50' });
    expect(partial.status).toBe(303);
    expect(partial.headers.location).toBe(`/admin${path}`);
    const after = await shop.get(path);
    expect(after.text).toContain('Refunded Rs 3.50; Rs 6.50 left.');
    expect(after.text).toContain('Partially refunded');
    expect((await shop.get(path)).text).not.toContain('Refunded Rs 3.50;');
    expect(sandbox.transaction(token)?.refundedAmount).toBe(350);
    await shop.adminPost(`${path}/refund`, { csrf, amount: '' });
    const full = await shop.get(path);
    expect(full.text).toContain('Refunded Rs 6.50; Rs 0.00 left.');
    expect(full.text).not.toContain('name="amount"');
    expect(sandbox.transaction(token)).toMatchObject({ state: 'Refunded', refundedAmount: 1000 });
  });

  it('shows the refund error’s message, and refuses an amount that is not rupees', async () => {
    const shop = adminShop();
    const token = await paid(shop);
    const path = `/payments/${encodeURIComponent(token)}`;
    const csrf = shop.csrfOf((await shop.get(path)).text);
    await shop.adminPost(`${path}/refund`, { csrf, amount: '12.345' });
    expect((await shop.get(path)).text).toContain('the amount must be rupees with at most two decimals');
    await shop.adminPost(`${path}/refund`, { csrf, amount: '11' });
    expect((await shop.get(path)).text).toMatch(/Refund not made: .*\[refund_too_large\]/);
    expect(sandbox.requests.filter((r) => r.path.endsWith('/refund/'))).toEqual([]);
  });

  it('refuses a POST without the CSRF token, with a wrong one, or from another site, and does nothing', async () => {
    const shop = adminShop();
    const token = await paid(shop);
    const path = `/payments/${encodeURIComponent(token)}`;
    const csrf = shop.csrfOf((await shop.get(path)).text);
    expect((await shop.adminPost(`${path}/refund`, { amount: '1' })).status).toBe(403);
    expect((await shop.adminPost(`${path}/refund`, { csrf: 'A'.repeat(43), amount: '1' })).status).toBe(403);
    const forged = await shop.agent
      .post(`/admin${path}/refund`)
      .set('X-Operator', 'yes')
      .set('Origin', 'https://evil.example')
      .type('form')
      .send({ csrf, amount: '1' });
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('another site');
    // Without the cookie (another browser, or a cross-site request SameSite kept it from), the token alone is not enough.
    const cookieless = await request(shop.app)
      .post(`/admin${path}/refund`)
      .set('X-Operator', 'yes')
      .type('form')
      .send({ csrf, amount: '1' });
    expect(cookieless.status).toBe(403);
    expect(sandbox.requests.filter((r) => r.path.endsWith('/refund/'))).toEqual([]);
    expect((await shop.adminPost('/reconcile', {})).status).toBe(403);
  });

  it('settles a pending refund by hand from the payment’s page, posting nothing to Khalti', async () => {
    const shop = adminShop({ timeoutMs: 300 });
    const token = await paid(shop);
    await shop.router.refund({ token }, { amount: 300 });
    sandbox.faults.inject('lost_reply', { on: 'refund' });
    await shop.router.refund({ token }, { amount: 200 }).catch(() => undefined);
    const path = `/payments/${encodeURIComponent(token)}`;
    const page = (await shop.get(path)).text;
    expect(page).toContain('Pending refund');
    expect(page).not.toContain('name="amount"');
    const refundId = /name="refundId" value="([^"]+)"/.exec(page)?.[1];
    expect(refundId).toBe((await shop.router.store.get(token))!.refund!.id);
    const posts = sandbox.requests.filter((r) => r.path.endsWith('/refund/')).length;
    expect((await shop.adminPost(`${path}/settle-refund`, { refundId: refundId!, outcome: 'refunded' })).status).toBe(403);
    const settled = await shop.adminPost(`${path}/settle-refund`, { csrf: shop.csrfOf(page), refundId: refundId!, outcome: 'refunded' });
    expect(settled.status).toBe(303);
    const after = (await shop.get(path)).text;
    expect(after).toContain('Refund settled as made; Rs 5.00 left.');
    expect(after).not.toContain('Pending refund');
    expect(sandbox.requests.filter((r) => r.path.endsWith('/refund/'))).toHaveLength(posts);
    expect(await shop.router.store.get(token)).toMatchObject({ refundedTotal: 500, refund: null });
  });

  it('reconciles now and shows the summary of what it did', async () => {
    const shop = adminShop();
    const csrf = shop.csrfOf((await shop.get('/')).text);
    const done = await shop.adminPost('/reconcile', { csrf });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/admin/');
    expect((await shop.get('/')).text).toContain(
      'Reconciled: 0 fulfilled, 0 released, 0 unsettled; refunds: 0 resolved, 0 pending, 0 made.',
    );
  });
});

describe('parseRupees', () => {
  it.each([
    ['150', 15_000],
    ['12.5', 1250],
    ['12.50', 1250],
    ['19.99', 1999],
    ['0.29', 29],
    ['1,200.50', 120_050],
    [' 8.2 ', 820],
    ['12,34,567', 123_456_700],
    ['1.', 100],
    ['.5', 50],
  ])('%p → %p paisa, exactly', (text, paisa) => {
    expect(parseRupees(text)).toBe(paisa);
  });

  it.each(['', '0', '0.00', '-1', '1.234', '1e3', 'abc', '12,34', '.', '99999999999999999'])('refuses %p', (text) => {
    expect(parseRupees(text)).toBeNull();
  });
});
