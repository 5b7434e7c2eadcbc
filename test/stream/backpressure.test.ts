import { afterEach, describe, expect, it } from 'vitest'
import { createInstances, instanceId, startTestHub, type TestHub } from '../helpers/hub.js'
import type { StreamSocket } from '../../src/edges/stream/sockets.js'
import { until } from '../helpers/wait.js'
import { openClient, type Client } from '../helpers/ws.js'

// Every flood below is far larger than the loopback kernel buffers (a few MiB), so a client that
// stops reading always leaves the hub holding frames: the outcomes do not depend on timing.
const BUFFER = 65536
const pad = 'x'.repeat(4000)
const FLOOD = 6000


let h: TestHub
afterEach(() => h.stop())

async function hub(env: Record<string, string> = {}): Promise<TestHub> {
  h = await startTestHub({ HUB_WS_MAX_BUFFER_BYTES: String(BUFFER), HUB_WS_MAX_FRAMES_PER_SEC: '1000', ...env })
  await createInstances(h, ['hot', 'cold'])
  return h
}

const fanout = () => h.streams.fanout
const seqNow = () => h.hub.accounts()[0]!.seq
const tick = () => new Promise((r) => setImmediate(r))
const pause = (c: Client) => (c.ws as any)._socket.pause()
const resume = (c: Client) => (c.ws as any)._socket.resume()

/** Whether the hub has processed a subscribe naming `name` (the only socket's subscription holds it). */
const socket = () => [...h.streams.registry.streams][0]!.getUserData() as StreamSocket
const subscribed = (name: string) => socket().ids.has(instanceId(h, name))


/** `count` big diffs to `name`; with `turns`, yields every 10 so the periodic checks run between them. */
async function flood(name: string, count: number, turns: boolean): Promise<void> {
  const id = instanceId(h, name)
  for (let i = 0; i < count; i++) {
    h.hub.updateStatus(id, { displayStatus: `${name} ${i} ${pad}` })
    if (turns && i % 10 === 9) await tick()
  }
}

/** The seq of every frame that carries one, in arrival order. */
const seqs = (c: Client) => c.frames.filter((f) => typeof f.seq === 'number').map((f) => f.seq as number)
const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!)

describe('subscription answers on a socket with queued frames', () => {
  it('sends the snapshot of a second subscribe after the replay still queued for a catching-up socket', async () => {
    await hub()
    const from = seqNow()
    await flood('cold', FLOOD, false)
    const final = seqNow()
    const c = await openClient(h)
    pause(c)
    c.send({ type: 'subscribe', id: '1', instances: ['cold'], since: { epoch: h.hub.epoch, seq: from } })
    c.send({ type: 'subscribe', id: '2', instances: ['hot'] })
    // The second waits as a request, not as bytes: it is planned once the first answer is sent.
    await until(() => h.streams.registry.detached.size === 1 && socket().requests.length === 1, 'the second subscribe to wait')
    expect(subscribed('hot')).toBe(false)
    resume(c)
    await c.next((f) => f.id === '2', 20_000)
    expect(c.frames).toHaveLength(FLOOD + 2)
    expect(c.frames[0]).toEqual({ type: 'resumed', id: '1', epoch: h.hub.epoch, seq: from, recovered: true })
    expect(c.frames.slice(1, -1).map((f) => f.seq)).toEqual(Array.from({ length: FLOOD }, (_, i) => from + 1 + i))
    expect(c.frames.at(-1)).toMatchObject({ type: 'snapshot', id: '2', seq: final, instances: [{ name: 'hot' }] })
    h.hub.updateStatus(instanceId(h, 'hot'), { displayStatus: 'live' })
    expect(await c.next((f) => f.seq === final + 1)).toMatchObject({ type: 'diff', instance: 'hot' })
    await c.close()
  })

  it('sends the snapshot of a second subscribe after the changes a latest socket has folded', async () => {
    await hub()
    const c = await openClient(h)
    c.send({ type: 'subscribe', id: '1', instances: ['cold'], mode: 'latest' })
    await c.next((f) => f.type === 'snapshot')
    pause(c)
    await flood('cold', FLOOD, true)
    expect(fanout().stats.folded).toBe(1)
    h.hub.updateStatus(instanceId(h, 'hot'), { displayStatus: 'while folded' })
    const final = seqNow()
    c.send({ type: 'subscribe', id: '2', instances: ['hot'], mode: 'latest' })
    await until(() => subscribed('hot'), 'the second subscribe')
    resume(c)
    await c.next((f) => f.id === '2', 20_000)
    const [folded, snapshot] = c.frames.filter((f) => f.seq !== undefined).slice(-2)
    expect([folded.type, folded.seq, folded.changes['connection.displayStatus']]).toEqual(['diff', final - 1, `cold ${FLOOD - 1} ${pad}`])
    expect(snapshot).toMatchObject({ type: 'snapshot', id: '2', seq: final, instances: [{ name: 'hot', connection: { displayStatus: 'while folded' } }] })
    expect(increasing(seqs(c))).toBe(true)
    await c.close()
  })
})

describe('latest subscribers under backpressure', () => {
  it('folds a latest subscriber that a burst within one turn pushes past the bound, instead of letting uWS drop it', async () => {
    await hub()
    const c = await openClient(h)
    c.send({ type: 'subscribe', id: '1', instances: ['cold'], mode: 'latest' })
    await c.next((f) => f.type === 'snapshot')
    pause(c)
    await flood('cold', FLOOD, false)
    const final = seqNow()
    resume(c)
    const last = await c.next((f) => f.seq === final, 20_000)
    expect(last.changes['connection.displayStatus']).toBe(`cold ${FLOOD - 1} ${pad}`)
    expect(fanout().stats).toMatchObject({ folded: 1, slowClosed: 0 })
    expect(c.frames.length).toBeLessThan(FLOOD)
    expect(increasing(seqs(c))).toBe(true)
    expect(c.ws.readyState).toBe(1)
    await c.close()
  })

  it('folds the catch-up of a resuming latest subscriber that cannot take it, instead of closing it or queueing frames', async () => {
    await hub()
    const from = seqNow()
    await flood('cold', FLOOD, false)
    const c = await openClient(h)
    pause(c)
    c.send({ type: 'subscribe', id: '1', instances: ['cold'], mode: 'latest', since: { epoch: h.hub.epoch, seq: from } })
    await until(() => h.streams.registry.detached.size === 1, 'the resume to be sent')
    await flood('cold', 300, true)
    const final = seqNow()
    resume(c)
    const last = await c.next((f) => f.seq === final, 20_000)
    expect(last.changes['connection.displayStatus']).toBe(`cold 299 ${pad}`)
    expect(fanout().stats.slowClosed).toBe(0)
    expect(fanout().stats.folded).toBeGreaterThan(0)
    expect(c.frames[0]).toEqual({ type: 'resumed', id: '1', epoch: h.hub.epoch, seq: from, recovered: true })
    // Folded: fewer frames than changes, still in order, ending at the newest state.
    expect(c.frames.length).toBeLessThan(FLOOD + 300)
    expect(increasing(seqs(c))).toBe(true)
    expect(c.ws.readyState).toBe(1)
    await c.close()
  })

  it('closes an ordered subscriber that a burst within one turn pushes past the bound with 4008, not a dropped connection', async () => {
    await hub()
    const c = await openClient(h)
    c.send({ type: 'subscribe', id: '1', instances: ['cold'] })
    await c.next((f) => f.type === 'snapshot')
    pause(c)
    await flood('cold', FLOOD, false)
    resume(c)
    expect(await c.closed).toEqual({ code: 4008, reason: 'slow consumer' })
    expect(fanout().stats.slowClosed).toBe(1)
    expect(increasing(seqs(c))).toBe(true)
  })
})
