import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createInstances, instanceId, startTestHub, type TestHub } from '../helpers/hub.js'

let h: TestHub
let tokens: Record<string, string>

beforeAll(async () => {
  h = await startTestHub()
  tokens = await createInstances(h, ['sales', 'support', 'billing'])
  h.hub.updateStatus(instanceId(h, 'sales'), {
    state: 'connected',
    displayStatus: 'Online',
    numberJid: '5511999999999@s.whatsapp.net',
    presenceStatus: 'available',
    profile: { name: 'Sales Bot', pictureUrl: 'https://pps.whatsapp.net/v/x.jpg', isBusiness: true, businessName: 'ACME' },
  })
  h.hub.updateStatus(instanceId(h, 'support'), {
    state: 'connecting',
    displayStatus: 'Reconnecting (connection closed), attempt 1',
    reason: { code: 428, name: 'connectionClosed', message: 'Connection Terminated' },
  })
})
afterAll(() => h.stop())

describe('GET /api/instance/list (RyzeAPI shape)', () => {
  it('returns every instance of the account ordered by id with "3 Instances found"', async () => {
    const r = await h.req('GET', '/api/instance/list')
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('application/json')
    expect(r.json.success).toBe(true)
    expect(r.json.message).toBe('3 Instances found')
    expect(r.json.instances.map((i: any) => i.name)).toEqual(['sales', 'support', 'billing'])
    expect(r.json.instances.map((i: any) => i.id)).toEqual([1, 2, 3])
  })

  it('renders every field of an item from the snapshot', async () => {
    const r = await h.req('GET', '/api/instance/list?instanceName=sales')
    const item = r.json.instances[0]
    expect(Object.keys(item)).toEqual([
      'id', 'name', 'apiInstanceName', 'status', 'createdAt', 'updatedAt', 'version', 'connection', 'profile',
      'webhook', 'websocket', 'chatwoot', 'proxy', 'settings', 's3',
    ])
    expect(item.name).toBe('sales')
    expect(item.apiInstanceName).toMatch(/^t1_[0-9a-z]{8}_sales$/)
    expect(item.status).toBe('connected')
    expect(item.version).toBe(2)
    expect(item.connection).toEqual({
      state: 'connected',
      numberJid: '5511999999999@s.whatsapp.net',
      presenceStatus: 'available',
      displayStatus: 'Online',
      since: item.connection.since,
      reason: null,
      retryAt: null,
      synced: false,
      historySync: null,
      closeDetail: null,
    })
    expect(new Date(item.connection.since).toISOString()).toBe(item.connection.since)
    expect(item.profile).toEqual({ name: 'Sales Bot', pictureUrl: 'https://pps.whatsapp.net/v/x.jpg', isBusiness: true, businessName: 'ACME' })
    expect(item.websocket).toEqual({ enabled: false, events: [], mediaBase64: false })
    expect(item.chatwoot).toEqual({
      enabled: false, status: '', bridgeIntegrationId: null, baseUrl: '', accountId: null, inboxName: '', apiToken: '',
      signMessages: false, ignoreGroups: false, startAsPending: false, reopenResolved: false,
    })
    expect(item.webhook.enabled).toBe(false)
    expect(item.proxy.enabled).toBe(false)
    expect(item.s3.enabled).toBe(false)
    expect(item.settings.disableHistorySync).toBe(true)
    expect(item).not.toHaveProperty('token')
  })

  it('carries the close reason of a retried close', async () => {
    const r = await h.req('GET', '/api/instance/list?instanceName=support')
    expect(r.json.message).toBe('1 Instance found')
    expect(r.json.instances[0].connection.state).toBe('connecting')
    expect(r.json.instances[0].connection.reason).toEqual({ code: 428, name: 'connectionClosed', message: 'Connection Terminated' })
    expect(r.json.instances[0].connection.displayStatus).toBe('Reconnecting (connection closed), attempt 1')
  })

  it('answers 404 "Instance not found" for one unknown name', async () => {
    const r = await h.req('GET', '/api/instance/list?instanceName=nope')
    expect(r.status).toBe(404)
    expect(r.json).toEqual({ success: false, error: { message: 'Instance not found' } })
  })

  it('ignores unknown names when several are given', async () => {
    const r = await h.req('GET', '/api/instance/list?instanceName=billing,nope,sales')
    expect(r.status).toBe(200)
    expect(r.json.message).toBe('2 Instances found')
    expect(r.json.instances.map((i: any) => i.name)).toEqual(['sales', 'billing'])
  })

  it('answers "0 Instances found" when several names are all unknown', async () => {
    const r = await h.req('GET', '/api/instance/list?instanceName=nope,nada')
    expect(r.status).toBe(200)
    expect(r.json).toEqual({ success: true, message: '0 Instances found', instances: [] })
  })

  it('answers an empty list, not an error, for a filter of only commas and spaces', async () => {
    const r = await h.req('GET', '/api/instance/list?instanceName=%20,%20,,')
    expect(r.status).toBe(200)
    expect(r.json).toEqual({ success: true, message: '0 Instances found', instances: [] })
  })

  it('accepts the apiInstanceName in the filter', async () => {
    const all = await h.req('GET', '/api/instance/list')
    const api = all.json.instances[2].apiInstanceName
    const r = await h.req('GET', `/api/instance/list?instanceName=${api}`)
    expect(r.json.instances.map((i: any) => i.name)).toEqual(['billing'])
  })

  it('shows a TokenInstance only its own instance and ignores the filter', async () => {
    const r = await h.req('GET', '/api/instance/list?instanceName=sales,billing', { token: tokens.support! })
    expect(r.status).toBe(200)
    expect(r.json.message).toBe('1 Instance found')
    expect(r.json.instances.map((i: any) => i.name)).toEqual(['support'])
    const unknown = await h.req('GET', '/api/instance/list?instanceName=nope', { token: tokens.support! })
    expect(unknown.status).toBe(200)
    expect(unknown.json.instances.map((i: any) => i.name)).toEqual(['support'])
  })

  it('accepts the token as Authorization: Bearer and as ?token=, the header winning', async () => {
    const bearer = await h.req('GET', '/api/instance/list', { token: null, headers: { authorization: `Bearer ${tokens.sales}` } })
    expect(bearer.json.instances.map((i: any) => i.name)).toEqual(['sales'])
    const query = await h.req('GET', `/api/instance/list?token=${tokens.billing}`, { token: null })
    expect(query.json.instances.map((i: any) => i.name)).toEqual(['billing'])
    const both = await h.req('GET', `/api/instance/list?token=${tokens.billing}`, { token: tokens.sales! })
    expect(both.json.instances.map((i: any) => i.name)).toEqual(['sales'])
  })
})

describe('GET /api/v1/instance/list (Wachat shape)', () => {
  it('maps every field of a connected instance', async () => {
    const r = await h.req('GET', '/api/v1/instance/list?instanceName=sales')
    expect(r.status).toBe(200)
    const all = await h.req('GET', '/api/instance/list?instanceName=sales')
    const ryze = all.json.instances[0]
    expect(r.json).toEqual({
      success: true,
      count: 1,
      instances: [
        {
          id: 1,
          instanceName: 'sales',
          displayName: 'sales',
          apiInstanceName: ryze.apiInstanceName,
          internalName: ryze.apiInstanceName,
          state: 'open',
          status: 'open',
          isConnected: true,
          number: '5511999999999',
          profileName: 'Sales Bot',
          profilePictureUrl: 'https://pps.whatsapp.net/v/x.jpg',
          profilePicUrl: 'https://pps.whatsapp.net/v/x.jpg',
          owner: '5511999999999@s.whatsapp.net',
          integration: 'WHATSAPP-BAILEYS',
          createdAt: ryze.createdAt,
          updatedAt: ryze.updatedAt,
        },
      ],
    })
  })

  it('maps connecting to "connecting" and disconnected to "close" with nulls', async () => {
    const r = await h.req('GET', '/api/v1/instance/list')
    expect(r.json.count).toBe(3)
    const [, support, billing] = r.json.instances
    expect([support.state, support.status, support.isConnected]).toEqual(['connecting', 'connecting', false])
    expect([billing.state, billing.number, billing.owner, billing.profileName, billing.profilePicUrl]).toEqual(['close', null, null, null, null])
  })

  it('applies the same filter and token rules', async () => {
    expect((await h.req('GET', '/api/v1/instance/list?instanceName=nope')).status).toBe(404)
    expect((await h.req('GET', '/api/v1/instance/list?instanceName=nope,support')).json.count).toBe(1)
    expect((await h.req('GET', '/api/v1/instance/list?instanceName=,')).json).toEqual({ success: true, count: 0, instances: [] })
    const own = await h.req('GET', '/api/v1/instance/list', { token: tokens.billing! })
    expect(own.json.instances.map((i: any) => i.instanceName)).toEqual(['billing'])
  })
})
