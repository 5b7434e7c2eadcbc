/**
 * A node cut from the engine by a TCP proxy the test controls (its bytes held both ways, as in a
 * partition): it self-fences its sockets before its leases can expire, the others take them over,
 * it says it is not ready, and once the proxy lets bytes through again it catches up: its list
 * and its subscribers' mirrors equal everyone else's, every seq seen once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { allConnected, contiguous, createAndPair, listOf, mirrorOf, ready, socketsPerNode, startCluster, stateOn, watch, type TestCluster, type WatchedClient } from '../helpers/cluster.js'
import { TcpProxy } from '../helpers/tcp-proxy.js'
import { until, untilValue } from '../helpers/wait.js'

let c: TestCluster
let proxy: TcpProxy
const NAMES = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6']

beforeAll(async () => {
  c = await startCluster({ ttlMs: 3000 })
  proxy = new TcpProxy(c.nats.port)
  await proxy.start()
  await c.start('a')
  await c.start('b', { HUB_NATS_URL: proxy.url })
  await c.start('c')
  for (const id of ['a', 'b', 'c']) await ready(c, id)
  await createAndPair(c, 'a', NAMES)
  await allConnected(c, 'a', NAMES, 20_000)
  await until(async () => (await sockets())['b'] === 2, { what: 'two sockets on b', ms: 10_000 })
}, 90_000)

afterAll(async () => {
  await c?.dispose()
  await proxy?.close()
})

const state = (node: string, name: string) => stateOn(c, node, name)

const sockets = () => socketsPerNode(c, 'a')

describe('a node cut from the engine', () => {
  let onA: WatchedClient
  let onB: WatchedClient

  it('fences its sockets, says it is not ready, and the others take its instances over', async () => {
    onA = watch(c, 'a')
    onB = watch(c, 'b')
    await until(() => [onA, onB].every((w) => w.events.some((e) => e.type === 'snapshot')), 'the snapshots')
    await proxy.cut('partition')
    await until(async () => (await fetch(`${c.node('b').base}/readyz`)).status === 503, { what: 'b not ready', ms: 10_000 })
    const r = await c.req('b', 'GET', '/readyz')
    expect(r.json).toEqual({ success: false, error: { message: 'This node cannot reach the cluster engine (NATS)' } })
    await until(async () => {
      const s = await sockets()
      return s['b'] === undefined && (s['a'] ?? 0) + (s['c'] ?? 0) === NAMES.length
    }, { what: 'b’s sockets taken over', ms: 30_000 })
    await allConnected(c, 'a', NAMES, 30_000)
    expect((await c.req('a', 'GET', '/api/sim/status')).json.conflicts).toBe(0)
  })

  it('catches up once the engine is reachable again: one list everywhere, every mirror equal to it', async () => {
    await proxy.restore()
    await ready(c, 'b')
    expect((await c.req('a', 'POST', `/api/instance/settings/${NAMES[0]}`, { body: { keepOnlineStatus: true } })).status).toBe(200)
    await untilValue(async () => (await c.req('b', 'GET', `/api/instance/getSettings/${NAMES[0]}`)).json.settings.keepOnlineStatus, (v) => v === true, { what: 'the write seen on b', ms: 15_000 })
    for (const w of [onA, onB]) {
      await until(async () => JSON.stringify(mirrorOf(w)) === JSON.stringify(await listOf(c, 'a')), { what: 'mirror equals list', ms: 15_000 })
      expect(contiguous(w.seqs)).toBe(true)
    }
    const lists = await Promise.all(['a', 'b', 'c'].map((n) => listOf(c, n)))
    expect(lists[1]).toEqual(lists[0])
    expect(lists[2]).toEqual(lists[0])
    expect((await c.req('b', 'GET', '/api/sim/status')).json.conflicts).toBe(0)
    onA.stop()
    onB.stop()
  })
})
