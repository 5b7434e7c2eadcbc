/**
 * One tenant cannot take the stream down for everyone (tenant-isolation contract): replays are
 * paged, deep ones and snapshots are budgeted per account, a socket that sends but never reads
 * holds a bounded amount, and a large account's snapshot is paced as fragments.
 */
import WebSocket from 'ws'
import { afterEach, describe, expect, it } from 'vitest'
import { throttledRelay } from '../../bench/lib/relay.js'
import { defaultConfig } from '../../src/core/integrations.js'
import type { StreamSocket } from '../../src/edges/stream/sockets.js'
import { createInstances, instanceId, startTestHub, type TestHub } from '../helpers/hub.js'
import { sseRequest } from '../helpers/sse.js'
import { until } from '../helpers/wait.js'
import { openClient } from '../helpers/ws.js'

let h: TestHub
afterEach(() => h?.stop())

const pause = (c: { ws: WebSocket }) => (c.ws as any)._socket.pause()
const resume = (c: { ws: WebSocket }) => (c.ws as any)._socket.resume()
const socketOf = () => [...h.streams.registry.streams][0]!.getUserData() as StreamSocket

describe('replays', () => {
  it('pages a deep resume from the change log: no read returns more than a page, and the hub keeps answering meanwhile', async () => {
    h = await startTestHub({ HUB_STREAM_RING_SIZE: '50', HUB_WS_MAX_BUFFER_BYTES: '16384' })
    await createInstances(h, ['a'])
    const from = h.hub.accounts()[0]!.seq
    const id = instanceId(h, 'a')
    for (let i = 0; i < 3000; i++) h.hub.updateStatus(id, { displayStatus: `change ${i}` })
    const final = h.hub.accounts()[0]!.seq
    const pages: number[] = []
    const changesAfter = h.hub.changesAfter.bind(h.hub)
    h.hub.changesAfter = (accountId, after, limit) => {
      const page = changesAfter(accountId, after, limit)
      pages.push(page?.length ?? -1)
      return page
    }
    const c = await openClient(h)
    pause(c)
    c.send({ type: 'subscribe', id: '1', instances: '*', since: { epoch: h.hub.epoch, seq: from } })
    await until(() => pages.length > 0, 'the replay to start')
    // The client reads nothing, yet the loop is free: a list and a health check are answered.
    expect((await h.req('GET', '/healthz', { token: null })).status).toBe(200)
    expect((await h.req('GET', '/api/instance/list')).status).toBe(200)
    resume(c)
    await c.next((f) => f.seq === final, 20_000)
    expect(c.frames[0]).toMatchObject({ type: 'resumed', seq: from, recovered: true })
    expect(c.frames.slice(1).map((f) => f.seq)).toEqual(Array.from({ length: 3000 }, (_, i) => from + 1 + i))
    expect(Math.max(...pages)).toBe(256)
    await c.close()
  })

  it('answers a resume further back than HUB_STREAM_MAX_REPLAY with a snapshot, on the WebSocket and over SSE', async () => {
    h = await startTestHub({ HUB_STREAM_MAX_REPLAY: '50' })
    await createInstances(h, ['a'])
    const from = h.hub.accounts()[0]!.seq
    for (let i = 0; i < 51; i++) h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: `change ${i}` })
    const c = await openClient(h)
    c.send({ type: 'subscribe', id: '1', instances: '*', since: { epoch: h.hub.epoch, seq: from } })
    expect(await c.next(() => true)).toMatchObject({ type: 'snapshot', recovered: false, seq: from + 51 })
    c.send({ type: 'subscribe', id: '2', instances: '*', since: { epoch: h.hub.epoch, seq: from + 1 } })
    expect(await c.next((f) => f.id === '2')).toMatchObject({ type: 'resumed', recovered: true, seq: from + 1 })
    const sse = await fetch(`${h.base}/api/instance/stream`, { headers: { token: h.token, 'last-event-id': `${h.hub.epoch}:0` } })
    const reader = sse.body!.getReader()
    let text = ''
    while (!text.includes('event: snapshot')) text += Buffer.from((await reader.read()).value!).toString()
    expect(text).toContain(`id: ${h.hub.epoch}:${from + 51}\nevent: snapshot\n`)
    await reader.cancel()
    await c.close()
  })

  it('limits deep resumes per account per second, with 4029 past HUB_ACCOUNT_DEEP_RESUMES_PER_SEC; a resume the ring serves is not charged', async () => {
    const clock = { now: () => Date.parse('2026-12-02T10:00:00.000Z') }
    h = await startTestHub({ HUB_STREAM_RING_SIZE: '10', HUB_ACCOUNT_DEEP_RESUMES_PER_SEC: '2' }, { clock })
    await createInstances(h, ['a'])
    const from = h.hub.accounts()[0]!.seq
    for (let i = 0; i < 30; i++) h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: `change ${i}` })
    const outcomes: string[] = []
    for (let i = 0; i < 3; i++) {
      const c = await openClient(h)
      c.send({ type: 'subscribe', id: String(i), instances: '*', since: { epoch: h.hub.epoch, seq: from } })
      const first = await Promise.race([c.next(() => true).then((f) => f.type as string), c.closed.then((x) => `closed ${x.code}`)])
      outcomes.push(first)
      await c.close()
    }
    expect(outcomes).toEqual(['resumed', 'resumed', 'closed 4029'])
    // A resume the ring still serves is not deep, and is not charged.
    const c = await openClient(h)
    c.send({ type: 'subscribe', id: 'x', instances: '*', since: { epoch: h.hub.epoch, seq: h.hub.accounts()[0]!.seq - 5 } })
    expect((await c.next(() => true)).type).toBe('resumed')
    await c.close()
  })
})

/** An account `wide` whose `*` snapshot is about 1 MB: the kernel's loopback buffers hide only a couple. */
async function wideAccount(): Promise<{ token: string; snapshotBytes: number }> {
  const { account, token } = h.hub.createAccount('wide', 1000)
  for (let i = 0; i < 800; i++) h.hub.createInstance(account.id, `n${i}`, defaultConfig())
  return { token, snapshotBytes: (await h.req('GET', '/api/instance/list', { token })).text.length }
}

const ids = (frames: any[], type: string) => frames.filter((f) => f.type === type).map((f) => Number(f.id))
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)
const WAITING = 'Too many subscribes waiting for their answers (limit 8); wait for the answers first'

/**
 * Sends subscribes one at a time to a socket that does not read until its answer stalls with 8
 * waiting (the kernel's buffers and the hub's bound full); returns the next id to use.
 */
async function stall(c: { send(f: unknown): void }, d: StreamSocket): Promise<number> {
  let i = 0
  while (d.requests.length < 8) {
    c.send({ type: 'subscribe', id: String(i), instances: '*' })
    const id = String(i++)
    await until(() => d.answering?.id === id || d.requests.some((f) => f.id === id), { what: `subscribe ${id} to be read`, ms: 20_000 })
  }
  return i
}

describe('a socket that sends but never reads', () => {
  it('is closed with 4008 "not reading its answers" when it keeps subscribing: one answer in flight, 8 waiting, then 64 refusals while the hub holds its unread bytes', async () => {
    // An 8 MiB buffer: each ~1 MB snapshot goes out as one frame, the refusals are sent (not held
    // behind fragments), and what uWS holds outlasts the growth of the kernel's buffers.
    h = await startTestHub({ HUB_WS_MAX_FRAMES_PER_SEC: '1000', HUB_WS_MAX_BUFFER_BYTES: String(8 * 1024 * 1024) })
    const { token, snapshotBytes } = await wideAccount()
    expect(snapshotBytes).toBeLessThan(2 * 1024 * 1024)
    const c = await openClient(h, { token })
    const d = socketOf()
    pause(c)
    const first = await stall(c, d)
    const inFlight = Number(d.answering!.id)
    expect(d.requests.map((f) => Number(f.id))).toEqual(range(inFlight + 1, inFlight + 8))
    expect(first).toBe(inFlight + 9)
    for (let i = first; i < first + 100; i++) c.send({ type: 'subscribe', id: String(i), instances: '*' })
    await until(() => d.closed, { what: 'the hub to close the socket', ms: 20_000, detail: () => ({ waiting: d.requests.length, unreadControl: d.unreadControl }) })
    // What the closed socket held against the pending bounds is released.
    expect(h.streams.fanout.pendingBytes).toBe(0)
    resume(c)
    expect(await c.closed).toEqual({ code: 4008, reason: 'not reading its answers' })
    // Answers in order up to the one in flight (its frame may have gone out whole), then exactly 64
    // refusals: the 65th subscribe past the waiting bound closed the socket, nothing after it.
    const answered = ids(c.frames, 'snapshot')
    expect(answered).toEqual(range(0, answered.length - 1))
    expect([inFlight - 1, inFlight]).toContain(answered.at(-1))
    expect(ids(c.frames, 'error')).toEqual(range(first, first + 63))
    expect(new Set(c.frames.filter((f) => f.type === 'error').map((f) => f.message))).toEqual(new Set([WAITING]))
    expect(c.frames.length).toBe(answered.length + 64)
  })

  it('is closed with 4008 when it sends pings without reading: 64 pongs while the hub holds its unread bytes, then the close', async () => {
    h = await startTestHub({ HUB_WS_MAX_FRAMES_PER_SEC: '1000', HUB_WS_MAX_BUFFER_BYTES: String(8 * 1024 * 1024) })
    const { token } = await wideAccount()
    const c = await openClient(h, { token })
    const d = socketOf()
    pause(c)
    await stall(c, d)
    for (let i = 0; i < 100; i++) c.send({ type: 'ping', id: `p${i}` })
    await until(() => d.closed, { what: 'the hub to close the socket', ms: 20_000, detail: () => ({ waiting: d.requests.length, unreadControl: d.unreadControl }) })
    resume(c)
    expect(await c.closed).toEqual({ code: 4008, reason: 'not reading its answers' })
    expect(c.frames.filter((f) => f.type === 'pong').map((f) => f.id)).toEqual(range(0, 63).map((i) => `p${i}`))
    expect(ids(c.frames, 'error')).toEqual([])
  })

  it('answers a repeated subscribe once while its answer is on its way: 40 identical frames from a socket that does not read are neither queued nor refused', async () => {
    h = await startTestHub({ HUB_WS_MAX_FRAMES_PER_SEC: '1000', HUB_WS_MAX_BUFFER_BYTES: '16384' })
    const { token } = await wideAccount()
    let planned = 0
    const answer = h.streams.fanout.answer.bind(h.streams.fanout)
    h.streams.fanout.answer = (ws, a) => (planned++, answer(ws, a))
    const c = await openClient(h, { token })
    const d = socketOf()
    pause(c)
    for (let i = 0; i < 40; i++) c.send({ type: 'subscribe', id: 'x', instances: '*' })
    // A different subscribe after them is queued: once it waits, every repeat before it was read.
    c.send({ type: 'subscribe', id: 'y', instances: ['n1'] })
    await until(() => d.requests.length > 0, { what: 'the different subscribe to wait', ms: 20_000 })
    // The repeats found the same subscribe in flight, its snapshot not yet sent whole.
    expect(d.requests.map((f) => f.id)).toEqual(['y'])
    expect(d.answering?.id).toBe('x')
    expect(planned).toBeLessThan(40)
    resume(c)
    const y = await c.next((f) => f.id === 'y', 20_000)
    expect(y).toMatchObject({ type: 'snapshot', instances: [{ name: 'n1' }] })
    expect(c.frames.map((f) => [f.type, f.id])).toEqual([...Array.from({ length: planned - 1 }, () => ['snapshot', 'x']), ['snapshot', 'y']])
    await c.close()
  })

  it('answers a reading client\'s burst of 40 subscribes: one in flight, 8 waiting, the rest refused, in order, and the socket stays open', async () => {
    h = await startTestHub({ HUB_WS_MAX_FRAMES_PER_SEC: '1000', HUB_WS_MAX_BUFFER_BYTES: '16384' })
    const { token } = await wideAccount()
    const c = await openClient(h, { token })
    for (let i = 0; i < 40; i++) c.send({ type: 'subscribe', id: String(i), instances: '*' })
    await until(() => c.frames.filter((f) => f.type === 'snapshot' || f.type === 'error').length === 40, { what: 'an answer to every subscribe', ms: 30_000 })
    const answered = ids(c.frames, 'snapshot')
    // Large snapshots, fragmented: the burst arrives before the first answer is out, so some are refused.
    expect(answered.length).toBeLessThan(40)
    expect(answered).toEqual(range(0, answered.length - 1))
    expect(ids(c.frames, 'error')).toEqual(range(answered.length, 39))
    expect(new Set(c.frames.filter((f) => f.type === 'error').map((f) => f.message))).toEqual(new Set([WAITING]))
    c.send({ type: 'ping', id: 'still' })
    expect(await c.next((f) => f.type === 'pong')).toEqual({ type: 'pong', id: 'still' })
    expect(c.ws.readyState).toBe(WebSocket.OPEN)
    await c.close()
  })

  it('closes a socket whose snapshot is past HUB_WS_MAX_PENDING_BYTES with 4008, in either mode', async () => {
    h = await startTestHub({ HUB_WS_MAX_PENDING_BYTES: String(64 * 1024) })
    await createInstances(h, Array.from({ length: 100 }, (_, i) => `n${i}`))
    for (const mode of ['ordered', 'latest']) {
      const c = await openClient(h)
      c.send({ type: 'subscribe', id: '1', instances: '*', mode })
      expect(await c.closed).toEqual({ code: 4008, reason: 'snapshot past the byte bound' })
    }
    // A named subscription of the same account still fits.
    const c = await openClient(h)
    c.send({ type: 'subscribe', id: '1', instances: ['n1', 'n2'] })
    expect((await c.next(() => true)).type).toBe('snapshot')
    await c.close()
  })
})


describe('a large account', () => {
  it('sends a reader at 1 MB/s the snapshot of 10,000 instances as one message, then every change after it, without closing it', async () => {
    h = await startTestHub({ HUB_WS_MAX_BUFFER_BYTES: String(256 * 1024) })
    const { account } = h.hub.createAccount('big', 20_000)
    const token = h.hub.rotateAccountToken(account.id)
    const ids: number[] = []
    for (let i = 0; i < 10_000; i++) ids.push(h.hub.createInstance(account.id, `n${String(i).padStart(5, '0')}`, defaultConfig()).instance.id)
    const relay = await throttledRelay(h.port, 1024 * 1024)
    const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/ws`, { headers: { token }, maxPayload: 64 * 1024 * 1024 })
    const frames: any[] = []
    let closed: number | null = null
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())))
    ws.on('close', (code) => (closed = code))
    await new Promise((r) => ws.once('open', r))
    ws.send(JSON.stringify({ type: 'subscribe', id: 'big', instances: '*' }))
    await until(() => h.streams.fanout.pendingBytes > 0, 'the snapshot to be in flight')
    // Changes while the snapshot is still on its way: caught up from the ring once it is sent.
    for (let i = 0; i < 300; i++) h.hub.updateStatus(ids[i * 7]!, { displayStatus: `during ${i}` })
    const final = h.hub.account(account.id)!.seq
    await until(() => frames.some((f) => f.seq === final) || closed !== null, { what: 'the last change', ms: 60_000 })
    expect(closed).toBeNull()
    const [snapshot, ...rest] = frames
    expect(snapshot.type).toBe('snapshot')
    expect(snapshot.instances).toHaveLength(10_000)
    expect(rest.map((f) => f.seq)).toEqual(Array.from({ length: final - snapshot.seq }, (_, i) => snapshot.seq + 1 + i))
    ws.close()
    relay.close()
  }, 90_000)
})

/** An SSE request to the stream (`read` starts reading). */
const sse = (lastEventId: string, token = h.token) => sseRequest(`${h.base}/api/instance/stream`, { token, 'last-event-id': lastEventId })

describe('replays over SSE', () => {
  it('pages a deep Last-Event-ID replay from the change log as the client reads: no read returns more than a page, and the hub keeps answering while the client reads nothing', async () => {
    h = await startTestHub({ HUB_STREAM_RING_SIZE: '50', HUB_WS_MAX_BUFFER_BYTES: '16384' })
    await createInstances(h, ['a'])
    const from = h.hub.accounts()[0]!.seq
    const id = instanceId(h, 'a')
    // About 15 MB of events: more than the kernel's and the client's buffers hold.
    const pad = 'x'.repeat(1500)
    const n = 10_000
    for (let i = 0; i < n; i++) h.hub.updateStatus(id, { displayStatus: `change ${i} ${pad}` })
    const final = h.hub.accounts()[0]!.seq
    const pages: number[] = []
    const changesAfter = h.hub.changesAfter.bind(h.hub)
    h.hub.changesAfter = (accountId, after, limit) => {
      const page = changesAfter(accountId, after, limit)
      pages.push(page?.length ?? -1)
      return page
    }
    const s = await sse(`${h.hub.epoch}:${from}`)
    expect(s.res.status).toBe(200)
    // The client reads nothing: the replay stops where the connection pushes back.
    let seen = -1
    let since = 0
    await until(
      () => {
        if (pages.length !== seen) [seen, since] = [pages.length, Date.now()]
        return pages.length > 0 && Date.now() - since > 300
      },
      { what: 'the replay to stop for the client', ms: 20_000 },
    )
    expect(pages.reduce((a, b) => a + b, 0)).toBeLessThan(n)
    expect((await h.req('GET', '/healthz', { token: null })).status).toBe(200)
    expect((await h.req('GET', '/api/instance/list')).status).toBe(200)
    void s.read()
    await until(() => s.events.at(-1)?.data.seq === final, { what: 'the last change', ms: 60_000 })
    expect(s.events[0]).toEqual({ id: `${h.hub.epoch}:${from}`, event: 'resumed', data: { type: 'resumed', epoch: h.hub.epoch, seq: from, recovered: true } })
    expect(s.events.slice(1).map((e) => e.data.seq)).toEqual(Array.from({ length: n }, (_, i) => from + 1 + i))
    expect(s.events.slice(1).map((e) => e.id)).toEqual(Array.from({ length: n }, (_, i) => `${h.hub.epoch}:${from + 1 + i}`))
    expect(Math.max(...pages)).toBe(256)
    await s.close()
  }, 90_000)

  it('limits deep SSE resumes per account per second: past HUB_ACCOUNT_DEEP_RESUMES_PER_SEC 429 with Retry-After: 1; a resume the ring serves is not charged, and the next second allows them again', async () => {
    const clock = { now: () => Date.parse('2026-12-02T10:00:00.000Z') }
    h = await startTestHub({ HUB_STREAM_RING_SIZE: '10', HUB_ACCOUNT_DEEP_RESUMES_PER_SEC: '2' }, { clock })
    await createInstances(h, ['a'])
    const from = h.hub.accounts()[0]!.seq
    for (let i = 0; i < 30; i++) h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: `change ${i}` })
    const head = h.hub.accounts()[0]!.seq
    const outcome = async (lastEventId: string) => {
      const s = await sse(lastEventId)
      if (s.res.status !== 200) return [s.res.status, s.res.headers.get('retry-after'), await s.res.json()]
      void s.read()
      await until(() => s.events.length > 0, 'the first event')
      await s.close()
      return [200, s.events[0]!.event]
    }
    const deep = `${h.hub.epoch}:${from}`
    expect([await outcome(deep), await outcome(deep), await outcome(deep)]).toEqual([
      [200, 'resumed'],
      [200, 'resumed'],
      [429, '1', { success: false, error: { message: 'Rate limit exceeded. Try again later.' } }],
    ])
    expect(await outcome(`${h.hub.epoch}:${head - 5}`)).toEqual([200, 'resumed'])
    clock.now = () => Date.parse('2026-12-02T10:00:01.000Z')
    expect(await outcome(deep)).toEqual([200, 'resumed'])
  })
})

describe('per-account snapshot bytes', () => {
  it('past HUB_ACCOUNT_SNAPSHOT_BYTES_PER_SEC closes a subscribe with 4029 and answers SSE with 429 and Retry-After: 1; the first snapshot of a second always goes, resumes and other accounts are unaffected', async () => {
    const clock = { now: () => Date.parse('2026-12-02T10:00:00.000Z') }
    h = await startTestHub({ HUB_ACCOUNT_SNAPSHOT_BYTES_PER_SEC: '1024' }, { clock })
    await createInstances(h, ['n0', 'n1', 'n2', 'n3', 'n4'])
    const other = h.hub.createAccount('other', 10)
    // Larger than the whole budget, yet the first of the second.
    const first = await openClient(h)
    first.send({ type: 'subscribe', id: '1', instances: '*' })
    const snapshot = await first.next(() => true)
    expect(snapshot).toMatchObject({ type: 'snapshot', id: '1' })
    expect(JSON.stringify(snapshot).length).toBeGreaterThan(1024)
    const second = await openClient(h)
    second.send({ type: 'subscribe', id: '2', instances: ['n0'] })
    expect(await second.closed).toEqual({ code: 4029, reason: 'too many snapshots for this account: retry later' })
    const s = await sse('')
    expect([s.res.status, s.res.headers.get('retry-after'), await s.res.json()]).toEqual([429, '1', { success: false, error: { message: 'Rate limit exceeded. Try again later.' } }])
    // A resume is no snapshot.
    const resumer = await openClient(h)
    resumer.send({ type: 'subscribe', id: '3', instances: '*', since: { epoch: h.hub.epoch, seq: snapshot.seq } })
    expect(await resumer.next(() => true)).toEqual({ type: 'resumed', id: '3', epoch: h.hub.epoch, seq: snapshot.seq, recovered: true })
    const elsewhere = await openClient(h, { token: other.token })
    elsewhere.send({ type: 'subscribe', id: '4', instances: '*' })
    expect(await elsewhere.next(() => true)).toMatchObject({ type: 'snapshot', id: '4', instances: [] })
    clock.now = () => Date.parse('2026-12-02T10:00:01.000Z')
    const later = await openClient(h)
    later.send({ type: 'subscribe', id: '5', instances: ['n0'] })
    expect(await later.next(() => true)).toMatchObject({ type: 'snapshot', id: '5', instances: [{ name: 'n0' }] })
    for (const c of [first, resumer, elsewhere, later]) await c.close()
  })
})

describe('answers in flight across the hub', () => {
  it('closes a subscribe whose answer would pass HUB_WS_MAX_PENDING_TOTAL_BYTES with 4029 "hub busy", while another socket holds most of it; smaller answers still fit, and the bound frees as answers are sent', async () => {
    const total = 8 * 1024 * 1024
    h = await startTestHub({ HUB_WS_MAX_PENDING_TOTAL_BYTES: String(total), HUB_WS_MAX_BUFFER_BYTES: '16384' })
    const { account, token } = h.hub.createAccount('big', 7000)
    for (let i = 0; i < 6000; i++) h.hub.createInstance(account.id, `n${String(i).padStart(5, '0')}`, defaultConfig())
    // The whole account's snapshot fits the bound once, not twice.
    const reader = await openClient(h, { token })
    reader.send({ type: 'subscribe', id: 'measure', instances: '*' })
    const size = JSON.stringify(await reader.next(() => true, 30_000)).length
    expect(size).toBeGreaterThan(total / 2)
    expect(size).toBeLessThanOrEqual(total)
    await reader.close()
    const holder = await openClient(h, { token })
    pause(holder)
    holder.send({ type: 'subscribe', id: 'held', instances: '*' })
    let seen = -1
    let since = 0
    await until(
      () => {
        const p = h.streams.fanout.pendingBytes
        if (p !== seen) [seen, since] = [p, Date.now()]
        return p > 0 && Date.now() - since > 300
      },
      { what: 'the held answer to stop for its reader', ms: 20_000 },
    )
    // What the kernel's buffers took of it is sent; the rest is pending.
    expect(h.streams.fanout.pendingBytes).toBeGreaterThan(total - size)
    const refused = await openClient(h, { token })
    refused.send({ type: 'subscribe', id: 'all', instances: '*' })
    expect(await refused.closed).toEqual({ code: 4029, reason: 'hub busy: too many answers in flight, retry later' })
    const small = await openClient(h, { token })
    small.send({ type: 'subscribe', id: 'one', instances: ['n00001'] })
    expect(await small.next(() => true)).toMatchObject({ type: 'snapshot', id: 'one', instances: [{ name: 'n00001' }] })
    await small.close()
    resume(holder)
    await until(() => holder.frames.length === 1, { what: 'the held snapshot', ms: 30_000 })
    expect(h.streams.fanout.pendingBytes).toBe(0)
    const again = await openClient(h, { token })
    again.send({ type: 'subscribe', id: 'again', instances: '*' })
    expect(await again.next(() => true, 30_000)).toMatchObject({ type: 'snapshot', id: 'again' })
    for (const c of [holder, again]) await c.close()
  }, 90_000)
})

describe('list renders', () => {
  it('charges each account for the list bytes it makes the hub render: past the budget 429 with Retry-After, cached lists and other accounts unaffected', async () => {
    const clock = { now: () => Date.parse('2026-12-02T10:00:00.000Z') }
    h = await startTestHub({ HUB_ACCOUNT_RENDER_BYTES_PER_SEC: '4096' }, { clock })
    await createInstances(h, Array.from({ length: 20 }, (_, i) => `n${i}`))
    const other = h.hub.createAccount('other', 10)
    // The first render of a window always goes, however large.
    expect((await h.req('GET', '/api/instance/list')).status).toBe(200)
    expect((await h.req('GET', '/api/instance/list')).status).toBe(200)
    h.hub.updateStatus(instanceId(h, 'n1'), { displayStatus: 'changed' })
    const refused = await h.req('GET', '/api/instance/list')
    expect([refused.status, refused.headers.get('retry-after'), refused.json]).toEqual([429, '1', { success: false, error: { message: 'Rate limit exceeded. Try again later.' } }])
    expect((await h.req('GET', '/api/instance/list', { token: other.token })).status).toBe(200)
    clock.now = () => Date.parse('2026-12-02T10:00:01.000Z')
    expect((await h.req('GET', '/api/instance/list')).json.instances[1].connection.displayStatus).toBe('changed')
  })
})
