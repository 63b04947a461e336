// The order's price, from the app's `expectedAmount` hook, checked: the one place it is asked.

import { KhaltiError } from '../errors';
import { describeError, type Log } from '../log';
import type { Config } from '../options';

/**
 * The order's price from `expectedAmount`, checked: a positive whole number of paisa, or the error to
 * answer (`order_not_found` for null/undefined, `internal_error` if it threw or returned nonsense).
 * `req` is `undefined` when `reconcile()` asks.
 */
export async function askExpectedAmount<Req>(
  config: Config<Req>,
  log: Log,
  orderId: string,
  req: Req | undefined,
): Promise<number | KhaltiError> {
  let expected: unknown;
  try {
    expected = await config.expectedAmount(orderId, req);
  } catch (error) {
    log('error', 'expectedAmount threw', { orderId, error: describeError(error) });
    return new KhaltiError('internal_error');
  }
  if (expected === null || expected === undefined) return new KhaltiError('order_not_found');
  if (typeof expected !== 'number' || !Number.isSafeInteger(expected) || expected <= 0) {
    log('error', 'expectedAmount must return a positive whole number of paisa, or null', { orderId });
    return new KhaltiError('internal_error');
  }
  return expected;
}
