// The leak check itself must be able to fail, or the secret-hygiene guarantee of every other test is hollow.
import request from 'supertest';
import { assertNoSecretLeaked, createShop, recordForLeakCheck, SECRET_KEY } from '../helpers/app';

describe('the secret leak check', () => {
  it('fails when a recorded line holds the key', () => {
    recordForLeakCheck(`Authorization: Key ${SECRET_KEY}`);
    expect(() => assertNoSecretLeaked()).toThrow();
  });

  it('sees every response of a test shop, even one requested directly', async () => {
    const shop = createShop();
    shop.app.get('/leaky', (_req, res) => {
      res.json({ key: SECRET_KEY });
    });
    await request(shop.app).get('/leaky');
    expect(() => assertNoSecretLeaked()).toThrow();
  });
});
