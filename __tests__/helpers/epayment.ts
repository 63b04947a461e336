// ePayment test helpers: the test shop's ePayment options, and the customer's visit to Khalti's hosted page.
import type { EpaymentOptions } from '../../lib';
import type { KhaltiSandbox } from '../../lib/sandbox';

/** The test shop's ePayment options: Khalti returns to shop.example, which sends the customer to the order page. */
export const SHOP_EPAYMENT: EpaymentOptions = {
  returnUrl: 'https://shop.example/khalti/return',
  websiteUrl: 'https://shop.example',
  successUrl: (orderId: string) => `/orders/${encodeURIComponent(orderId)}`,
  failureUrl: (orderId: string, code: string) => `/orders/${encodeURIComponent(orderId)}?error=${code}`,
};

/**
 * Pay (or cancel) on the sandbox's hosted page with Khalti's published test credentials; answers the
 * path and query of the return URL the customer is sent back to (checked against `returnUrl` when given).
 */
export async function onHostedPage(
  sandbox: KhaltiSandbox,
  pidx: string,
  action: 'pay' | 'cancel' = 'pay',
  { mobile = '9800000001', returnUrl }: { mobile?: string; returnUrl?: string } = {},
): Promise<string> {
  const fields: Record<string, string> = action === 'pay' ? { pidx, mobile, pin: '1111', otp: '987654' } : { pidx };
  const response = await fetch(`${sandbox.baseUrl}/epayment/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
  const back = new URL(response.headers.get('location')!);
  if (returnUrl !== undefined) expect(`${back.origin}${back.pathname}`).toBe(returnUrl);
  return `${back.pathname}${back.search}`;
}
