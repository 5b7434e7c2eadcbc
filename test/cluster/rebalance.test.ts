/**
 * A worker that joins takes a fair share of the sockets over time, one at a time: the busiest
 * worker hands one over, the newcomer reconnects it from its saved session (reason failover,
 * "moved from node a to balance the load"), at most one move per TTL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { allConnected, contiguous, createAndPair, listOf, mirrorOf, ready, socketsPerNode, startCluster, watch, type TestCluster, type WatchedClient } from '../helpers/cluster.js'
import { until } from '../helpers/wait.js'

let c: TestCluster
const NAMES = ['m1', 'm2', 'm3', 'm4']

beforeAll(async () => {
  c = await startCluster({ ttlMs: 3000 })
  await c.start('a')
  await ready(c, 'a')
  await createAndPair(c, 'a', NAMES)
  await allConnected(c, 'a', NAMES, 20_000)
}, 60_000)

afterAll(async () => {
  await c?.dispose()
})

const sockets = () => socketsPerNode(c, 'a')

describe('a worker joining a loaded cluster', () => {
  let w: WatchedClient

  it('takes two of the four sockets, one at a time, each through connecting with the rebalance reason', async () => {
    w = watch(c, 'a')
    await until(() => w.events.some((e) => e.type === 'snapshot'), 'the snapshot')
    await until(async () => JSON.stringify(await sockets()) === JSON.stringify({ a: 4 }), 'a driving all four')
    // Instances not connected at each change, as the subscriber saw them.
    const down = new Set<string>()
    let mostDown = 0
    let seenEvents = w.events.length
    const track = setInterval(() => {
      for (const e of w.events.slice(seenEvents)) {
        if (e.type !== 'diff') continue
        if (e.item.connection.state === 'connected') down.delete(e.name)
        else down.add(e.name)
        mostDown = Math.max(mostDown, down.size)
      }
      seenEvents = w.events.length
    }, 5)
    await c.start('b')
    await ready(c, 'b')
    await until(async () => JSON.stringify(await sockets()) === JSON.stringify({ a: 2, b: 2 }), { what: 'two sockets each', ms: 30_000 })
    await allConnected(c, 'a', NAMES, 15_000)
    clearInterval(track)
    const moves = w.events.flatMap((e) => (e.type === 'diff' && (e.item.connection.reason as { name?: string } | null)?.name === 'failover' ? [e.item.connection] : []))
    expect(moves.map((m) => [m.state, m.reason, m.displayStatus])).toEqual(
      Array.from({ length: 2 }, () => ['connecting', { code: null, name: 'failover', message: 'moved from node a to balance the load' }, 'Reconnecting on another node (moved from node a to balance the load)']),
    )
    expect(mostDown).toBe(1)
  })

  it('stays balanced, and ends with every seq seen once and the mirror equal to both lists', async () => {
    expect(await sockets()).toEqual({ a: 2, b: 2 })
    expect(contiguous(w.seqs)).toBe(true)
    await until(async () => JSON.stringify(mirrorOf(w)) === JSON.stringify(await listOf(c, 'b')), 'mirror equals list')
    expect(await listOf(c, 'a')).toEqual(await listOf(c, 'b'))
    w.stop()
  })
})
