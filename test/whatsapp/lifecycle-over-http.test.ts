import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createInstances, instanceId, startTestHub, tempDir, type TestHub } from '../helpers/hub.js'
import { untilValue as until } from '../helpers/wait.js'
import { openClient } from '../helpers/ws.js'

// The first 440 retries after 200 ms here instead of 10 s, so the test does not wait.
const simulated = () => ({ options: { machine: { conflictRetryMs: 200 } } })

let h: TestHub
let tokens: Record<string, string>
const item = async (name: string) => (await h.req('GET', `/api/instance/list?instanceName=${name}`)).json.instances[0]

beforeAll(async () => {
  h = await startTestHub({ HUB_WHATSAPP: 'simulated' }, { whatsapp: simulated() })
  tokens = await createInstances(h, ['sales', 'support', 'ops', 'gone'])
})
afterAll(() => h.stop())

describe('WhatsApp lifecycle over HTTP (simulated mode)', () => {
  it('connect answers a QR with a PNG data URI and the list shows "Waiting for QR scan"; the QR is never listed', async () => {
    const r = await h.req('GET', '/api/instance/connect/sales')
    expect(r.status).toBe(200)
    expect(r.json.message).toBe('QR code generated')
    expect(r.json.status).toBe('qr')
    expect(r.json.qrCode).toMatch(/^2@/)
    expect(r.json.qrCodeBase64).toMatch(/^data:image\/png;base64,iVBOR/)
    const again = await h.req('GET', '/api/instance/connect/sales')
    expect(again.json.qrCode).toBe(r.json.qrCode)
    const it = await item('sales')
    expect([it.connection.state, it.connection.displayStatus]).toEqual(['connecting', 'Waiting for QR scan'])
    const list = await h.req('GET', '/api/instance/list')
    expect(list.text).not.toContain(r.json.qrCode)
  })

  it('scan → connected with number and name, in the list and on the stream', async () => {
    const ws = await openClient(h)
    ws.send({ type: 'subscribe', id: '1', instances: ['sales'] })
    await ws.next((f) => f.type === 'snapshot')
    expect((await h.req('POST', '/api/sim/sales/scan')).json).toEqual({ success: true, message: 'Scan simulated' })
    // A personal account's push name arrives with the initial sync, after the open.
    const it = await until(() => item('sales'), (i) => i.connection.state === 'connected' && i.profile.name !== '')
    expect(it.connection.numberJid).toMatch(/^\d{12}@s\.whatsapp\.net$/)
    expect(it.connection.synced).toBe(true)
    expect(it.connection.displayStatus).toBe('Online')
    expect(it.profile.name).toMatch(/^Sim \d+$/)
    const wachat = (await h.req('GET', '/api/v1/instance/list?instanceName=sales')).json.instances[0]
    expect([wachat.state, wachat.isConnected, wachat.number]).toEqual(['open', true, it.connection.numberJid.split('@')[0]])
    const connected = await ws.next((f) => f.type === 'diff' && f.changes['connection.state'] === 'connected')
    expect(connected.changes['connection.numberJid'] ?? it.connection.numberJid).toBe(it.connection.numberJid)
    const connect = await h.req('GET', '/api/instance/connect/sales')
    expect(connect.json).toEqual({ success: true, message: 'Instance already connected', status: 'connected' })
    await ws.close()
  })

  it('close 428 → connecting with the reason and a retry time, then connected again', async () => {
    const ws = await openClient(h)
    ws.send({ type: 'subscribe', id: '1', instances: ['sales'] })
    await ws.next((f) => f.type === 'snapshot')
    await h.req('POST', '/api/sim/sales/close', { body: { code: 428, message: 'Connection Terminated' } })
    const drop = await ws.next((f) => f.type === 'diff' && f.changes['connection.state'] === 'connecting')
    expect(drop.changes['connection.reason']).toEqual({ code: 428, name: 'connectionClosed', message: 'Connection Terminated' })
    expect(drop.changes['connection.displayStatus']).toBe('Reconnecting (connection closed), attempt 1')
    expect(Date.parse(drop.changes['connection.retryAt'])).toBeGreaterThan(Date.parse(drop.at))
    await ws.next((f) => f.type === 'diff' && f.changes['connection.state'] === 'connected', 5000)
    const it = await item('sales')
    expect([it.connection.state, it.connection.reason, it.connection.retryAt]).toEqual(['connected', null, null])
    await ws.close()
  })

  it('reconnect on a connected instance answers its real state, connected', async () => {
    expect((await item('sales')).connection.state).toBe('connected')
    const r = await h.req('POST', '/api/instance/reconnect/sales')
    expect([r.status, r.json]).toEqual([200, { success: true, message: 'Reconnect initiated', status: 'connected' }])
  })

  it('close 401 → loggedout; reconnect is refused with 400', async () => {
    await h.req('GET', '/api/instance/connect/support')
    await h.req('POST', '/api/sim/support/scan')
    await until(() => item('support'), (i) => i.connection.state === 'connected')
    await h.req('POST', '/api/sim/support/close', { body: { code: 401, message: 'Stream Errored (conflict)' } })
    const it = await until(() => item('support'), (i) => i.connection.state === 'loggedout')
    expect(it.connection.displayStatus).toBe('Logged out')
    expect(it.connection.reason).toEqual({ code: 401, name: 'loggedOut', message: 'Stream Errored (conflict)' })
    const r = await h.req('POST', '/api/instance/reconnect/support')
    expect(r.status).toBe(400)
    expect(r.json.error.message).toBe('Instance has no saved session — call /connect first')
  })

  it('close 440 twice → parked as connection replaced, with a slow retry; reconnect starts at once', async () => {
    await h.req('GET', '/api/instance/connect/ops')
    await h.req('POST', '/api/sim/ops/scan')
    await until(() => item('ops'), (i) => i.connection.state === 'connected')
    await h.req('POST', '/api/sim/ops/close', { body: { code: 440, message: 'Stream Errored (conflict)' } })
    const first = await item('ops')
    expect(first.connection.state).toBe('connecting')
    expect(first.connection.reason.code).toBe(440)
    expect(first.connection.displayStatus).toBe('Reconnecting (connection replaced), attempt 1')
    // The first conflict retries by itself; a second one inside five minutes stops for good.
    await until(() => item('ops'), (i) => i.connection.state === 'connected')
    await h.req('POST', '/api/sim/ops/close', { body: { code: 440, message: 'Stream Errored (conflict)' } })
    const it = await until(() => item('ops'), (i) => i.connection.displayStatus.startsWith('Connection replaced by another client'))
    expect(it.connection.state).toBe('connecting')
    expect(it.connection.displayStatus).toMatch(/^Connection replaced by another client, retrying in \d+ min$/)
    expect(Date.parse(it.connection.retryAt) - Date.parse(it.connection.since)).toBeGreaterThanOrEqual(300_000)
    const r = await h.req('POST', '/api/instance/reconnect/ops')
    expect([r.status, r.json]).toEqual([200, { success: true, message: 'Reconnect initiated', status: 'connecting' }])
    await until(() => item('ops'), (i) => i.connection.state === 'connected')
  })

  it('logout unlinks and keeps the instance and its token', async () => {
    await h.req('POST', '/api/instance/reconnect/sales')
    await until(() => item('sales'), (i) => i.connection.state === 'connected')
    const r = await h.req('DELETE', '/api/instance/logout/sales', { token: tokens.sales })
    expect(r.json).toEqual({ success: true, message: 'Instance logged out', instance: { status: 'loggedout' }, unlinkSent: true })
    const it = await item('sales')
    expect([it.connection.state, it.connection.numberJid]).toEqual(['loggedout', null])
    expect((await h.req('POST', '/api/instance/reconnect/sales')).status).toBe(400)
  })

  it('asks for a pairing code with ?number=', async () => {
    const r = await h.req('GET', '/api/instance/connect/gone?number=5511999999999')
    expect(r.status).toBe(200)
    expect(r.json.message).toBe('Pairing code generated')
    expect(r.json.status).toBe('pairing')
    expect(r.json.pairingCode).toMatch(/^[A-Z0-9]{8}$/)
    expect((await h.req('GET', '/api/instance/connect/gone?number=12ab')).status).toBe(400)
  })

  it('delete ends the socket and wipes the session', async () => {
    await h.req('POST', '/api/sim/gone/scan')
    await until(() => item('gone'), (i) => i.connection.state === 'connected')
    const id = instanceId(h, 'gone')
    expect((await h.req('DELETE', '/api/instance/delete/gone')).status).toBe(200)
    expect(h.wa!.simulator!.constructor.name).toBe('Simulator')
    expect((h.wa as any).machineState(id)).toBeUndefined()
    const { default: Database } = await import('better-sqlite3')
    h.hub.flush()
    const db = new Database(`${h.dir}/statushub.db`, { readonly: true })
    expect(db.prepare('select count(*) n from wa_creds where instance_id = ?').get(id)).toEqual({ n: 0 })
    expect(db.prepare('select count(*) n from wa_keys where instance_id = ?').get(id)).toEqual({ n: 0 })
    db.close()
  })

  it('simulates the network of the next sockets and the silence of the open one, refusing bad bodies', async () => {
    const set = await h.req('POST', '/api/sim/ops/network', { body: { mode: 'unreachable' } })
    expect(set.json).toEqual({ success: true, message: 'Network set to "unreachable" for the next connections', mode: 'unreachable' })
    expect((await h.req('POST', '/api/sim/ops/network', { body: { mode: 'ok' } })).json.message).toBe('Network restored for the next connections')
    expect((await h.req('POST', '/api/sim/ops/network', { body: { mode: 'flaky' } })).status).toBe(400)
    expect((await h.req('POST', '/api/sim/ops/silence', { body: { ms: 0 } })).status).toBe(400)
    expect((await h.req('POST', '/api/sim/ops/silence', { body: { ms: 3_600_001 } })).status).toBe(400)
    const ok = await h.req('POST', '/api/sim/ops/silence', { body: { ms: 1_000 } })
    expect([ok.status, ok.json]).toEqual([200, { success: true, message: 'Silence simulated', ms: 1_000 }])
  })

  it('a network failure before any QR shows in the list in words, and /connect answers 504 with it', async () => {
    const local = await startTestHub({ HUB_WHATSAPP: 'simulated', HUB_CONNECT_TIMEOUT_MS: '1000' }, { whatsapp: simulated() })
    await createInstances(local, ['offline'])
    await local.req('POST', '/api/sim/offline/network', { body: { mode: 'unreachable' } })
    const r = await local.req('GET', '/api/instance/connect/offline')
    expect([r.status, r.json]).toEqual([
      504,
      { success: false, error: { message: "Timed out waiting for a QR code: Can't reach WhatsApp (getaddrinfo ENOTFOUND web.whatsapp.com)" } },
    ])
    const it = (await local.req('GET', '/api/instance/list?instanceName=offline')).json.instances[0]
    expect(it.connection).toMatchObject({
      state: 'connecting',
      reason: { code: 408, name: 'unreachable', message: 'WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)' },
      closeDetail: 'ENOTFOUND: getaddrinfo ENOTFOUND web.whatsapp.com',
    })
    expect(it.connection.displayStatus).toMatch(/^Can't reach WhatsApp \(getaddrinfo ENOTFOUND web\.whatsapp\.com\), retrying in \d+s$/)
    await local.stop()
  })

  it('HUB_SILENT_AFTER_MS reaches the sockets: a silenced socket is restarted as "silent" and reconnects', async () => {
    const local = await startTestHub({ HUB_WHATSAPP: 'simulated', HUB_SILENT_AFTER_MS: '1000' }, { whatsapp: simulated() })
    await createInstances(local, ['quiet'])
    const row = () => local.req('GET', '/api/instance/list?instanceName=quiet').then((r) => r.json.instances[0])
    await local.req('GET', '/api/instance/connect/quiet')
    await local.req('POST', '/api/sim/quiet/scan')
    await until(row, (i) => i.connection.state === 'connected' && i.connection.synced)
    const ws = await openClient(local)
    ws.send({ type: 'subscribe', id: '1', instances: ['quiet'] })
    await ws.next((f) => f.type === 'snapshot')
    await local.req('POST', '/api/sim/quiet/silence', { body: { ms: 5_000 } })
    const drop = await ws.next((f) => f.type === 'diff' && f.changes['connection.reason']?.name === 'silent', 5_000)
    expect(drop.changes['connection.reason'].message).toMatch(/^Nothing received from WhatsApp for \d+ s$/)
    await ws.next((f) => f.type === 'diff' && f.changes['connection.state'] === 'connected', 5_000)
    await ws.close()
    await local.stop()
  })

  it('refuses simulator controls on a hub that is not simulated, with 404', async () => {
    const plain = await startTestHub()
    await createInstances(plain, ['x'])
    expect((await plain.req('POST', '/api/sim/x/scan')).status).toBe(404)
    expect((await plain.req('GET', '/api/sim/status')).status).toBe(404)
    await plain.stop()
  })
})

describe('sessions across a restart', () => {
  it('reconnects an instance with a saved session by itself, and disconnects one without', async () => {
    const dir = tempDir()
    const a = await startTestHub({ HUB_WHATSAPP: 'simulated' }, { dir, whatsapp: simulated() })
    await createInstances(a, ['kept', 'waiting'])
    await a.req('GET', '/api/instance/connect/kept')
    await a.req('POST', '/api/sim/kept/scan')
    await until(() => a.req('GET', '/api/instance/list?instanceName=kept'), (r) => r.json.instances[0].connection.state === 'connected')
    await a.req('GET', '/api/instance/connect/waiting')
    const number = (await a.req('GET', '/api/instance/list?instanceName=kept')).json.instances[0].connection.numberJid
    const token = a.token
    await a.stop()

    const b = await startTestHub({ HUB_WHATSAPP: 'simulated' }, { dir, token, whatsapp: simulated() })
    const kept = await until(() => b.req('GET', '/api/instance/list?instanceName=kept'), (r) => r.json.instances[0].connection.state === 'connected')
    expect(kept.json.instances[0].connection.numberJid).toBe(number)
    const waiting = (await b.req('GET', '/api/instance/list?instanceName=waiting')).json.instances[0]
    expect([waiting.connection.state, waiting.connection.reason?.name]).toEqual(['disconnected', 'hubRestarted'])
    await b.stop()
  })
})
