import { describe, expect, it } from 'vitest'
import { pictureExpiry, pictureRefreshDelay } from './picture.js'

const POLICY = { pictureRefreshMarginMs: 3_600_000, pictureRefreshFallbackMs: 6 * 3_600_000, pictureRetryMs: 600_000 }
const NOW = Date.parse('2026-03-01T12:00:00.000Z')

describe('pictureExpiry', () => {
  it('reads the oe= parameter as hex Unix seconds', () => {
    // The URL reported as "URL signature expired" in wppconnect#1315: oe=630F8F9D is 2022-08-31T16:43:09Z.
    expect(new Date(pictureExpiry('https://pps.whatsapp.net/v/t61.24694-24/1_2_3_n.jpg?ccb=11-4&oh=01_AdQ&oe=630F8F9D&_nc_cat=1')!).toISOString()).toBe(
      '2022-08-31T16:43:09.000Z',
    )
  })

  it.each(['https://pps.example/a.jpg', 'https://pps.whatsapp.net/x.jpg?oe=zz', 'not a url'])('is null for %j', (url) => {
    expect(pictureExpiry(url)).toBeNull()
  })
})

describe('pictureRefreshDelay', () => {
  const oe = (ms: number) => `https://pps.whatsapp.net/v/x_n.jpg?oh=01_Q&oe=${Math.floor(ms / 1000).toString(16)}`

  it.each<[string, string | null | undefined, number | null]>([
    ['an hour before the expiry', oe(NOW + 5 * 3_600_000), 4 * 3_600_000],
    ['not sooner than the retry delay for an expired URL', oe(NOW - 86_400_000), 600_000],
    ['at most a day ahead for a far expiry', oe(NOW + 30 * 86_400_000), 24 * 3_600_000],
    ['every 6 h without an expiry', 'https://pps.example/a.jpg', 6 * 3_600_000],
    ['10 min after a failed fetch', undefined, 600_000],
    ['never without a picture', null, null],
  ])('refetches %s', (_, url, delay) => {
    expect(pictureRefreshDelay(url, NOW, POLICY)).toBe(delay)
  })
})
