import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { defaultConfig, type InstanceConfig } from '../../core/integrations.js'
import { AesGcmBox } from '../crypto/secret-box.js'
import { NO_KEY, openConfig, sealConfig } from './secrets.js'

const box = new AesGcmBox(randomBytes(32))

const secret = fc.string({ maxLength: 200 })
const config: fc.Arbitrary<InstanceConfig> = fc
  .record({
    hooks: fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.record({ authorization: secret, signingSecret: secret, url: fc.string({ maxLength: 50 }) }), { maxKeys: 4 }),
    password: secret,
    secretKey: secret,
    apiToken: secret,
  })
  .map(({ hooks, password, secretKey, apiToken }) => {
    const c = defaultConfig()
    for (const [label, h] of Object.entries(hooks)) c.webhooks[label] = { label, enabled: true, url: h.url, authorization: h.authorization, byEvents: false, events: [], mediaBase64: false, signingSecret: h.signingSecret }
    c.proxy = { ...c.proxy, password }
    c.s3 = { ...c.s3, secretKey }
    c.chatwoot = { ...c.chatwoot, apiToken }
    return c
  })

describe('config secrets', () => {
  it('opens exactly what it sealed, for any config', () => {
    fc.assert(
      fc.property(config, (c) => {
        expect(openConfig(box, sealConfig(box, c))).toEqual(c)
      }),
    )
  })

  it('leaves no secret readable in the stored JSON, and empty ones empty', () => {
    fc.assert(
      fc.property(config, (c) => {
        const sealed = sealConfig(box, c)
        const secrets = [...Object.values(c.webhooks).map((h) => h.authorization), c.proxy.password, c.s3.secretKey]
        const stored = [...Object.values(sealed.webhooks).map((h) => h.authorization), sealed.proxy.password, sealed.s3.secretKey]
        stored.forEach((v, i) => expect(v === '' ? secrets[i] === '' : box.isSealed(v)).toBe(true))
        // What the API returns anyway is stored as it is.
        expect(sealed.chatwoot.apiToken).toBe(c.chatwoot.apiToken)
        expect(Object.values(sealed.webhooks).map((h) => h.url)).toEqual(Object.values(c.webhooks).map((h) => h.url))
      }),
    )
  })

  it('seals a sealed value only once', () => {
    fc.assert(
      fc.property(config, (c) => {
        const once = sealConfig(box, c)
        expect(sealConfig(box, once)).toEqual(once)
      }),
    )
    const once = sealConfig(box, { ...defaultConfig(), proxy: { ...defaultConfig().proxy, password: 'p' } })
    expect(sealConfig(box, once).proxy.password).toBe(once.proxy.password)
  })

  it('keeps a partial stored config partial (blocks added later are filled in by the hub)', () => {
    const partial = { webhooks: { default: { authorization: 'a' } } } as unknown as InstanceConfig
    expect(Object.keys(sealConfig(box, partial))).toEqual(['webhooks'])
  })

  it('refuses to open a sealed value without the key', () => {
    expect(() => openConfig(NO_KEY, sealConfig(box, { ...defaultConfig(), proxy: { ...defaultConfig().proxy, password: 'p' } }))).toThrow('this value is sealed: open the database with its secret key')
  })
})
