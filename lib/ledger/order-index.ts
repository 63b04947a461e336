// MemoryStore's index from an order to its tokens: a lone token as itself (nearly every order), a Set
// only for two or more, so a million one-token orders cost a million strings, not a million Sets.

export class OrderIndex {
  readonly #tokens = new Map<string, string | Set<string>>();

  tokensOf(orderId: string): string[] {
    const tokens = this.#tokens.get(orderId);
    return tokens === undefined ? [] : typeof tokens === 'string' ? [tokens] : [...tokens];
  }

  add(orderId: string, token: string): void {
    const tokens = this.#tokens.get(orderId);
    if (tokens === undefined) this.#tokens.set(orderId, token);
    else if (typeof tokens === 'string') this.#tokens.set(orderId, new Set([tokens, token]));
    else tokens.add(token);
  }

  remove(orderId: string, token: string): void {
    const tokens = this.#tokens.get(orderId);
    if (tokens === token) this.#tokens.delete(orderId);
    else if (tokens instanceof Set) {
      tokens.delete(token);
      if (tokens.size === 1) this.#tokens.set(orderId, tokens.values().next().value as string);
    }
  }
}
