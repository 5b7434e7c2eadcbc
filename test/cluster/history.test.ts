import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAndPair, ready, startCluster, stateOn, type TestCluster } from '../helpers/cluster.js'
import { until, untilValue } from '../helpers/wait.js'

let c: TestCluster

beforeAll(async () => {
  c = await startCluster()
  await c.start('a')
  await c.start('b')
  await ready(c, 'a')
  await ready(c, 'b')
}, 60_000)

afterAll(async () => {
  await c?.dispose()
})

interface Entry {
  at: string
  seq: number
  state: string
  reason: { name: string } | null
  displayStatus: string
}

const historyOn = async (node: string, name: string) => {
  const r = await c.req(node, 'GET', `/api/instance/history/${name}`)
  if (r.status !== 200) throw new Error(`history on ${node}: ${r.status} ${JSON.stringify(r.json)}`)
  return r.json as { history: Entry[]; liveness: { lastFrameAt: string | null; connectedSince: string | null } }
}

/** Flaps `name` once through `via` (428, the socket reconnects) and waits until it is connected on every node. */
async function flap(via: string, name: string, nodes: readonly string[]): Promise<void> {
  const r = await c.req(via, 'POST', `/api/sim/${name}/close`, { body: { code: 428, message: 'Connection Terminated' } })
  expect(r.status).toBe(200)
  for (const n of nodes) await untilValue(() => stateOn(c, n, name), (s) => s === 'connected', { what: `${name} connected on ${n}`, ms: 30_000 })
}

const states = (h: Entry[]) => h.map((e) => `${e.state}:${e.reason?.name ?? 'none'}`)

describe('connection history in a cluster', () => {
  let before: Entry[] = []

  it('answers the same history on every node, and the liveness of a socket driven elsewhere', async () => {
    await createAndPair(c, 'a', ['sales'])
    for (const n of ['a', 'b']) await untilValue(() => stateOn(c, n, 'sales'), (s) => s === 'connected', { what: `sales connected on ${n}`, ms: 30_000 })
    await flap('b', 'sales', ['a', 'b'])
    await flap('a', 'sales', ['a', 'b'])
    // Each flap is: connected → connecting (428, connectionClosed) → connected.
    await until(async () => states((await historyOn('a', 'sales')).history).filter((s) => s.startsWith('connected')).length === 3, 'three connected rows on a')
    const [ha, hb] = [await historyOn('a', 'sales'), await historyOn('b', 'sales')]
    expect(hb.history).toEqual(ha.history)
    expect(states(ha.history).slice(0, 5)).toEqual(['connected:none', 'connecting:connectionClosed', 'connected:none', 'connecting:connectionClosed', 'connected:none'])
    // Both nodes ask the one driving the socket.
    expect(typeof ha.liveness.lastFrameAt).toBe('string')
    expect(typeof hb.liveness.lastFrameAt).toBe('string')
    expect(hb.liveness.connectedSince).toBe(ha.liveness.connectedSince)
    before = ha.history
  }, 120_000)

  it('gives a node that joins later, with an empty disk, the history from before it joined', async () => {
    await c.start('c')
    await ready(c, 'c')
    const hc = await historyOn('c', 'sales')
    expect(hc.history).toEqual(before)
    expect(typeof hc.liveness.lastFrameAt).toBe('string')
  }, 60_000)

  it('keeps the history in the engine when every node stops, and records no "hub stopped" for a cluster node', async () => {
    for (const n of ['a', 'b', 'c']) await c.node(n).stop()
    await c.start('a')
    await ready(c, 'a')
    const after = (await historyOn('a', 'sales')).history
    // The oldest rows are the ones from before; a restarted cluster adds rows only after them.
    expect(after.slice(after.length - before.length)).toEqual(before)
    expect(after.some((e) => e.reason?.name === 'hubStopped')).toBe(false)
  }, 90_000)
})
