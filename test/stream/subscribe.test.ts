import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyChanges } from '../../src/core/item.js'
import { ADMIN, createInstances, instanceId, startTestHub, type TestHub } from '../helpers/hub.js'
import { openClient, upgradeStatus } from '../helpers/ws.js'

let h: TestHub
let tokens: Record<string, string>
beforeAll(async () => {
  h = await startTestHub({ HUB_WS_MAX_SUBSCRIPTIONS: '3', HUB_WS_MAX_FRAME_BYTES: '1024', HUB_WS_MAX_FRAMES_PER_SEC: '40' })
  tokens = await createInstances(h, ['sales', 'support', 'billing', 'ops'])
})
afterAll(() => h.stop())

describe('GET /ws', () => {
  it('refuses a missing or unknown token with HTTP 401 and the error envelope, before any upgrade', async () => {
    expect(await upgradeStatus(h, '/ws', {})).toEqual({
      status: 401,
      body: JSON.stringify({ success: false, error: { message: 'Missing token in header, Authorization header, or query parameter' } }),
    })
    expect((await upgradeStatus(h, '/ws', { token: 'nope' })).status).toBe(401)
    expect((await upgradeStatus(h, '/ws', { token: ADMIN })).status).toBe(403)
  })

  it('accepts the token as ?token= for browsers', async () => {
    const c = await openClient(h, { token: '', path: `/ws?token=${h.token}` })
    c.send({ type: 'ping', id: 'p' })
    expect(await c.next((f) => f.type === 'pong')).toEqual({ type: 'pong', id: 'p' })
    await c.close()
  })

  it('sends a snapshot equal to the REST list at its position, then field-level diffs', async () => {
    const c = await openClient(h)
    const list = await h.req('GET', '/api/instance/list')
    c.send({ type: 'subscribe', id: '1', instances: '*' })
    const snap = await c.next((f) => f.type === 'snapshot')
    expect(snap).toEqual({
      type: 'snapshot',
      id: '1',
      epoch: h.hub.epoch,
      seq: Number(list.headers.get('x-hub-seq')),
      recovered: false,
      instances: list.json.instances,
    })
    h.hub.updateStatus(instanceId(h, 'sales'), {
      state: 'connecting',
      displayStatus: 'Reconnecting (connection closed), attempt 1',
      reason: { code: 428, name: 'connectionClosed', message: 'Connection Terminated' },
    })
    const diff = await c.next((f) => f.type === 'diff')
    const item = h.hub.instance(instanceId(h, 'sales'))!.item as any
    expect(diff).toEqual({
      type: 'diff',
      epoch: h.hub.epoch,
      seq: snap.seq + 1,
      instance: 'sales',
      version: 2,
      at: item.updatedAt,
      changes: {
        status: 'connecting',
        updatedAt: item.updatedAt,
        version: 2,
        'connection.state': 'connecting',
        'connection.displayStatus': 'Reconnecting (connection closed), attempt 1',
        'connection.since': item.connection.since,
        'connection.reason': { code: 428, name: 'connectionClosed', message: 'Connection Terminated' },
      },
    })
    const mirror = structuredClone(snap.instances[0])
    applyChanges(mirror, diff.changes)
    expect(mirror).toEqual(item)
    await c.close()
  })

  it('sends added and removed frames to "*" subscribers', async () => {
    const c = await openClient(h)
    c.send({ type: 'subscribe', id: 'a', instances: '*' })
    const snap = await c.next((f) => f.type === 'snapshot')
    await createInstances(h, ['temp'])
    const added = await c.next((f) => f.type === 'added')
    expect(added).toEqual({ type: 'added', epoch: h.hub.epoch, seq: snap.seq + 1, instance: (await h.req('GET', '/api/instance/list?instanceName=temp')).json.instances[0] })
    await h.req('DELETE', '/api/instance/delete/temp')
    expect(await c.next((f) => f.type === 'removed')).toEqual({ type: 'removed', epoch: h.hub.epoch, seq: snap.seq + 2, instance: 'temp' })
    await c.close()
  })

  it('delivers only the named instances to a named subscription', async () => {
    const c = await openClient(h)
    c.send({ type: 'subscribe', id: 's', instances: ['support'] })
    const snap = await c.next((f) => f.type === 'snapshot')
    expect(snap.instances.map((i: any) => i.name)).toEqual(['support'])
    h.hub.updateStatus(instanceId(h, 'billing'), { displayStatus: 'x1' })
    h.hub.updateStatus(instanceId(h, 'support'), { displayStatus: 'x2' })
    const d = await c.next((f) => f.type === 'diff')
    expect([d.instance, d.seq, d.changes['connection.displayStatus']]).toEqual(['support', snap.seq + 2, 'x2'])
    expect(c.frames.filter((f) => f.type === 'diff')).toHaveLength(1)
    c.send({ type: 'unsubscribe', id: 'u', instances: ['support'] })
    expect(await c.next((f) => f.type === 'unsubscribed')).toEqual({ type: 'unsubscribed', id: 'u' })
    h.hub.updateStatus(instanceId(h, 'support'), { displayStatus: 'x3' })
    c.send({ type: 'ping', id: 'after' })
    await c.next((f) => f.type === 'pong')
    expect(c.frames.filter((f) => f.type === 'diff')).toHaveLength(1)
    await c.close()
  })

  it('lets a TokenInstance see only its own instance and refuses the others without revealing them', async () => {
    const c = await openClient(h, { token: tokens.support })
    c.send({ type: 'subscribe', id: '1', instances: '*' })
    const snap = await c.next((f) => f.type === 'snapshot')
    expect(snap.instances.map((i: any) => i.name)).toEqual(['support'])
    c.send({ type: 'subscribe', id: '2', instances: ['billing'] })
    expect(await c.next((f) => f.id === '2')).toEqual({ type: 'error', id: '2', message: 'Token does not have access to this instance: billing' })
    h.hub.updateStatus(instanceId(h, 'billing'), { displayStatus: 'hidden' })
    h.hub.updateStatus(instanceId(h, 'support'), { displayStatus: 'seen' })
    const d = await c.next((f) => f.type === 'diff')
    expect(d.instance).toBe('support')
    await c.close()
  })

  it('refuses another account\'s names exactly as unknown names', async () => {
    const beta = await h.req('POST', '/api/admin/accounts', { token: ADMIN, body: { name: 'beta' } })
    await createInstances(h, ['secret'], beta.json.token)
    const c = await openClient(h)
    c.send({ type: 'subscribe', id: 'x', instances: ['secret'] })
    c.send({ type: 'subscribe', id: 'y', instances: ['never-existed'] })
    expect(await c.next((f) => f.id === 'x')).toEqual({ type: 'error', id: 'x', message: 'Instance not found: secret' })
    expect(await c.next((f) => f.id === 'y')).toEqual({ type: 'error', id: 'y', message: 'Instance not found: never-existed' })
    await c.close()
  })
})

describe('bad frames', () => {
  it.each([
    ['not JSON', '{nope', { type: 'error', message: 'Invalid JSON' }],
    ['a JSON array', '[1]', { type: 'error', message: 'A frame must be a JSON object' }],
    ['an unknown type', '{"type":"dance","id":"7"}', { type: 'error', id: '7', message: 'Unknown frame type "dance"' }],
    ['a missing type', '{"id":"8"}', { type: 'error', id: '8', message: 'Unknown frame type null' }],
    ['bad instances', '{"type":"subscribe","id":"9","instances":7}', { type: 'error', id: '9', message: 'Invalid field "instances": Invalid input' }],
    ['an unknown field', '{"type":"ping","id":"10","x":1}', { type: 'error', id: '10', message: 'Unknown field "x"' }],
    ['a bad mode', '{"type":"subscribe","id":"11","instances":"*","mode":"fast"}', { type: 'error', id: '11', message: 'Invalid field "mode": Invalid option: expected one of "ordered"|"latest"' }],
    ['a negative since', '{"type":"subscribe","id":"12","instances":"*","since":{"epoch":"e","seq":-1}}', { type: 'error', id: '12', message: 'Invalid field "since.seq": Too small: expected number to be >=0' }],
  ])('answers %s with an error frame and keeps the socket open', async (_n, raw, expected) => {
    const c = await openClient(h)
    c.send(raw)
    expect(await c.next((f) => f.type === 'error')).toEqual(expected)
    c.send({ type: 'ping', id: 'alive' })
    expect(await c.next((f) => f.type === 'pong')).toEqual({ type: 'pong', id: 'alive' })
    await c.close()
  })

  it('refuses more subscriptions than the limit per socket', async () => {
    const c = await openClient(h)
    c.send({ type: 'subscribe', id: '1', instances: ['sales', 'support', 'billing', 'ops'] })
    expect(await c.next((f) => f.type === 'error')).toEqual({ type: 'error', id: '1', message: 'Too many subscriptions (limit 3 instances per socket)' })
    await c.close()
  })

  it('closes a socket that sends a frame over the size limit with 1009, and the hub keeps serving', async () => {
    const c = await openClient(h)
    c.send(JSON.stringify({ type: 'ping', id: 'x'.repeat(2000) }))
    expect((await c.closed).code).toBe(1009)
    expect((await h.req('GET', '/healthz', { token: null })).status).toBe(200)
  })

  it('closes with 1009 up to the transport cap, max(4 × HUB_WS_MAX_FRAME_BYTES, 64 KiB), and past it uWS drops the connection (1006)', async () => {
    const frameOf = (bytes: number) => {
      const head = JSON.stringify({ type: 'ping', id: '' })
      return JSON.stringify({ type: 'ping', id: 'x'.repeat(bytes - head.length) })
    }
    expect(frameOf(65536)).toHaveLength(65536)
    const atCap = await openClient(h)
    atCap.send(frameOf(65536))
    expect(await atCap.closed).toEqual({ code: 1009, reason: 'frame too big' })
    const pastCap = await openClient(h)
    pastCap.send(frameOf(65537))
    expect(await pastCap.closed).toEqual({ code: 1006, reason: '' })
    const after = await openClient(h)
    after.send({ type: 'ping', id: 'still' })
    expect(await after.next((f) => f.type === 'pong')).toEqual({ type: 'pong', id: 'still' })
    await after.close()
  })

  it('closes a socket that sends more frames per second than allowed with 4029', async () => {
    const c = await openClient(h)
    for (let i = 0; i < 60; i++) c.send({ type: 'ping', id: String(i) })
    expect(await c.closed).toEqual({ code: 4029, reason: 'rate limited' })
  })

  it('ignores a binary frame it cannot parse with an error frame', async () => {
    const c = await openClient(h)
    c.ws.send(Buffer.from([0xff, 0x00, 0x12]))
    expect((await c.next((f) => f.type === 'error')).message).toBe('Invalid JSON')
    await c.close()
  })
})

describe('revocation', () => {
  it('closes sockets with 4001 when their token is rotated or their account deleted', async () => {
    const acct = await h.req('POST', '/api/admin/accounts', { token: ADMIN, body: { name: 'gamma' } })
    const t = await createInstances(h, ['g1'], acct.json.token)
    const byAccount = await openClient(h, { token: acct.json.token })
    const byInstance = await openClient(h, { token: t.g1 })
    const rotated = await h.req('POST', '/api/instance/token/g1', { token: acct.json.token })
    expect(rotated.status).toBe(200)
    expect(await byInstance.closed).toEqual({ code: 4001, reason: 'token revoked' })
    await h.req('DELETE', `/api/admin/accounts/${acct.json.account.id}`, { token: ADMIN })
    expect(await byAccount.closed).toEqual({ code: 4001, reason: 'token revoked' })
  })
})

describe('GET /ws/:instance (RyzeAPI)', () => {
  it('answers HTTP 400 with RyzeAPI\'s message while the instance\'s websocket is disabled', async () => {
    const r = await upgradeStatus(h, '/ws/ops', { token: h.token })
    expect(r).toEqual({
      status: 400,
      body: JSON.stringify({ success: false, error: { message: 'WebSocket is not enabled for this instance. Configure it first using POST /api/events/websocket/ops' } }),
    })
  })

  it('sends instance.state frames on connection changes, without the token', async () => {
    await h.req('POST', '/api/events/websocket/ops', { body: { enabled: true } })
    const c = await openClient(h, { path: '/ws/ops', token: tokens.ops })
    const first = await c.next(() => true)
    const before = h.hub.instance(instanceId(h, 'ops'))!.item
    // Right after the upgrade: the current state, stamped with the time of the last change (here the websocket setting).
    expect(first).toEqual({
      event: 'instance.state',
      data: {
        state: 'disconnected',
        timestamp: before.updatedAt,
        connectionState: 'disconnected',
        numberJid: null,
        presenceStatus: 'unavailable',
        displayStatus: 'Disconnected',
        reason: null,
        retryAt: null,
        since: before.connection.since,
        synced: false,
        historySync: null,
        closeDetail: null,
      },
      instanceData: { instance: 'ops', apiInstanceName: before.apiInstanceName },
    })
    h.hub.updateStatus(instanceId(h, 'ops'), { state: 'connected', displayStatus: 'Online', numberJid: '551100@s.whatsapp.net', presenceStatus: 'available' })
    const f = await c.next((x) => x.data.state === 'connected')
    const item = h.hub.instance(instanceId(h, 'ops'))!.item
    expect(f).toEqual({
      event: 'instance.state',
      data: {
        state: 'connected',
        timestamp: item.updatedAt,
        connectionState: 'connected',
        numberJid: '551100@s.whatsapp.net',
        presenceStatus: 'available',
        displayStatus: 'Online',
        reason: null,
        retryAt: null,
        since: item.connection.since,
        synced: false,
        historySync: null,
        closeDetail: null,
      },
      instanceData: { instance: 'ops', apiInstanceName: item.apiInstanceName },
    })
    expect(JSON.stringify(c.frames)).not.toContain(tokens.ops)
    await c.close()
  })
})
