/**
 * Durability by contract: whatever the API acknowledged is in SQLite before the answer, so a
 * `kill -9` right after it loses nothing, even with the write-behind 10 s away.
 */
import { describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/hub.js'
import { call, PROC_ADMIN, spawnHub } from '../helpers/hub-process.js'
import { untilValue } from '../helpers/wait.js'

describe('acknowledged writes survive kill -9', () => {
  it('keeps accounts, instances, tokens, settings, deletes and a logout answered just before the kill', async () => {
    const dir = tempDir()
    const env = { HUB_PERSIST_INTERVAL_MS: '10000', HUB_WHATSAPP: 'simulated' }
    const first = spawnHub(dir, env)
    const port = (await first.listening())!
    const acme = await call(port, 'POST', '/api/admin/accounts', PROC_ADMIN, { name: 'acme', instanceLimit: 10 })
    expect(acme.status).toBe(201)
    const oldAccountToken = acme.json.token as string
    const tokens: Record<string, string> = {}
    for (const name of ['a', 'b', 'c', 'd']) {
      const r = await call(port, 'POST', '/api/instance/new', oldAccountToken, { name, keepOnlineStatus: name === 'd' })
      expect(r.status).toBe(201)
      tokens[name] = r.json.instance.token
    }
    const rotatedAccount = await call(port, 'POST', `/api/admin/accounts/${acme.json.account.id}/token`, PROC_ADMIN)
    expect(rotatedAccount.status).toBe(200)
    const token = rotatedAccount.json.token as string
    expect((await call(port, 'POST', '/api/instance/settings/a', token, { keepOnlineStatus: true, callRejectMessage: 'busy' })).status).toBe(200)
    expect((await call(port, 'POST', '/api/events/webhook/a', token, { enabled: true, url: 'https://hooks.example.test/a', authorization: 'Bearer s3cret' })).status).toBe(200)
    expect((await call(port, 'POST', '/api/instance/proxy/a', token, { enabled: true, host: 'proxy.example.test', port: '3128', protocol: 'http' })).status).toBe(200)
    const rotatedA = await call(port, 'POST', '/api/instance/token/a', token)
    expect(rotatedA.status).toBe(200)
    expect((await call(port, 'DELETE', '/api/instance/delete/b', token)).status).toBe(200)
    expect((await call(port, 'GET', '/api/instance/connect/c', token)).json.status).toBe('qr')
    expect((await call(port, 'POST', '/api/sim/c/scan', token)).status).toBe(200)
    await untilValue(() => call(port, 'GET', '/api/instance/list?instanceName=c', token), (r) => r.json.instances?.[0]?.status === 'connected', { what: 'c connected' })
    expect((await call(port, 'DELETE', '/api/instance/logout/c', token)).json.instance).toEqual({ status: 'loggedout' })
    await first.kill9()

    const second = spawnHub(dir, env)
    const again = (await second.listening())!
    try {
      expect((await call(again, 'GET', '/api/instance/list', oldAccountToken)).status).toBe(401)
      const list = await call(again, 'GET', '/api/instance/list', token)
      expect(list.json.instances.map((i: any) => [i.name, i.status])).toEqual([
        ['a', 'disconnected'],
        ['c', 'loggedout'],
        ['d', 'disconnected'],
      ])
      const a = list.json.instances[0]
      expect([a.settings.keepOnlineStatus, a.settings.callRejectMessage, a.webhook.enabled, a.webhook.url, a.proxy.host]).toEqual([
        true,
        'busy',
        true,
        'https://hooks.example.test/a',
        'proxy.example.test',
      ])
      expect(list.json.instances[2].settings.keepOnlineStatus).toBe(true)
      expect((await call(again, 'GET', '/api/instance/list', tokens.a!)).status).toBe(401)
      expect((await call(again, 'GET', '/api/instance/list', rotatedA.json.instance.token)).json.instances.map((i: any) => i.name)).toEqual(['a'])
      expect((await call(again, 'GET', '/api/instance/list', tokens.b!)).status).toBe(401)
    } finally {
      await second.stop()
    }
  }, 90_000)
})
