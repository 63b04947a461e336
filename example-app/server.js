// Start the example shop: against a local Khalti sandbox, or the real Khalti when KHALTI_SECRET_KEY is set.
const { randomBytes } = require('node:crypto');
const { mkdirSync, rmSync } = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { createKhaltiSandbox } = require('khalti-express/sandbox');
const { createShopApp } = require('./app');

/** How often the shop re-drives payments a crash left behind. */
const RECONCILE_EVERY_MS = 60_000;

/** The shop's SQLite file (orders and the khalti-express ledger): SHOP_DB, else example-app/.data/shop-<mode>.sqlite. */
function databaseFile(env, live) {
  if (env.SHOP_DB) return env.SHOP_DB;
  const file = path.join(__dirname, '.data', `shop-${live ? 'live' : 'sandbox'}.sqlite`);
  mkdirSync(path.dirname(file), { recursive: true });
  // The in-process sandbox forgets its payments when it stops, so a sandbox shop starts afresh too.
  if (!live) for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  return file;
}

/**
 * Start the shop. Sandbox mode (no KHALTI_SECRET_KEY) starts the sandbox in this process; live mode
 * needs KHALTI_SECRET_KEY and KHALTI_PUBLIC_KEY (and KHALTI_BASE_URL for Khalti's test host).
 * Reconciles at start-up and every minute.
 */
async function startShop({ port = 3000, host = '127.0.0.1', env = process.env, log = console.log } = {}) {
  const live = Boolean(env.KHALTI_SECRET_KEY);
  let sandbox = null;
  let khalti;
  if (live) {
    if (!env.KHALTI_PUBLIC_KEY) throw new Error('KHALTI_PUBLIC_KEY is required with KHALTI_SECRET_KEY (the widget needs your public key)');
    khalti = {
      mode: 'live',
      secretKey: env.KHALTI_SECRET_KEY,
      publicKey: env.KHALTI_PUBLIC_KEY,
      baseUrl: env.KHALTI_BASE_URL || 'https://khalti.com',
    };
  } else {
    sandbox = await createKhaltiSandbox();
    khalti = {
      mode: 'sandbox',
      secretKey: sandbox.secretKey,
      publicKey: sandbox.publicKey,
      baseUrl: sandbox.baseUrl,
      checkoutUrl: `${sandbox.baseUrl}/checkout`,
      // SHOP_WIDGET=genuine: Khalti's real widget, for a test harness that routes its hosts to the sandbox.
      genuineWidget: env.SHOP_WIDGET === 'genuine',
    };
  }
  // Listen first: ePayment needs the shop's own URL (Khalti sends the customer back to it).
  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const url = `http://${host}:${server.address().port}`;
  const publicUrl = env.SHOP_PUBLIC_URL || url;
  // The owner's admin page: SHOP_ADMIN_PASSWORD, or in sandbox mode a fresh one printed below.
  const adminPassword = env.SHOP_ADMIN_PASSWORD || (live ? undefined : randomBytes(9).toString('base64url'));
  const shop = createShopApp({ khalti, publicUrl, database: databaseFile(env, live), adminPassword });
  server.on('request', shop.app);
  const reconcile = () => shop.verifier.reconcile().catch((error) => console.error(`example shop: reconcile failed: ${error.message}`));
  await reconcile();
  const timer = setInterval(reconcile, RECONCILE_EVERY_MS);
  timer.unref();
  const where = live ? `Khalti at ${khalti.baseUrl} with the real widget` : `a local Khalti sandbox at ${sandbox.baseUrl}`;
  const admin = !adminPassword
    ? 'no admin page (set SHOP_ADMIN_PASSWORD)'
    : env.SHOP_ADMIN_PASSWORD
      ? `admin at ${url}/admin`
      : `admin at ${url}/admin, password ${adminPassword}`;
  log(`Himal Bazaar (khalti-express example) in ${live ? 'LIVE' : 'SANDBOX'} mode, using ${where}: open ${url}; ${admin}`);
  const close = async () => {
    clearInterval(timer);
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections?.();
    await closed;
    await shop.close();
    if (sandbox) await sandbox.close();
  };
  return { url, sandbox, shop, adminPassword, close };
}

if (require.main === module) {
  startShop({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' })
    .then(({ close }) => {
      const stop = () => close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    })
    .catch((error) => {
      console.error(`example shop: ${error.message}`);
      process.exit(1);
    });
}

module.exports = { startShop };
