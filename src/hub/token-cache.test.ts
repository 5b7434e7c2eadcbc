import { describe, expect, it } from 'vitest'
import { TokenCache } from './token-cache.js'

const TOKEN = 'AAAAAAAAAAAAAAAA-the-rest-of-it-'

describe('TokenCache', () => {
  it('finds a token it was given, whole', () => {
    const c = new TokenCache<string>()
    c.set(TOKEN, 'p1')
    expect(c.get(TOKEN)).toBe('p1')
  })

  it('refuses a token that shares the prefix but not the rest', () => {
    const c = new TokenCache<string>()
    c.set(TOKEN, 'p1')
    expect(c.get('AAAAAAAAAAAAAAAA-the-rest-of-iX')).toBeUndefined()
    expect(c.get('AAAAAAAAAAAAAAAA-the-rest-of-it-and-more')).toBeUndefined()
    expect(c.get('AAAAAAAAAAAAAAAA')).toBeUndefined()
  })

  it('keeps no token of 16 characters or fewer', () => {
    const c = new TokenCache<string>()
    c.set('short-token-16ch', 'p1')
    expect(c.get('short-token-16ch')).toBeUndefined()
  })

  it('holds at most its bound, forgetting everything when it is reached', () => {
    const c = new TokenCache<number>(2)
    c.set(`${'a'.repeat(16)}1`, 1)
    c.set(`${'b'.repeat(16)}2`, 2)
    c.set(`${'c'.repeat(16)}3`, 3)
    expect([c.get(`${'a'.repeat(16)}1`), c.get(`${'b'.repeat(16)}2`), c.get(`${'c'.repeat(16)}3`)]).toEqual([undefined, undefined, 3])
  })
})
