import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestHub, type TestHub } from '../helpers/hub.js'

let h: TestHub
let instanceToken: string
const SECRETS = ['proxy-pass-1234', 's3-secret-5678', 'Bearer hook-9999']

beforeAll(async () => {
  h = await startTestHub()
  const r = await h.req('POST', '/api/instance/new', {
    body: {
      name: 'sales',
      proxyHost: 'proxy.example.test',
      proxyPort: 3128,
      proxyProtocol: 'http',
      proxyUsername: 'u',
      proxyPassword: SECRETS[0],
      s3Enabled: true,
      s3Bucket: 'media',
      s3AccessKey: 'AKIA',
      s3SecretKey: SECRETS[1],
      s3Region: 'us-east-1',
      webhookURL: 'https://hooks.example.test/in',
      webhookAuthorization: SECRETS[2],
      webhookEvents: ['instance.state'],
      websocketEnabled: true,
      chatwootEnabled: true,
      chatwootBaseUrl: 'https://chat.example.test',
      chatwootAccountId: 3,
      chatwootApiToken: 'cw-token',
      keepOnlineStatus: true,
      integration: 'WHATSAPP-BAILEYS',
    },
  })
  expect(r.status).toBe(201)
  instanceToken = r.json.instance.token
})
afterAll(() => h.stop())

describe('integration settings', () => {
  it('creates the inline RyzeAPI blocks and shows them in the list item without secrets', async () => {
    const r = await h.req('GET', '/api/instance/list')
    const item = r.json.instances[0]
    expect(item.proxy).toEqual({ enabled: true, host: 'proxy.example.test', port: '3128', protocol: 'http', username: 'u', hasPassword: true })
    expect(item.s3).toEqual({ enabled: true, region: 'us-east-1', bucket: 'media', accessKey: 'AKIA', secretKey: null, endpoint: '', pathPrefix: '' })
    expect(item.webhook).toEqual({ label: 'default', enabled: true, url: 'https://hooks.example.test/in', byEvents: false, events: ['instance.state'], mediaBase64: false, hasAuthorization: true })
    expect(item.websocket).toEqual({ enabled: true, events: ['message.exchange', 'message.status', 'call.update', 'group.flow', 'instance.state', 'label.update'], mediaBase64: false })
    expect(item.chatwoot).toMatchObject({ enabled: true, status: 'pending', baseUrl: 'https://chat.example.test', accountId: 3, apiToken: 'cw-token' })
    expect(item.settings.keepOnlineStatus).toBe(true)
    for (const secret of SECRETS) expect(r.text).not.toContain(secret)
  })

  it('never returns a secret from the read endpoints, whichever token asks', async () => {
    for (const token of [h.token, instanceToken]) {
      for (const path of ['getProxy', 'getS3', 'getSettings']) {
        const r = await h.req('GET', `/api/instance/${path}/sales`, { token })
        expect(r.status).toBe(200)
        for (const secret of SECRETS) expect(r.text).not.toContain(secret)
      }
      const hooks = await h.req('GET', '/api/events/getWebhook/sales', { token })
      expect(hooks.json.webhooks).toHaveLength(1)
      for (const secret of SECRETS) expect(hooks.text).not.toContain(secret)
    }
    const proxy = await h.req('GET', '/api/instance/getProxy/sales')
    expect(proxy.json.message).toBe('Proxy configuration retrieved successfully')
  })

  it('keeps the stored proxy password when an upsert leaves it out', async () => {
    const r = await h.req('POST', '/api/instance/proxy/sales', { body: { enabled: true, port: '8080' } })
    expect(r.json.proxy).toEqual({ enabled: true, host: 'proxy.example.test', port: '8080', protocol: 'http', username: 'u', hasPassword: true })
  })

  it('deletes the S3 credentials when S3 is disabled', async () => {
    const r = await h.req('POST', '/api/instance/s3/sales', { body: { enabled: false } })
    expect(r.json.s3).toEqual({ enabled: false, region: '', bucket: '', accessKey: '', secretKey: null, endpoint: '', pathPrefix: '' })
  })

  it('upserts webhooks by label, at most 3 enabled, and clears a disabled one', async () => {
    for (const label of ['b', 'c']) {
      const r = await h.req('POST', '/api/events/webhook/sales', { body: { label, enabled: true, url: `https://x.test/${label}` } })
      expect(r.status).toBe(200)
    }
    const fourth = await h.req('POST', '/api/events/webhook/sales', { body: { label: 'd', enabled: true, url: 'https://x.test/d' } })
    expect(fourth.status).toBe(400)
    expect(fourth.json.error.message).toBe('At most 3 enabled webhooks per instance')
    const off = await h.req('POST', '/api/events/webhook/sales', { body: { label: 'b', enabled: false } })
    expect(off.json.webhook).toEqual({ label: 'b', enabled: false, url: '', byEvents: false, events: [], mediaBase64: false, hasAuthorization: false })
    const list = await h.req('GET', '/api/events/getWebhook/sales')
    expect(list.json.webhooks.map((w: any) => w.label)).toEqual(['b', 'c', 'default'])
    expect((await h.req('GET', '/api/events/getWebhook/sales?label=c')).json.webhook.url).toBe('https://x.test/c')
    expect((await h.req('GET', '/api/events/getWebhook/sales?label=zz')).status).toBe(404)
  })

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('refuses the label %s, and never finds a webhook under it', async (label) => {
    const before = (await h.req('GET', '/api/events/getWebhook/sales')).json.webhooks
    const r = await h.req('POST', '/api/events/webhook/sales', { body: { label, enabled: true, url: 'https://x.test/p' } })
    expect([r.status, r.json.error.message]).toEqual([400, 'Invalid field "label": must not be a name JavaScript objects reserve (constructor, toString, __proto__, …)'])
    const read = await h.req('GET', `/api/events/getWebhook/sales?label=${label}`)
    expect([read.status, read.json]).toEqual([404, { success: false, error: { message: 'Webhook not found' } }])
    expect((await h.req('GET', '/api/events/getWebhook/sales')).json.webhooks).toEqual(before)
  })

  it('distinguishes a websocket never configured (404) from a disabled one', async () => {
    await h.req('POST', '/api/instance/new', { body: { name: 'plain' } })
    const never = await h.req('GET', '/api/events/getWebsocket/plain')
    expect(never.status).toBe(404)
    expect(never.json.error.message).toBe('WebSocket not configured for this instance')
    await h.req('POST', '/api/events/websocket/plain', { body: { enabled: false } })
    const off = await h.req('GET', '/api/events/getWebsocket/plain')
    expect(off.json).toEqual({ success: true, message: 'WebSocket configuration retrieved', websocket: { enabled: false, events: [], mediaBase64: false } })
  })

  it('turns every settings change into a list change with a new version', async () => {
    const before = (await h.req('GET', '/api/instance/list?instanceName=plain')).json.instances[0]
    await h.req('POST', '/api/instance/settings/plain', { body: { autoRejectCalls: true, callRejectMessage: 'busy' } })
    const after = (await h.req('GET', '/api/instance/list?instanceName=plain')).json.instances[0]
    expect(after.version).toBe(before.version + 1)
    expect([after.settings.autoRejectCalls, after.settings.callRejectMessage]).toEqual([true, 'busy'])
  })
})
