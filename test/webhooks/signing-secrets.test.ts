import Database from 'better-sqlite3'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import pino from 'pino'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { startHub } from '../../src/app/compose.js'
import { loadConfig } from '../../src/app/config.js'
import { ADMIN, createInstances, instanceId, tempDir } from '../helpers/hub.js'
import { until } from '../helpers/wait.js'
import { FAST, webhookHub } from './helpers.js'
import { startReceiver } from './receiver.js'

describe('webhook secrets', () => {
  it('never logs the authorization or the signing secret, whatever the receiver answers', async () => {
    const rx = await startReceiver()
    let logged = ''
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logged += chunk
        cb()
      },
    })
    const cfg = loadConfig({ ...FAST, HUB_HOST: '127.0.0.1', HUB_PORT: '0', HUB_DATA_DIR: tempDir(), HUB_ADMIN_TOKEN: ADMIN, HUB_WEBHOOK_TIMEOUT_MS: '200' })
    const running = await startHub(cfg, { log: pino({ level: 'trace' }, sink), whatsapp: null, dashboardDir: null })
    const base = `http://127.0.0.1:${running.port}`
    const token = running.first.defaultAccountToken!
    const post = (path: string, body: object) => fetch(base + path, { method: 'POST', headers: { token, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json())
    await post('/api/instance/new', { name: 'sales' })
    const authorization = 'Bearer log-canary-authorization-7Hq2'
    const { signingSecret } = await post('/api/events/webhook/sales', { enabled: true, url: `${rx.url}/in`, authorization })
    const answers = [{ status: 500 }, 'drop', 'hang', { status: 302, headers: { location: '/x' } }, { status: 200 }, { status: 410 }] as const
    rx.behave(() => answers[Math.min(rx.received.length - 1, answers.length - 1)]!)
    const id = running.hub.lookup(running.hub.accountNamed('default')!.id, 'sales')!.id
    running.hub.updateStatus(id, { presenceStatus: 'available' })
    running.hub.updateStatus(id, { presenceStatus: 'unavailable' })
    await until(() => rx.received.length === 6, { what: 'six attempts', ms: 10_000 })
    await until(() => logged.includes('webhook answered 410 Gone: disabled'), 'the 410 logged')
    await running.stop()
    await rx.close()
    expect(logged).toContain('webhook delivery failed; retrying')
    expect(logged).not.toContain(authorization)
    expect(logged).not.toContain('log-canary')
    expect(logged).not.toContain(signingSecret)
    expect(logged).not.toContain(signingSecret.slice(6))
  })

  it('gives webhooks enabled before signing existed a secret at start, shown only by a rotate', async () => {
    const dir = tempDir()
    const rx = await startReceiver()
    const h = await webhookHub({}, { dir })
    await createInstances(h, ['old'])
    await h.req('POST', '/api/events/webhook/old', { body: { enabled: true, url: `${rx.url}/old` } })
    await h.stop()
    // What a database written before signing existed holds: no signingSecret in the webhook.
    const db = new Database(join(dir, 'statushub.db'))
    const row = db.prepare(`SELECT id, config FROM instances WHERE name = 'old'`).get() as { id: number; config: string }
    const config = JSON.parse(row.config)
    delete config.webhooks.default.signingSecret
    db.prepare('UPDATE instances SET config = ? WHERE id = ?').run(JSON.stringify(config), row.id)
    db.close()

    const again = await webhookHub({}, { dir, token: h.token })
    const secret = again.hub.instance(instanceId(again, 'old'))!.config.webhooks.default!.signingSecret
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    again.hub.flush()
    const reread = new Database(join(dir, 'statushub.db'), { readonly: true })
    // Stored, and sealed like every secret at rest.
    const stored = JSON.parse((reread.prepare('SELECT config FROM instances WHERE id = ?').get(row.id) as { config: string }).config).webhooks.default.signingSecret as string
    expect(stored).toMatch(/^enc:v1:/)
    expect(stored).not.toContain(secret.slice(6))
    reread.close()
    const shown = await again.req('GET', '/api/events/getWebhook/old')
    expect(shown.text).not.toContain('whsec_')
    again.hub.updateStatus(instanceId(again, 'old'), { presenceStatus: 'available' })
    await until(() => rx.received.length === 1, 'a delivery')
    expect(new Webhook(secret).verify(rx.received[0]!.body, rx.received[0]!.headers as Record<string, string>)).toMatchObject({ instanceData: { instance: 'old' } })
    const rotated = await again.req('POST', '/api/events/webhook/old', { body: { enabled: true, rotateSecret: true } })
    expect(rotated.json.signingSecret).toMatch(/^whsec_/)
    expect(rotated.json.signingSecret).not.toBe(secret)
    await again.stop()
    await rx.close()
  })
})
