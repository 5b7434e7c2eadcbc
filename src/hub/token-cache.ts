/**
 * @module Tokens that authenticated recently, so the hot path does not hash every request. An
 * entry is found by the token's first 16 characters and then compared whole in constant time;
 * the prefix carries 96 of the token's 192 random bits, so finding an entry by timing is as hard
 * as guessing them. Raw tokens stay in memory only (never on disk), bounded by count. An entry
 * proves nothing by itself: the caller checks that its principal is still registered, so rotation
 * and deletion need no invalidation here.
 */
const PREFIX = 16

interface Entry<P> {
  token: string
  principal: P
}

/** Compares every character whatever differs first (no early exit). */
function sameToken(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

export class TokenCache<P> {
  private readonly entries = new Map<string, Entry<P>>()

  constructor(private readonly max = 10_000) {}

  get(token: string): P | undefined {
    if (token.length <= PREFIX) return undefined
    const e = this.entries.get(token.slice(0, PREFIX))
    if (e === undefined) return undefined
    return sameToken(token, e.token) ? e.principal : undefined
  }

  set(token: string, principal: P): void {
    if (token.length <= PREFIX) return
    // Clearing at the bound keeps this O(1); the next request of each token re-hashes once.
    if (this.entries.size >= this.max) this.entries.clear()
    this.entries.set(token.slice(0, PREFIX), { token, principal })
  }
}
