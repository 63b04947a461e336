// The shop's own order book: orders belong to a customer, and one payment marks one order paid, once.
const { randomUUID } = require('node:crypto');

class OrderBook {
  constructor() {
    /** @type {Map<string, any>} */
    this.orders = new Map();
    this.sequence = 0;
  }

  /** Create an unpaid order for a customer; the price comes from the catalogue, never from the browser. */
  create(customerId, product) {
    this.sequence += 1;
    const order = {
      id: `ORD-${this.sequence}-${randomUUID().slice(0, 8)}`,
      customerId,
      productId: product.id,
      productName: product.name,
      amountPaisa: product.pricePaisa,
      status: 'unpaid',
      paidWith: null,
      transactionId: null,
      fulfilments: 0,
      lastError: null,
      createdAt: new Date().toISOString(),
    };
    this.orders.set(order.id, order);
    return order;
  }

  /** The order, only if it is this customer's (anything else looks like "no such order"). */
  findForCustomer(orderId, customerId) {
    const order = this.orders.get(orderId);
    return order && order.customerId === customerId ? order : null;
  }

  /**
   * Mark paid — idempotent on the payment token, as khalti-express asks of onVerified: running it
   * twice for the same payment changes nothing the second time.
   */
  markPaid(orderId, { token, transactionId }) {
    const order = this.orders.get(orderId);
    if (!order) throw new Error(`no order ${orderId}`);
    if (order.status === 'paid') {
      if (order.paidWith === token) return order;
      throw new Error(`order ${orderId} is already paid with another payment`);
    }
    Object.assign(order, { status: 'paid', paidWith: token, transactionId, fulfilments: order.fulfilments + 1, lastError: null });
    return order;
  }

  /** Remember why the last payment attempt failed, to show it on the order page. */
  recordFailure(orderId, code, message) {
    const order = this.orders.get(orderId);
    if (order && order.status !== 'paid') order.lastError = { code, message };
  }
}

module.exports = { OrderBook };
