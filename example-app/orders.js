// The shop's own order book, in SQLite: orders belong to a customer, and one payment marks one order paid, once.
const { randomUUID } = require('node:crypto');
const Database = require('better-sqlite3');

const SCHEMA = `
CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  product_name TEXT NOT NULL,
  amount_paisa INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'unpaid',
  paid_with TEXT UNIQUE,
  transaction_id TEXT,
  fulfilments INTEGER NOT NULL DEFAULT 0,
  last_error_code TEXT,
  last_error_message TEXT,
  refunded_paisa INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);`;

function fromRow(row) {
  if (!row) return null;
  return {
    id: row.id,
    customerId: row.customer_id,
    productId: row.product_id,
    productName: row.product_name,
    amountPaisa: row.amount_paisa,
    status: row.status,
    paidWith: row.paid_with,
    transactionId: row.transaction_id,
    fulfilments: row.fulfilments,
    lastError: row.last_error_code ? { code: row.last_error_code, message: row.last_error_message } : null,
    refundedPaisa: row.refunded_paisa ?? 0,
    createdAt: row.created_at,
  };
}

class OrderBook {
  /** @param {string} filename a SQLite file (the shop's database), or ':memory:' */
  constructor(filename = ':memory:') {
    this.db = new Database(filename, { timeout: 5000 });
    this.db.pragma('journal_mode = WAL');
    this.db.exec(SCHEMA);
    // A database made before refunds lacks the column.
    const columns = this.db.prepare("SELECT name FROM pragma_table_info('orders')").all();
    if (!columns.some((column) => column.name === 'refunded_paisa'))
      this.db.exec('ALTER TABLE orders ADD COLUMN refunded_paisa INTEGER NOT NULL DEFAULT 0');
  }

  /** Create an unpaid order for a customer; the price comes from the catalogue, never from the browser. */
  create(customerId, product) {
    const id = `ORD-${randomUUID().slice(0, 8)}`;
    this.db
      .prepare('INSERT INTO orders (id, customer_id, product_id, product_name, amount_paisa, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, customerId, product.id, product.name, product.pricePaisa, new Date().toISOString());
    return this.get(id);
  }

  get(orderId) {
    return fromRow(this.db.prepare('SELECT * FROM orders WHERE id = ?').get(orderId));
  }

  /** The order, only if it is this customer's (anything else looks like "no such order"). */
  findForCustomer(orderId, customerId) {
    const order = this.get(orderId);
    return order && order.customerId === customerId ? order : null;
  }

  /**
   * Mark paid — idempotent on the payment token, as khalti-express asks of onVerified: running it
   * twice for the same payment changes nothing the second time. One guarded UPDATE does it.
   */
  markPaid(orderId, { token, pidx, transactionId }) {
    // The payment's ledger key: the widget token, or pidx:<pidx> for an ePayment (the admin page's key).
    const key = token ?? `pidx:${pidx}`;
    const paid = this.db
      .prepare(
        `UPDATE orders SET status = 'paid', paid_with = ?, transaction_id = ?, fulfilments = fulfilments + 1,
         last_error_code = NULL, last_error_message = NULL WHERE id = ? AND status = 'unpaid'`,
      )
      .run(key, transactionId, orderId);
    const order = this.get(orderId);
    if (!order) throw new Error(`no order ${orderId}`);
    if (paid.changes === 0 && order.paidWith !== key) throw new Error(`order ${orderId} is already paid with another payment`);
    return order;
  }

  /** Record a refund khalti-express confirmed: idempotent, the refunded total only grows. */
  markRefunded(orderId, refundedTotal) {
    this.db.prepare('UPDATE orders SET refunded_paisa = MAX(refunded_paisa, ?) WHERE id = ?').run(refundedTotal, orderId);
  }

  /** Remember why the last payment attempt failed, to show it on the order page. */
  recordFailure(orderId, code, message) {
    this.db
      .prepare(`UPDATE orders SET last_error_code = ?, last_error_message = ? WHERE id = ? AND status = 'unpaid'`)
      .run(code, message, orderId);
  }

  close() {
    this.db.close();
  }
}

module.exports = { OrderBook };
