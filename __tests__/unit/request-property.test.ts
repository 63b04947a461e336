// Property-based tests of body validation: nothing crashes the handler, only valid input reaches the app.
import fc from 'fast-check';
import request from 'supertest';
import { createRequestParser, FROM_BODY, ORDER_ID_PATTERN, TOKEN_PATTERN } from '../../lib/request';
import { createShop } from '../helpers/app';

const parse = createRequestParser(1000);

function isValid(body: Record<string, unknown>): boolean {
  const { token, amount } = body;
  const orderId = body.orderId !== undefined ? body.orderId : body.product_identity;
  const paisa = typeof amount === 'string' && /^[0-9]{1,16}$/.test(amount) ? Number(amount) : amount;
  return (
    typeof token === 'string' &&
    TOKEN_PATTERN.test(token) &&
    typeof paisa === 'number' &&
    Number.isSafeInteger(paisa) &&
    paisa >= 1000 &&
    typeof orderId === 'string' &&
    ORDER_ID_PATTERN.test(orderId)
  );
}

const anyValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,130}$/),
  fc.integer({ min: 0, max: 100_000 }).map(String),
  fc.constantFrom('1000', '10.5', '1e3', ' 1000', '-1', '0', '1000.0001', '9007199254740993', '__proto__', 'A-17'),
);

const bodies = fc.record(
  { token: anyValue, amount: anyValue, orderId: anyValue, product_identity: anyValue, extra: anyValue },
  { requiredKeys: [] },
);

describe('body validation (property-based)', () => {
  it('accepts exactly the valid bodies, and returns the parsed values', () => {
    fc.assert(
      fc.property(bodies, (body) => {
        const result = parse(body, FROM_BODY);
        expect(result.ok).toBe(isValid(body));
        if (result.ok) {
          if ('pidx' in result.value) throw new Error('a body without pidx parsed as ePayment');
          expect(result.value.token).toBe(body.token);
          expect(Number.isSafeInteger(result.value.amount)).toBe(true);
          expect(result.value.amount).toBe(Number(body.amount));
        } else {
          expect(result.details.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('no input crashes the handler, and only valid inputs reach expectedAmount', async () => {
    const shop = createShop({ prices: {} });
    await fc.assert(
      fc.asyncProperty(bodies, fc.boolean(), async (body, asForm) => {
        const before = shop.expectedAmountCalls.length;
        const sendable = asForm
          ? Object.fromEntries(
              Object.entries(body).map(([k, v]) => [k, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)]),
            )
          : body;
        const response = await request(shop.app)
          .post('/khalti/verify')
          .type(asForm ? 'form' : 'json')
          .send(sendable);
        expect([400, 404]).toContain(response.status);
        expect(response.body.ok).toBe(false);
        const reached = shop.expectedAmountCalls.length > before;
        expect(reached).toBe(response.status === 404);
        if (reached) expect(isValid(sendable as Record<string, unknown>)).toBe(true);
      }),
      { numRuns: 300 },
    );
    expect((await request(shop.app).get('/health')).status).toBe(200);
  });
});
