import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestHub, type TestHub } from '../helpers/hub.js'

const t0 = Date.UTC(2026, 10, 23, 12, 0, 10)
const clock = { t: t0, now() { return this.t } }
let h: TestHub

beforeAll(async () => {
  h = await startTestHub(
    { HUB_RATE_LIMIT_PER_MIN: '5', HUB_CREATE_RATE_LIMIT_PER_MIN: '2', HUB_UNAUTH_RATE_LIMIT_PER_MIN: '3' },
    { clock },
  )
})
afterAll(() => h.stop())

describe('rate limits', () => {
  it('counts down X-RateLimit-Remaining per token and answers 429 with Retry-After, then resets with the window', async () => {
    const reset = String(Math.ceil((t0 - (t0 % 60_000) + 60_000) / 1000))
    for (let i = 4; i >= 0; i--) {
      const r = await h.req('GET', '/api/instance/list')
      expect(r.status).toBe(200)
      expect([r.headers.get('x-ratelimit-limit'), r.headers.get('x-ratelimit-remaining'), r.headers.get('x-ratelimit-reset')]).toEqual(['5', String(i), reset])
    }
    const over = await h.req('GET', '/api/instance/list')
    expect(over.status).toBe(429)
    expect(over.json).toEqual({ success: false, error: { message: 'Rate limit exceeded. Try again later.' } })
    expect(over.headers.get('retry-after')).toBe('50')
    expect(over.headers.get('x-ratelimit-remaining')).toBe('0')

    clock.t = t0 + 50_000
    const fresh = await h.req('GET', '/api/instance/list')
    expect(fresh.status).toBe(200)
    expect(fresh.headers.get('x-ratelimit-remaining')).toBe('4')
  })

  it('limits instance creation more strictly than other calls', async () => {
    clock.t = t0 + 120_000
    expect((await h.req('POST', '/api/instance/new', { body: { name: 'one' } })).status).toBe(201)
    expect((await h.req('POST', '/api/instance/new', { body: { name: 'two' } })).status).toBe(201)
    const third = await h.req('POST', '/api/instance/new', { body: { name: 'three' } })
    expect(third.status).toBe(429)
    expect(third.json).toEqual({ success: false, error: { message: 'Rate limit exceeded. Try again later.' } })
    expect(third.headers.get('x-ratelimit-limit')).toBe('2')
    expect(third.headers.get('x-ratelimit-remaining')).toBe('0')
    expect(Number(third.headers.get('retry-after'))).toBe(Number(third.headers.get('x-ratelimit-reset')) - Math.floor(clock.t / 1000))
    const list = await h.req('GET', '/api/instance/list')
    expect(list.status).toBe(200)
    expect(list.json.message).toBe('2 Instances found')
  })

  it('limits requests without a valid token per client address', async () => {
    clock.t = t0 + 240_000
    for (let i = 0; i < 3; i++) expect((await h.req('GET', '/api/instance/list', { token: `guess-${i}` })).status).toBe(401)
    const r = await h.req('GET', '/api/instance/list', { token: 'guess-4' })
    expect(r.status).toBe(429)
    expect(r.json.error.message).toBe('Rate limit exceeded. Try again later.')
    expect((await h.req('GET', '/api/instance/list', { token: null })).status).toBe(429)
    expect((await h.req('GET', '/api/instance/list')).status).toBe(200)
  })

  it('counts a 304 against the limit', async () => {
    clock.t = t0 + 360_000
    const first = await h.req('GET', '/api/instance/list')
    const r = await h.req('GET', '/api/instance/list', { headers: { 'if-none-match': first.headers.get('etag')! } })
    expect(r.status).toBe(304)
    expect(r.headers.get('x-ratelimit-remaining')).toBe('3')
  })
})
