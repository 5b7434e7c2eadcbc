/**
 * A worker killed with SIGKILL: its instances connect again on the other workers from their saved
 * sessions, and say so (connecting, reason failover), while subscribers on the other nodes see every
 * change once, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, contiguous, listOf, mirrorOf, ready, startCluster, watch, type TestCluster, type WatchedClient } from '../helpers/cluster.js'
import { until, untilValue } from '../helpers/wait.js'

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

const state = async (node: string, name: string) => (await c.req(node, 'GET', `/api/instance/list?instanceName=${name}`)).json?.instances?.[0]?.connection.state

async function leases(): Promise<Record<string, number>> {
  const r = await c.req('c', 'GET', '/api/admin/cluster', { token: ADMIN })
  return Object.fromEntries((r.json.nodes as { id: string; instances: number }[]).map((n) => [n.id, n.instances]))
}

describe('kill -9 of a worker', () => {
  let w: WatchedClient

  it('spreads the sockets of six instances connected all at once over the three workers by count', async () => {
    for (const name of NAMES) expect((await c.req('a', 'POST', '/api/instance/new', { body: { name } })).status).toBe(201)
    await Promise.all(
      NAMES.map(async (name) => {
        expect((await c.req('a', 'GET', `/api/instance/connect/${name}`)).json.status).toBe('qr')
        expect((await c.req('a', 'POST', `/api/sim/${name}/scan`)).status).toBe(200)
      }),
    )
    for (const name of NAMES) await untilValue(() => state('c', name), (s) => s === 'connected', { what: `${name} connected`, ms: 20_000 })
    await until(async () => Object.values(await leases()).every((n) => n === 2), { what: 'two sockets per worker', detail: () => 'see /api/admin/cluster' })
  })

  it('reconnects the dead worker’s instances on the others, through connecting with reason failover, and subscribers elsewhere miss nothing', async () => {
    w = watch(c, 'c')
    await until(() => w.events.some((e) => e.type === 'snapshot'), 'the snapshot')
    await c.node('b').kill9()
    const isFailover = (e: (typeof w.events)[number]) => e.type === 'diff' && (e.item.connection.reason as { name?: string } | null)?.name === 'failover'
    await until(() => w.events.filter(isFailover).length === 2, { what: 'two failovers', ms: 30_000 })
    await until(async () => Object.keys(await leases()).sort().join() === 'a,c' && Object.values(await leases()).reduce((s, n) => s + n, 0) === 6, { what: 'b gone and its sockets taken over', ms: 30_000 })
    for (const name of NAMES) await untilValue(() => state('c', name), (s) => s === 'connected', { what: `${name} connected again`, ms: 30_000 })
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
