/**
 * A worker killed with SIGKILL: its instances connect again on the other workers from their saved
 * sessions, and say so (connecting, reason failover), while subscribers on the other nodes see every
 * change once, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { allConnected, contiguous, createAndPair, listOf, mirrorOf, ready, socketsPerNode, startCluster, watch, type TestCluster, type WatchedClient } from '../helpers/cluster.js'
import { until } from '../helpers/wait.js'

let c: TestCluster
const NAMES = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6']

beforeAll(async () => {
  c = await startCluster()
  for (const id of ['a', 'b', 'c']) await c.start(id)
  for (const id of ['a', 'b', 'c']) await ready(c, id)
}, 60_000)

afterAll(async () => {
  await c?.dispose()
})

const leases = () => socketsPerNode(c, 'c')

describe('kill -9 of a worker', () => {
  let w: WatchedClient

  it('spreads the sockets of six instances connected all at once over the three workers by count', async () => {
    await createAndPair(c, 'a', NAMES, { together: true })
    await allConnected(c, 'c', NAMES, 20_000)
    await until(async () => Object.values(await leases()).every((n) => n === 2), { what: 'two sockets per worker', detail: () => 'see /api/admin/cluster' })
  })

  it('reconnects the dead worker’s instances on the others, through connecting with reason failover, and subscribers elsewhere miss nothing', async () => {
    w = watch(c, 'c')
    await until(() => w.events.some((e) => e.type === 'snapshot'), 'the snapshot')
    await c.node('b').kill9()
    const isFailover = (e: (typeof w.events)[number]) => e.type === 'diff' && (e.item.connection.reason as { name?: string } | null)?.name === 'failover'
    await until(() => w.events.filter(isFailover).length === 2, { what: 'two failovers', ms: 30_000 })
    await until(async () => Object.keys(await leases()).sort().join() === 'a,c' && Object.values(await leases()).reduce((s, n) => s + n, 0) === 6, { what: 'b gone and its sockets taken over', ms: 30_000 })
    await allConnected(c, 'c', NAMES, 30_000)
    const failovers = w.events.filter(isFailover)
    expect(failovers.length).toBe(2)
    for (const f of failovers) {
      if (f.type !== 'diff') continue
      expect(f.item.connection.state).toBe('connecting')
      expect(f.item.connection.reason).toEqual({ code: null, name: 'failover', message: 'node b stopped' })
      expect(f.item.connection.displayStatus).toBe('Reconnecting on another node (node b stopped)')
    }
    expect(contiguous(w.seqs)).toBe(true)
  })

  it('ends with the subscriber’s mirror equal to every live node’s list', async () => {
    const lists = await Promise.all(['a', 'c'].map((n) => listOf(c, n)))
    await until(async () => JSON.stringify(mirrorOf(w)) === JSON.stringify(await listOf(c, 'c')), 'mirror equals list')
    expect(lists[0]).toEqual(lists[1])
    expect(mirrorOf(w)).toEqual(await listOf(c, 'a'))
    w.stop()
  })
})
