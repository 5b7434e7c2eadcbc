import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { credsKey, instanceOfCredsKey, signalKey, token, untoken } from './session-keys.js'

// The KV client's key check (@nats-io/kv validateKey) plus NATS' ban on empty tokens.
const VALID_KEY = /^[-/=.\w]+$/

describe('session key names', () => {
  it('turns every string, JIDs included, into one valid token that reads back', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const t = token(s)
        expect(t).toMatch(/^[-\w]+$|^=$/)
        expect(untoken(t)).toBe(s)
      }),
    )
    expect(token('15551234567:12@s.whatsapp.net')).toBe('MTU1NTEyMzQ1Njc6MTJAcy53aGF0c2FwcC5uZXQ')
    expect(token('')).toBe('=')
  })

  it('builds signal keys of exactly four non-empty tokens the KV client accepts', () => {
    fc.assert(
      fc.property(fc.nat(), fc.string(), fc.string({ unit: 'binary' }), (id, type, keyId) => {
        const key = signalKey(id, type, keyId)
        expect(key).toMatch(VALID_KEY)
        expect(key.split('.').map((t) => t.length > 0)).toEqual([true, true, true, true])
      }),
    )
  })

  it('reads the instance back from a creds key and nothing else', () => {
    expect(instanceOfCredsKey(credsKey(42))).toBe(42)
    expect(instanceOfCredsKey('c.4.2')).toBeNull()
    expect(instanceOfCredsKey('k.42.x.y')).toBeNull()
  })
})
