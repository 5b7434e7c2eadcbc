import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyChanges } from '../../src/core/item.js'
import { createInstances, instanceId, startTestHub, type TestHub } from '../helpers/hub.js'
import { until } from '../helpers/wait.js'
import { openClient, type Client } from '../helpers/ws.js'

/** Mirror of a '*' subscription built from its frames; fails on a duplicated or missing seq. */
function mirrorOf(c: Client): { items: Map<string, any>; seqs: number[] } {
  const items = new Map<string, any>()
  const seqs: number[] = []
  let pos = -1
  for (const f of c.frames) {
    if (f.type === 'snapshot') {
      items.clear()
      for (const i of f.instances) items.set(i.name, structuredClone(i))
      pos = f.seq
    } else if (f.type === 'diff' || f.type === 'added' || f.type === 'removed') {
      if (f.seq !== pos + 1) throw new Error(`seq ${f.seq} after ${pos}`)
      pos = f.seq
      seqs.push(f.seq)
      if (f.type === 'diff') applyChanges(items.get(f.instance), f.changes)
      else if (f.type === 'added') items.set(f.instance.name, structuredClone(f.instance))
      else items.delete(f.instance)
    }
  }
  return { items, seqs }
}

const tick = () => new Promise((r) => setImmediate(r))

let h: TestHub
beforeAll(async () => {
  h = await startTestHub({ HUB_WS_MAX_BUFFER_BYTES: '65536', HUB_WS_MAX_FRAMES_PER_SEC: '1000' })
  await createInstances(h, ['hot', 'cold'])
})
afterAll(() => h.stop())

describe('snapshot race and ordering', () => {
  it('gives every client subscribing during a storm a mirror equal to the server, with no duplicated or missing seq', async () => {
    const hot = instanceId(h, 'hot')
    let running = true
    let n = 0
    const storm = (async () => {
      while (running) {
        for (let i = 0; i < 20; i++) h.hub.updateStatus(hot, { displayStatus: `storm ${n++}`, presenceStatus: n % 3 ? 'available' : 'unavailable' })
        await tick()
      }
    })()
    const clients: Client[] = []
    for (let i = 0; i < 25; i++) {
      const c = await openClient(h)
      c.send({ type: 'subscribe', id: String(i), instances: '*' })
      clients.push(c)
      await tick()
    }
    // Changes keep flowing after the last subscribe before the storm stops.
    const after = h.hub.accounts()[0]!.seq
    await until(() => h.hub.accounts()[0]!.seq >= after + 200, 'the storm to go on after the last subscribe')
    running = false
    await storm
    const final = h.hub.accounts()[0]!.seq
    await Promise.all(clients.map((c) => c.next((f) => f.seq === final, 10_000)))
    const server = (await h.req('GET', '/api/instance/list')).json.instances
    const sequences = clients.map((c) => {
      const m = mirrorOf(c)
      expect([...m.items.values()]).toEqual(server)
      return m.seqs
    })
    // Every subscriber of the account sees the same sequence from the point they all share.
    const common = Math.max(...sequences.map((s) => s[0] ?? final))
    const tails = sequences.map((s) => s.filter((x) => x >= common))
    for (const t of tails) expect(t).toEqual(tails[0])
    expect(n).toBeGreaterThan(100)
    await Promise.all(clients.map((c) => c.close()))
  })
})

describe('slow consumers', () => {
  const big = 'x'.repeat(4000)

  async function flood(count: number, label: string) {
    const cold = instanceId(h, 'cold')
    for (let i = 0; i < count; i++) {
      h.hub.updateStatus(cold, { displayStatus: `${label} ${i} ${big}` })
      if (i % 10 === 9) await tick()
    }
  }

  it('closes an ordered subscriber that stops reading with 4008, without slowing others; it then resumes without loss', async () => {
    const fanout = (h as any).streams
    const slow = await openClient(h)
    const fast = await openClient(h)
    slow.send({ type: 'subscribe', id: 's', instances: ['cold'] })
    fast.send({ type: 'subscribe', id: 'f', instances: ['cold'] })
    await slow.next((f) => f.type === 'snapshot')
    await fast.next((f) => f.type === 'snapshot')
    ;(slow.ws as any)._socket.pause()
    await flood(4000, 'ordered')
    const final = h.hub.accounts()[0]!.seq
    await fast.next((f) => f.seq === final, 20_000)
    expect(fast.frames.filter((f) => f.type === 'diff')).toHaveLength(4000)

    ;(slow.ws as any)._socket.resume()
    expect(await slow.closed).toEqual({ code: 4008, reason: 'slow consumer' })
    const seen = slow.frames.filter((f) => f.type === 'diff')
    expect(seen.length).toBeLessThan(4000)
    const last = seen.at(-1)?.seq ?? slow.frames[0].seq

    const again = await openClient(h)
    again.send({ type: 'subscribe', id: 'r', instances: ['cold'], since: { epoch: h.hub.epoch, seq: last } })
    await again.next((f) => f.seq === final, 20_000)
    expect(again.frames[0]).toMatchObject({ type: 'resumed', recovered: true, seq: last })
    const replayed = again.frames.slice(1).map((f) => f.seq)
    expect(replayed).toEqual(fast.frames.filter((f) => f.type === 'diff' && f.seq > last).map((f) => f.seq))
    void fanout
    await Promise.all([again.close(), fast.close()])
  })

  it('folds pending changes per instance for a latest subscriber instead of closing it', async () => {
    const slow = await openClient(h)
    slow.send({ type: 'subscribe', id: 'l', instances: ['cold'], mode: 'latest' })
    await slow.next((f) => f.type === 'snapshot')
    ;(slow.ws as any)._socket.pause()
    await flood(4000, 'latest')
    const final = h.hub.accounts()[0]!.seq
    ;(slow.ws as any)._socket.resume()
    const last = await slow.next((f) => f.seq === final, 20_000)
    expect(last.changes['connection.displayStatus']).toBe(`latest 3999 ${big}`)
    const diffs = slow.frames.filter((f) => f.type === 'diff')
    expect(diffs.length).toBeLessThan(4000)
    const seqs = diffs.map((f) => f.seq)
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs)
    expect(slow.ws.readyState).toBe(1)
    h.hub.updateStatus(instanceId(h, 'cold'), { displayStatus: 'after the storm' })
    expect((await slow.next((f) => f.seq === final + 1)).changes['connection.displayStatus']).toBe('after the storm')
    await slow.close()
  })

  it('keeps memory bounded with forty stalled subscribers while a fast one gets every change in order', async () => {
    const stalled: Client[] = []
    for (let i = 0; i < 40; i++) {
      const c = await openClient(h)
      c.send({ type: 'subscribe', id: String(i), instances: ['cold'], mode: i % 2 ? 'latest' : 'ordered' })
      await c.next((f) => f.type === 'snapshot')
      ;(c.ws as any)._socket.pause()
      stalled.push(c)
    }
    const fast = await openClient(h)
    fast.send({ type: 'subscribe', id: 'f', instances: ['cold'] })
    const snap = await fast.next((f) => f.type === 'snapshot')
    const before = process.memoryUsage().rss
    let peak = before
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5)
    // 4,000 frames of ~4 KB: 16 MB for each subscriber, 640 MB if the hub buffered them all.
    await flood(4000, 'stalled')
    const final = h.hub.accounts()[0]!.seq
    await fast.next((f) => f.seq === final, 20_000)
    clearInterval(sampler)
    expect(fast.frames.filter((f) => f.type === 'diff').map((f) => f.seq)).toEqual(Array.from({ length: 4000 }, (_, i) => snap.seq + 1 + i))
    expect(peak - before).toBeLessThan(250 * 1024 * 1024)

    for (const c of stalled) (c.ws as any)._socket.resume()
    const ordered = stalled.filter((_, i) => i % 2 === 0)
    const latest = stalled.filter((_, i) => i % 2 === 1)
    expect(await Promise.all(ordered.map((c) => c.closed))).toEqual(ordered.map(() => ({ code: 4008, reason: 'slow consumer' })))
    const lasts = await Promise.all(latest.map((c) => c.next((f) => f.seq === final, 20_000)))
    for (const l of lasts) expect(l.changes['connection.displayStatus']).toBe(`stalled 3999 ${big}`)
    await Promise.all([fast.close(), ...latest.map((c) => c.close())])
  })
})

