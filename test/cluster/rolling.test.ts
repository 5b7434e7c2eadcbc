/**
 * A rolling restart: SIGTERM one worker, start it again, then the next. A stopping node hands its
 * socket and writer leases back, so its instances reconnect on the others from their saved
 * sessions at once. The TTL here is 20 s and every wait allows 10 s: an instance that waited for
 * its lease to expire would fail the test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { allConnected, contiguous, createAndPair, listOf, mirrorOf, ready, socketsPerNode, startCluster, watch, type TestCluster, type WatchedClient } from '../helpers/cluster.js'
import { until } from '../helpers/wait.js'

const TTL = 20_000
const WITHIN = 10_000
let c: TestCluster
const NAMES = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6']

beforeAll(async () => {
  c = await startCluster({ ttlMs: TTL })
  for (const id of ['a', 'b', 'c']) await c.start(id)
  for (const id of ['a', 'b', 'c']) await ready(c, id)
  await createAndPair(c, 'a', NAMES)
  await allConnected(c, 'a', NAMES, 20_000)
}, 90_000)

afterAll(async () => {
  await c?.dispose()
})

const sockets = (via: string) => socketsPerNode(c, via)

describe('a rolling restart', () => {
  let w: WatchedClient

  for (const [node, via] of [
    ['b', 'a'],
    ['c', 'a'],
    ['a', 'b'],
  ] as const) {
    it(`SIGTERM of ${node}: its leases are handed over, its instances say connecting (failover) at once, and connect again on the others without waiting for the TTL`, async () => {
      w ??= watch(c, via)
      await until(() => w.events.some((e) => e.type === 'snapshot'), 'the snapshot')
      await until(async () => Object.values(await sockets(via)).reduce((sum, n) => sum + n, 0) === NAMES.length, 'every socket counted')
      const drove = (await sockets(via))[node]!
      const mark = w.events.length
      expect(await c.node(node).stop()).toBe(0)
      await until(async () => {
        const s = await sockets(via)
        return s[node] === undefined && Object.values(s).reduce((sum, n) => sum + n, 0) === NAMES.length
      }, { what: `${node}'s sockets taken over`, ms: WITHIN })
      await allConnected(c, via, NAMES, WITHIN)
      // Each of its instances said so before connecting again: none claimed a socket that was gone.
      const said = (e: (typeof w.events)[number]) => e.type === 'diff' && e.item.connection.state === 'connecting' && JSON.stringify(e.item.connection.reason) === JSON.stringify({ code: null, name: 'failover', message: `node ${node} stopped` })
      expect(new Set(w.events.slice(mark).flatMap((e) => (said(e) && e.type === 'diff' ? [e.name] : []))).size).toBe(drove)
      // ...written by the stopping node itself, before it let the sockets go (not left to the next owner's scan).
      const handover = c.node(node).out().split('\n').filter((l) => l.includes('handing the sockets over')).at(-1)
      expect(JSON.parse(handover!)).toMatchObject({ sockets: drove, failover: drove })
      // Writes go on at once: the account's writer lease was handed over too.
      expect((await c.req(via, 'POST', `/api/instance/settings/${NAMES[0]}`, { body: { keepOnlineStatus: node !== 'c' } })).status).toBe(200)
      await c.start(node)
      await ready(c, node)
    })
  }

  it('ends with every seq seen once and the mirror equal to every node’s list', async () => {
    expect(contiguous(w.seqs)).toBe(true)
    await until(async () => JSON.stringify(mirrorOf(w)) === JSON.stringify(await listOf(c, 'b')), { what: 'mirror equals list', ms: WITHIN })
    const lists = await Promise.all(['a', 'b', 'c'].map((n) => listOf(c, n)))
    expect(lists[0]).toEqual(lists[1])
    expect(lists[1]).toEqual(lists[2])
    w.stop()
  })
})
