// Where the ePayment return route may send the customer: never off the shop, whatever an order id says.

/**
 * A check for redirect targets: a path on the shop, or an absolute http(s) URL on the origin of
 * `returnUrl` or `websiteUrl` or one the app listed in `redirectOrigins`. A target is resolved the way the
 * customer's browser resolves a `Location` (against `returnUrl`), so `//evil.example`, `/\evil.example`
 * and `https://evil.example` are all refused.
 */
export function redirectCheck(epayment: {
  returnUrl: string;
  websiteUrl: string;
  redirectOrigins?: string[];
}): (target: unknown) => target is string {
  const allowed = new Set([epayment.returnUrl, epayment.websiteUrl, ...(epayment.redirectOrigins ?? [])].map((url) => new URL(url).origin));
  return (target): target is string => {
    if (typeof target !== 'string' || target === '') return false;
    let url: URL;
    try {
      url = new URL(target, epayment.returnUrl);
    } catch {
      return false;
    }
    return (url.protocol === 'https:' || url.protocol === 'http:') && allowed.has(url.origin);
  };
}
