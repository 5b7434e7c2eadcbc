import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { accountNamed, createInstances, instanceId, type TestHub } from '../helpers/hub.js'
import { until } from '../helpers/wait.js'
import { deliveries, webhookHub } from './helpers.js'
import { startReceiver, type Receiver } from './receiver.js'

let h: TestHub
let rx: Receiver

beforeAll(async () => {
  rx = await startReceiver()
  h = await webhookHub()
})
afterAll(async () => {
  await h.stop()
  await rx.close()
})

const on = (path: string) => rx.received.filter((r) => r.path === path)
const verify = (secret: string, r: { body: string; headers: Record<string, unknown> }) => new Webhook(secret).verify(r.body, r.headers as Record<string, string>)

describe('webhook delivery', () => {
  it('POSTs each instance.state change: the event body plus epoch, seq and version, signed as Standard Webhooks', async () => {
    await createInstances(h, ['sales'])
    const cfg = await h.req('POST', '/api/events/webhook/sales', { body: { enabled: true, url: `${rx.url}/sales`, authorization: 'Bearer receiver-key' } })
    expect(cfg.status).toBe(200)
    const secret: string = cfg.json.signingSecret
    const id = instanceId(h, 'sales')
    h.hub.updateStatus(id, { state: 'connecting', displayStatus: 'Connecting…', event: 'connecting' })
    const first = { seq: accountNamed(h).seq, version: h.hub.instance(id)!.version }
    h.hub.updateStatus(id, { presenceStatus: 'available' })
    await until(() => on('/sales').length === 2, 'two deliveries')

    const inst = h.hub.instance(id)!
    const [a, b] = on('/sales')
    for (const r of [a!, b!]) {
      expect(r.method).toBe('POST')
      expect(r.headers['content-type']).toBe('application/json')
      expect(r.headers.authorization).toBe('Bearer receiver-key')
      expect(verify(secret, r)).toEqual(JSON.parse(r.body))
    }
    expect(a!.headers['webhook-id']).toBe(`msg_${h.hub.epoch}_${accountNamed(h).id}_${first.seq}_default`)
    expect(JSON.parse(a!.body)).toMatchObject({ event: 'instance.state', data: { state: 'connecting', connectionState: 'connecting', presenceStatus: 'unavailable' }, seq: first.seq, version: first.version })
    expect(JSON.parse(b!.body)).toEqual({
      event: 'instance.state',
      data: {
        // A presence change repeats the current word.
        state: 'connecting',
        timestamp: inst.updatedAt,
        connectionState: 'connecting',
        numberJid: null,
        presenceStatus: 'available',
        displayStatus: 'Connecting…',
        reason: null,
        retryAt: null,
        since: inst.status.since,
        synced: false,
        historySync: null,
        closeDetail: null,
      },
      instanceData: { instance: 'sales', apiInstanceName: inst.apiInstanceName },
      epoch: h.hub.epoch,
      seq: accountNamed(h).seq,
      version: inst.version,
    })
    expect(b!.body).not.toContain('receiver-key')
  })

  it('lists the deliveries newest first with their state, and never their body or secrets', async () => {
    const list = await deliveries(h, 'sales', '')
    const id = instanceId(h, 'sales')
    expect(list).toHaveLength(2)
    expect(list.map((d) => [d.label, d.event, d.status, d.attempts, d.lastError, d.nextAttemptAt])).toEqual([
      ['default', 'instance.state', 'delivered', 1, null, null],
      ['default', 'instance.state', 'delivered', 1, null, null],
    ])
    expect(list[0]!.seq).toBeGreaterThan(list[1]!.seq)
    expect(list[0]!.version).toBe(h.hub.instance(id)!.version)
    expect(Object.keys(list[0]!).sort()).toEqual(['attempts', 'createdAt', 'event', 'id', 'label', 'lastAttemptAt', 'lastError', 'nextAttemptAt', 'seq', 'status', 'version'])
    expect(on('/sales').map((r) => r.headers['webhook-id'])).toEqual(list.map((d) => d.id).reverse())
    const r = await h.req('GET', '/api/events/webhookDeliveries/sales')
    expect(r.json.message).toBe('2 deliveries found')
    expect(r.text).not.toContain('receiver-key')
    expect(r.text).not.toContain('whsec_')
  })

  it('sends nothing for settings changes, only for connection, presence and profile changes', async () => {
    const before = on('/sales').length
    await h.req('POST', '/api/instance/settings/sales', { body: { keepOnlineStatus: true } })
    h.hub.updateStatus(instanceId(h, 'sales'), { profile: { name: 'Sales desk' } })
    await until(() => on('/sales').length === before + 1, 'the profile change')
    h.hub.flush()
    expect(JSON.parse(on('/sales').at(-1)!.body).data.state).toBe('connecting')
    expect((await deliveries(h, 'sales')).length).toBe(before + 1)
  })

  it('delivers to every enabled webhook whose events are empty or name instance.state, each with its own secret, and byEvents appends the event to the path', async () => {
    await createInstances(h, ['multi'])
    const secrets: Record<string, string> = {}
    for (const [label, extra] of [
      ['all', {}],
      ['state', { events: ['instance.state'], byEvents: true }],
      ['msgs', { events: ['message.exchange'] }],
    ] as const) {
      const r = await h.req('POST', '/api/events/webhook/multi', { body: { label, enabled: true, url: `${rx.url}/multi/${label}?k=v`, ...extra } })
      secrets[label] = r.json.signingSecret
    }
    await h.req('POST', '/api/events/webhook/multi', { body: { label: 'off', enabled: false } })
    expect(new Set(Object.values(secrets)).size).toBe(3)
    h.hub.updateStatus(instanceId(h, 'multi'), { state: 'connected', displayStatus: 'Online', event: 'connected' })
    await until(() => on('/multi/all?k=v').length === 1 && on('/multi/state/instance-state?k=v').length === 1, 'both deliveries')
    h.hub.flush()
    expect(verify(secrets.all!, on('/multi/all?k=v')[0]!)).toMatchObject({ data: { state: 'connected' } })
    expect(verify(secrets.state!, on('/multi/state/instance-state?k=v')[0]!)).toMatchObject({ data: { state: 'connected' } })
    expect(() => verify(secrets.all!, on('/multi/state/instance-state?k=v')[0]!)).toThrow()
    expect(rx.received.filter((r) => r.path.startsWith('/multi/msgs'))).toEqual([])
    expect((await deliveries(h, 'multi')).map((d) => d.label).sort()).toEqual(['all', 'state'])
    expect((await deliveries(h, 'multi', 'label=state')).map((d) => d.label)).toEqual(['state'])
  })

  it('answers the signing secret once: when a label is first enabled or rotated; re-enabling keeps it', async () => {
    await createInstances(h, ['keys'])
    const post = (body: object) => h.req('POST', '/api/events/webhook/keys', { body })
    const created = await post({ label: 'k', enabled: true, url: `${rx.url}/keys` })
    const secret: string = created.json.signingSecret
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(Object.keys(created.json).sort()).toEqual(['message', 'signingSecret', 'success', 'webhook'])
    expect((await post({ label: 'k', enabled: true, url: `${rx.url}/keys`, byEvents: false })).json.signingSecret).toBeUndefined()
    expect((await post({ label: 'k', enabled: false })).json.signingSecret).toBeUndefined()
    expect((await post({ label: 'k', enabled: true, url: `${rx.url}/keys` })).json.signingSecret).toBeUndefined()

    h.hub.updateStatus(instanceId(h, 'keys'), { presenceStatus: 'available' })
    await until(() => on('/keys').length === 1, 'a delivery')
    expect(verify(secret, on('/keys')[0]!)).toBeTruthy()

    const rotated = await post({ label: 'k', enabled: true, rotateSecret: true })
    expect(rotated.status).toBe(200)
    const fresh: string = rotated.json.signingSecret
    expect(fresh).toMatch(/^whsec_/)
    expect(fresh).not.toBe(secret)
    h.hub.updateStatus(instanceId(h, 'keys'), { presenceStatus: 'unavailable' })
    await until(() => on('/keys').length === 2, 'a second delivery')
    expect(verify(fresh, on('/keys')[1]!)).toBeTruthy()
    expect(() => verify(secret, on('/keys')[1]!)).toThrow()

    const refused = await post({ label: 'k', enabled: false, rotateSecret: true })
    expect(refused.status).toBe(400)
    expect(refused.json.error.message).toBe('Invalid field "rotateSecret": only an enabled webhook has a signing secret to rotate')
    expect(h.hub.instance(instanceId(h, 'keys'))!.config.webhooks.k!.enabled).toBe(true)

    for (const path of ['/api/events/getWebhook/keys', '/api/events/getWebhook/keys?label=k', '/api/instance/list']) {
      const r = await h.req('GET', path)
      expect(r.text).not.toContain(fresh)
      expect(r.text).not.toContain('whsec_')
    }
  })

  it('answers the secret of a webhook created inline with the instance, once', async () => {
    const r = await h.req('POST', '/api/instance/new', { body: { name: 'inline', webhookURL: `${rx.url}/inline` } })
    expect(r.status).toBe(201)
    expect(r.json.signingSecret).toMatch(/^whsec_/)
    expect((await h.req('POST', '/api/instance/new', { body: { name: 'plain' } })).json.signingSecret).toBeUndefined()
    h.hub.updateStatus(instanceId(h, 'inline'), { presenceStatus: 'available' })
    await until(() => on('/inline').length === 1, 'a delivery')
    expect(verify(r.json.signingSecret, on('/inline')[0]!)).toMatchObject({ instanceData: { instance: 'inline' } })
  })

  it('filters the list by status and label, newest first, 50 by default and at most 500', async () => {
    await createInstances(h, ['many'])
    await h.req('POST', '/api/events/webhook/many', { body: { enabled: true, url: `${rx.url}/many` } })
    for (let i = 0; i < 60; i++) h.hub.updateStatus(instanceId(h, 'many'), { displayStatus: `step ${i}` })
    await until(() => on('/many').length === 60, '60 deliveries')
    h.hub.flush()
    const page = await deliveries(h, 'many', '')
    expect(page).toHaveLength(50)
    expect(page.map((d) => d.seq)).toEqual([...page.map((d) => d.seq)].sort((a, b) => b - a))
    expect(await deliveries(h, 'many', 'limit=500')).toHaveLength(60)
    expect(await deliveries(h, 'many', 'status=pending')).toEqual([])
    expect(await deliveries(h, 'many', 'status=delivered&limit=3&label=default')).toHaveLength(3)
    for (const [query, message] of [
      ['limit=501', 'Invalid field "limit": must be an integer from 1 to 500'],
      ['limit=0', 'Invalid field "limit": must be an integer from 1 to 500'],
      ['limit=ten', 'Invalid field "limit": must be an integer from 1 to 500'],
      ['status=lost', 'Invalid field "status": must be pending, delivered or dead'],
      ['label=b%20c', 'Invalid field "label": must be 1–32 of A-Z a-z 0-9 _ . -'],
    ]) {
      const r = await h.req('GET', `/api/events/webhookDeliveries/many?${query}`)
      expect([r.status, r.json.error.message]).toEqual([400, message])
    }
    const unknown = await h.req('GET', '/api/events/webhookDeliveries/many?label=nope')
    expect([unknown.status, unknown.json.error.message]).toEqual([404, 'Webhook not found'])
  })

  it('serves the deliveries to the account token and the instance\'s own token, not to a sibling\'s', async () => {
    const r = await h.req('POST', '/api/instance/new', { body: { name: 'sibling' } })
    const own = await h.req('POST', '/api/instance/token/sales')
    expect((await h.req('GET', '/api/events/webhookDeliveries/sales', { token: own.json.instance.token })).status).toBe(200)
    const other = await h.req('GET', '/api/events/webhookDeliveries/sales', { token: r.json.instance.token })
    expect([other.status, other.json.error.message]).toEqual([403, 'Token does not have access to this instance'])
    expect((await h.req('POST', '/api/events/webhookDeliveries/sales/retry', { token: r.json.instance.token, body: {} })).status).toBe(403)
    expect((await h.req('GET', '/api/events/webhookDeliveries/nobody')).status).toBe(404)
    expect((await h.req('GET', '/api/events/webhookDeliveries/sales', { token: null })).status).toBe(401)
  })
})
