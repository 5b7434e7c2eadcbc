import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { newSigningSecret, signature } from './signing.js'

describe('Standard Webhooks signing', () => {
  it('makes secrets of 32 random bytes as whsec_ and base64', () => {
    const a = newSigningSecret()
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32)
    expect(newSigningSecret()).not.toBe(a)
  })

  it('signs id.timestamp.body so that the standardwebhooks package verifies it', () => {
    const secret = newSigningSecret()
    const body = '{"event":"instance.state","seq":7}'
    const ts = Math.floor(Date.now() / 1000)
    const headers = { 'webhook-id': 'msg_e_1_7_default', 'webhook-timestamp': String(ts), 'webhook-signature': signature(secret, 'msg_e_1_7_default', ts, body) }
    expect(new Webhook(secret).verify(body, headers)).toEqual({ event: 'instance.state', seq: 7 })
    expect(headers['webhook-signature']).toBe(new Webhook(secret).sign('msg_e_1_7_default', new Date(ts * 1000), body))
    expect(() => new Webhook(newSigningSecret()).verify(body, headers)).toThrow()
    expect(() => new Webhook(secret).verify(body.replace('7', '8'), headers)).toThrow()
  })
})
