import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './config.js'

describe('webhook configuration', () => {
  it('uses the documented defaults', () => {
    const c = loadConfig({})
    expect([c.webhookMaxAgeS, c.webhookTimeoutMs, c.webhookMaxPending, c.webhookAllowPrivate, c.webhookConcurrency, c.webhookRetryBaseMs, c.webhookRetryMaxMs]).toEqual([
      86400, 10000, 10000, false, 16, 1000, 3600000,
    ])
    expect(loadConfig({ HUB_WEBHOOK_ALLOW_PRIVATE: 'true' }).webhookAllowPrivate).toBe(true)
    expect(loadConfig({ HUB_WEBHOOK_ALLOW_PRIVATE: 'false' }).webhookAllowPrivate).toBe(false)
  })

  it.each([
    ['HUB_WEBHOOK_ALLOW_PRIVATE', 'yes', /HUB_WEBHOOK_ALLOW_PRIVATE: must be true or false \(got "yes"\)/],
    ['HUB_WEBHOOK_MAX_PENDING', '0', /HUB_WEBHOOK_MAX_PENDING: /],
    ['HUB_WEBHOOK_TIMEOUT_MS', '5', /HUB_WEBHOOK_TIMEOUT_MS: /],
    ['HUB_WEBHOOK_CONCURRENCY', '0', /HUB_WEBHOOK_CONCURRENCY: /],
    ['HUB_WEBHOOK_MAX_AGE_S', 'a day', /HUB_WEBHOOK_MAX_AGE_S: /],
    ['HUB_WEBHOOK_RETRY_BASE_MS', '0', /HUB_WEBHOOK_RETRY_BASE_MS: /],
  ])('refuses %s=%s with a message naming the variable', (name, value, pattern) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError)
    expect(() => loadConfig({ [name]: value })).toThrow(pattern)
  })
})
