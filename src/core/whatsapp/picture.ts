/**
 * @module When to refetch a profile picture URL. WhatsApp's CDN URLs are signed until the time in
 * their `oe` parameter (hex Unix seconds, e.g. `oe=630F8F9D`); the CDN refuses them after it.
 */

/** Epoch ms the URL stops working, or null when it carries no readable `oe`. */
export function pictureExpiry(url: string): number | null {
  let oe: string | null
  try {
    oe = new URL(url).searchParams.get('oe')
  } catch {
    return null
  }
  if (oe === null || !/^[0-9a-fA-F]{1,12}$/.test(oe)) return null
  return parseInt(oe, 16) * 1000
}

export interface RefreshPolicy {
  pictureRefreshMarginMs: number
  pictureRefreshFallbackMs: number
  pictureRetryMs: number
}

/**
 * Delay until the next fetch of our picture: `marginMs` before its expiry (at least `retryMs`
 * away, so an already expired URL is not refetched in a loop), the fallback period when the URL
 * has no expiry, and `retryMs` after a failed fetch (`url` undefined). null: no picture, nothing
 * to refresh (an avatar change triggers the next fetch). At most four fallback periods: timers
 * past 2^31 ms fire at once in Node, and a far-off `oe` is no reason to trust a URL for weeks.
 */
export function pictureRefreshDelay(url: string | null | undefined, now: number, p: RefreshPolicy): number | null {
  if (url === null) return null
  if (url === undefined) return p.pictureRetryMs
  const expiry = pictureExpiry(url)
  if (expiry === null) return p.pictureRefreshFallbackMs
  return Math.min(p.pictureRefreshFallbackMs * 4, Math.max(p.pictureRetryMs, expiry - p.pictureRefreshMarginMs - now))
}
