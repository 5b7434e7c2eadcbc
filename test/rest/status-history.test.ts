/**
 * GET /api/instance/history/:instance (WhatsApp contract, "Signals a monitor needs"): one entry per
 * change of connection.state or connection.reason, newest first, with the day's uptime and the
 * liveness; kept in its own table across restarts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Database from 'better-sqlite3'
import { createInstances, instanceId, startTestHub, tempDir, type TestHub } from '../helpers/hub.js'
import { untilValue } from '../helpers/wait.js'
import { openClient } from '../helpers/ws.js'

const T0 = Date.parse('2026-03-01T12:00:00.000Z')
const H = 3_600_000

/** A clock the test moves. */
const clock = { t: T0, now() { return this.t } }

describe('history of status changes (no WhatsApp source, a clock the test moves)', () => {
  let h: TestHub
  let dir: string
  let tokens: Record<string, string>

  beforeAll(async () => {
    dir = tempDir()
    h = await startTestHub({}, { dir, clock })
    tokens = await createInstances(h, ['sales', 'support'])
    const id = instanceId(h, 'sales')
    clock.t = T0 + H
    h.hub.updateStatus(id, { state: 'connecting', displayStatus: 'Connecting…' })
    clock.t = T0 + H + 1_000
    // Presence and display changes alone are not history.
    h.hub.updateStatus(id, { displayStatus: 'Waiting for QR scan' })
    clock.t = T0 + 2 * H
    h.hub.updateStatus(id, { state: 'connected', displayStatus: 'Online', presenceStatus: 'available' })
    clock.t = T0 + 3 * H
    h.hub.updateStatus(id, { state: 'connecting', displayStatus: 'Reconnecting (connection closed), attempt 1', reason: { code: 428, name: 'connectionClosed', message: 'Connection Terminated' } })
    clock.t = T0 + 3 * H + 500
    h.hub.updateStatus(id, { displayStatus: 'Reconnecting (connection closed), attempt 2', reason: { code: 408, name: 'connectionLost', message: 'Connection was lost' } })
    clock.t = T0 + 3.5 * H
    h.hub.updateStatus(id, { state: 'connected', displayStatus: 'Online', reason: null })
    clock.t = T0 + 4 * H
  })
  afterAll(() => h.stop())

  it('lists every change of state or reason newest first with its seq, the uptime since creation and the liveness', async () => {
    const r = await h.req('GET', '/api/instance/history/sales')
    expect(r.status).toBe(200)
    expect(r.json).toEqual({
      success: true,
      message: '6 entries found',
      instance: 'sales',
      history: [
        { at: new Date(T0 + 3.5 * H).toISOString(), seq: expect.any(Number), state: 'connected', reason: null, displayStatus: 'Online' },
        {
          at: new Date(T0 + 3 * H + 500).toISOString(),
          seq: expect.any(Number),
          state: 'connecting',
          reason: { code: 408, name: 'connectionLost', message: 'Connection was lost' },
          displayStatus: 'Reconnecting (connection closed), attempt 2',
        },
        {
          at: new Date(T0 + 3 * H).toISOString(),
          seq: expect.any(Number),
          state: 'connecting',
          reason: { code: 428, name: 'connectionClosed', message: 'Connection Terminated' },
          displayStatus: 'Reconnecting (connection closed), attempt 1',
        },
        { at: new Date(T0 + 2 * H).toISOString(), seq: expect.any(Number), state: 'connected', reason: null, displayStatus: 'Online' },
        { at: new Date(T0 + H).toISOString(), seq: expect.any(Number), state: 'connecting', reason: null, displayStatus: 'Connecting…' },
        { at: new Date(T0).toISOString(), seq: 1, state: 'disconnected', reason: null, displayStatus: 'Disconnected' },
      ],
      // Connected 2 h → 3 h and 3.5 h → 4 h of the 4 h since creation.
      uptime: { share24h: 0.375, connectedMs: 1.5 * H, windowMs: 4 * H },
      liveness: { lastFrameAt: null, connectedSince: new Date(T0 + 3.5 * H).toISOString() },
    })
    const seqs = r.json.history.map((e: any) => e.seq)
    expect([...seqs].sort((a: number, b: number) => b - a)).toEqual(seqs)
    expect(new Set(seqs).size).toBe(6)
  })

  it('limits and filters: ?limit=N newest entries, ?since=ISO entries from then on', async () => {
    const two = await h.req('GET', '/api/instance/history/sales?limit=2')
    expect(two.json.history.map((e: any) => e.at)).toEqual([new Date(T0 + 3.5 * H).toISOString(), new Date(T0 + 3 * H + 500).toISOString()])
    expect(two.json.message).toBe('2 entries found')
    const since = await h.req('GET', `/api/instance/history/sales?since=${new Date(T0 + 3 * H).toISOString()}`)
    expect(since.json.history).toHaveLength(3)
    const one = await h.req('GET', '/api/instance/history/support')
    expect([one.json.message, one.json.history.length, one.json.uptime]).toEqual(['1 entry found', 1, { share24h: 0, connectedMs: 0, windowMs: 4 * H }])
  })

  it.each([
    ['limit=0', 'Invalid field "limit": must be a whole number from 1 to 1000'],
    ['limit=1001', 'Invalid field "limit": must be a whole number from 1 to 1000'],
    ['limit=ten', 'Invalid field "limit": must be a whole number from 1 to 1000'],
    ['since=yesterday', 'Invalid field "since": must be an ISO date-time (2026-03-01T12:00:00Z)'],
  ])('refuses ?%s with 400', async (query, message) => {
    const r = await h.req('GET', `/api/instance/history/sales?${query}`)
    expect([r.status, r.json]).toEqual([400, { success: false, error: { message } }])
  })

  it('takes the instance’s own token, refuses a sibling’s with 403 and answers 404 for an unknown name', async () => {
    expect((await h.req('GET', '/api/instance/history/sales', { token: tokens.sales })).status).toBe(200)
    expect((await h.req('GET', '/api/instance/history/sales', { token: tokens.support })).json).toEqual({
      success: false,
      error: { message: 'Token does not have access to this instance' },
    })
    expect((await h.req('GET', '/api/instance/history/nope')).status).toBe(404)
  })

  it('counts only the last 24 h once the instance is older than a day', async () => {
    clock.t = T0 + 27.5 * H
    const r = await h.req('GET', '/api/instance/history/sales')
    // Connected since 3.5 h, so the whole window.
    expect(r.json.uptime).toEqual({ share24h: 1, connectedMs: 24 * H, windowMs: 24 * H })
    clock.t = T0 + 4 * H
  })

  it('is durable: after a restart the rows are there, with the time the hub was down marked as disconnected', async () => {
    const token = h.token
    clock.t = T0 + 5 * H
    await h.stop()
    clock.t = T0 + 6 * H
    h = await startTestHub({}, { dir, clock, token })
    const r = await h.req('GET', '/api/instance/history/sales?limit=2')
    expect(r.json.history).toEqual([
      {
        at: new Date(T0 + 5 * H).toISOString(),
        seq: expect.any(Number),
        state: 'disconnected',
        reason: { code: null, name: 'hubStopped', message: 'The hub stopped' },
        displayStatus: 'Disconnected (hub stopped)',
      },
      { at: new Date(T0 + 3.5 * H).toISOString(), seq: expect.any(Number), state: 'connected', reason: null, displayStatus: 'Online' },
    ])
    expect(r.json.uptime).toEqual({ share24h: 0.4167, connectedMs: 2.5 * H, windowMs: 6 * H })
  })

  it('is deleted with its instance', async () => {
    const id = instanceId(h, 'support')
    expect((await h.req('DELETE', '/api/instance/delete/support')).status).toBe(200)
    h.history.flush()
    const db = new Database(`${dir}/statushub.db`, { readonly: true })
    expect(db.prepare('select count(*) n from connection_history where instance_id = ?').get(id)).toEqual({ n: 0 })
    db.close()
  })
})

describe('history with the simulated WhatsApp source', () => {
  let h: TestHub
  beforeAll(async () => {
    h = await startTestHub({ HUB_WHATSAPP: 'simulated' }, { whatsapp: {} })
    await createInstances(h, ['sales'])
  })
  afterAll(() => h.stop())

  it('records each transition with the seq of its stream change, and reports the last frame and since when it is connected', async () => {
    const ws = await openClient(h)
    ws.send({ type: 'subscribe', id: '1', instances: ['sales'] })
    await ws.next((f) => f.type === 'snapshot')
    await h.req('GET', '/api/instance/connect/sales')
    await h.req('POST', '/api/sim/sales/scan')
    const item = await untilValue(
      async () => (await h.req('GET', '/api/instance/list?instanceName=sales')).json.instances[0],
      (i) => i.connection.state === 'connected' && i.connection.synced,
    )
    const r = await h.req('GET', '/api/instance/history/sales')
    const stateChanges = ws.frames.filter((f) => f.type === 'diff' && ('connection.state' in f.changes || 'connection.reason' in f.changes))
    expect(r.json.history.slice(0, -1).map((e: any) => e.seq)).toEqual(stateChanges.map((f) => f.seq).reverse())
    expect(r.json.history.map((e: any) => [e.state, e.reason?.name ?? null])).toEqual([
      ['connected', null],
      ['connecting', 'restartRequired'],
      ['connecting', null],
      ['disconnected', null],
    ])
    expect(r.json.liveness.connectedSince).toBe(item.connection.since)
    expect(Date.parse(r.json.liveness.lastFrameAt)).toBeGreaterThanOrEqual(Date.parse(item.connection.since))
    // Liveness is bookkeeping, never a change: reading it publishes nothing.
    const before = ws.frames.length
    await h.req('GET', '/api/instance/history/sales')
    expect(ws.frames.length).toBe(before)
    await ws.close()
  })
})

describe('instances older than the history', () => {
  it('start from their snapshot: one entry at the time of their last state change, at the stream position of the start', async () => {
    const dir = tempDir()
    const a = await startTestHub({}, { dir })
    await createInstances(a, ['old'])
    a.hub.updateStatus(instanceId(a, 'old'), { state: 'connected', displayStatus: 'Online' })
    const since = (await a.req('GET', '/api/instance/list?instanceName=old')).json.instances[0].connection.since
    const seq = a.hub.accountNamed('default')!.seq
    const token = a.token
    a.history.flush()
    await a.stop()
    // As a database from before the history table: no rows at all.
    const db = new Database(`${dir}/statushub.db`)
    db.prepare('DELETE FROM connection_history').run()
    db.close()
    const b = await startTestHub({}, { dir, token })
    const r = await b.req('GET', '/api/instance/history/old')
    expect(r.json.history).toEqual([{ at: since, seq, state: 'connected', reason: null, displayStatus: 'Online' }])
    await b.stop()
  })
})
