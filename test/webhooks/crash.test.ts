import Database from 'better-sqlite3'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createInstances, instanceId, tempDir } from '../helpers/hub.js'
import { until, untilValue } from '../helpers/wait.js'
import { deliveries, FAST, spawnHub, webhookHub } from './helpers.js'
import { startReceiver } from './receiver.js'

/** The change log's connection, presence and profile changes, and the outbox, as SQLite holds them. */
function stored(dir: string) {
  const db = new Database(join(dir, 'statushub.db'), { readonly: true })
  try {
    const changes = (db.prepare(`SELECT seq, frame FROM change_log WHERE kind = 'diff' ORDER BY seq`).all() as { seq: number; frame: string }[])
      .filter((c) => Object.keys(JSON.parse(c.frame).changes).some((k) => k.startsWith('connection.') || k.startsWith('profile.')))
      .map((c) => c.seq)
    const outbox = db.prepare(`SELECT id, seq, epoch, status FROM webhook_outbox ORDER BY pos`).all() as { id: string; seq: number; epoch: string; status: string }[]
    return { changes, outbox }
  } finally {
    db.close()
  }
}

describe('webhook durability', () => {
  it('loses and reorders nothing when the hub is killed with kill -9 in the middle of a backlog', async () => {
    const dir = tempDir()
    const rx = await startReceiver()
    rx.behave('drop')
    const env = {
      ...process.env,
      ...FAST,
      HUB_PORT: '0',
      HUB_HOST: '127.0.0.1',
      HUB_DATA_DIR: dir,
      HUB_LOG_LEVEL: 'info',
      HUB_ADMIN_TOKEN: '',
      HUB_WHATSAPP: 'simulated',
      HUB_RATE_LIMIT_PER_MIN: '100000',
    }
    const first = await spawnHub(env)
    try {
      expect((await first.req('POST', '/api/instance/new', { body: { name: 'sales', webhookURL: `${rx.url}/in` } })).status).toBe(201)
      const configured = Number((await first.req('GET', '/api/instance/list')).headers.get('x-hub-seq'))
      expect((await first.req('GET', '/api/instance/connect/sales')).json.status).toBe('qr')
      await first.req('POST', '/api/sim/sales/scan', { body: {} })
      await until(async () => (await first.req('GET', '/api/instance/list')).json.instances[0].connection.state === 'connected', 'connected')
      // A personal account has no push name at pairing, and presence needs one (as in Baileys).
      expect((await first.req('POST', '/api/sim/sales/profile', { body: { name: 'Sales' } })).status).toBe(200)
      for (let i = 0; i < 60; i++) expect((await first.req('POST', '/api/sim/sales/online', { body: { online: i % 2 === 0 } })).status).toBe(200)
      const backlog = await untilValue(() => deliveries(first, 'sales', 'status=pending&limit=500'), (l) => l.length >= 60, { what: 'a committed backlog' })
      // More changes in flight while it dies: those not yet committed are lost together with their deliveries.
      let answered = 0
      for (let i = 60; i < 120; i++) {
        void first
          .req('POST', '/api/sim/sales/online', { body: { online: i % 2 === 0 } })
          .then(() => answered++)
          .catch(() => {})
      }
      await until(() => answered >= 20, 'part of the last changes made')
      first.child.kill('SIGKILL')
      await first.exited

      const second = await spawnHub(env, first.token)
      rx.behave({ status: 200 })
      await until(async () => (await deliveries(second, 'sales', 'status=pending')).length === 0 && rx.accepted().length >= backlog.length, {
        what: 'the backlog delivered',
        ms: 20_000,
      })
      // Reconnected and synced: the reconnection's last state change (synced) is made, so none comes after the wait below.
      await until(async () => {
        const c = (await second.req('GET', '/api/instance/list')).json.instances[0].connection
        return c.state === 'connected' && c.synced === true
      }, 'reconnected and synced')
      await until(async () => (await deliveries(second, 'sales', 'status=pending')).length === 0, 'the restart delivered')
      second.child.kill('SIGTERM')
      expect(await second.exited).toBe(0)

      const { changes, outbox } = stored(dir)
      // Exactly as durable as the change: one delivery per stored state change after the webhook was set, and no other.
      expect(outbox.map((o) => o.seq).sort((a, b) => a - b)).toEqual(changes.filter((s) => s > configured))
      expect(new Set(outbox.map((o) => o.epoch)).size).toBe(2)
      expect(outbox.filter((o) => o.status !== 'delivered')).toEqual([])
      // At least once per id, and the first arrivals in outbox order.
      const firstArrivals = [...new Set(rx.accepted().map((r) => r.headers['webhook-id'] as string))]
      expect(firstArrivals).toEqual(outbox.map((o) => o.id))
      expect(backlog.every((d) => firstArrivals.includes(d.id))).toBe(true)
    } finally {
      first.child.kill('SIGKILL')
      await rx.close()
    }
  }, 60_000)

  it('keeps pending deliveries across a clean restart and sends them in order, with the same ids', async () => {
    const dir = tempDir()
    const rx = await startReceiver()
    rx.behave('drop')
    const h = await webhookHub({}, { dir })
    await createInstances(h, ['sales'])
    await h.req('POST', '/api/events/webhook/sales', { body: { enabled: true, url: `${rx.url}/in` } })
    for (let i = 0; i < 10; i++) h.hub.updateStatus(instanceId(h, 'sales'), { displayStatus: `change ${i}` })
    const pending = await untilValue(() => deliveries(h, 'sales'), (l) => l.length === 10 && l.at(-1)!.attempts >= 1)
    await h.stop()

    rx.behave({ status: 200 })
    const again = await webhookHub({}, { dir, token: h.token })
    await until(() => rx.accepted().length === 10, 'ten accepted')
    expect(rx.accepted().map((r) => r.headers['webhook-id'])).toEqual(pending.map((d) => d.id).reverse())
    expect(rx.accepted().map((r) => JSON.parse(r.body).data.displayStatus)).toEqual([...Array(10).keys()].map((i) => `change ${i}`))
    await again.stop()
    await rx.close()
  })
})
