/**
 * The zombie: a worker paused (SIGSTOP) past the lease TTL while its instances fail over, then
 * resumed (SIGCONT). It must publish nothing and close the sockets it no longer owns, so WhatsApp
 * (the shared simulated world) never sees two live sockets of a number past the margin.
 */
import { Kvm } from '@nats-io/kv'
import { connect } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { allConnected, contiguous, createAndPair, listOf, mirrorOf, ready, socketsPerNode, startCluster, stateOn, watch, type TestCluster, type WatchedClient } from '../helpers/cluster.js'
import { until } from '../helpers/wait.js'

const TTL = 3000
let c: TestCluster
const NAMES = ['z1', 'z2', 'z3', 'z4', 'z5', 'z6']

beforeAll(async () => {
  c = await startCluster({ ttlMs: TTL })
  for (const id of ['a', 'b', 'c']) await c.start(id)
  for (const id of ['a', 'b', 'c']) await ready(c, id)
  await createAndPair(c, 'a', NAMES)
  await allConnected(c, 'c', NAMES, 20_000)
  await until(async () => (await sockets())['b'] === 2, { what: 'two sockets on b', ms: 10_000 })
}, 90_000)

afterAll(async () => {
  await c?.dispose()
})

const state = (node: string, name: string) => stateOn(c, node, name)

const sockets = () => socketsPerNode(c, 'a')

/** The nodes of the live simulated sockets, as the shared world (KV bucket sh_sim) holds them. */
async function liveSocketNodes(): Promise<string[]> {
  const nc = await connect({ servers: c.nats.url })
  try {
    const kv = await new Kvm(nc).open('sh_sim')
    const nodes = new Set<string>()
    let n = 0
    for await (const key of await kv.keys('l.>')) {
      const e = await kv.get(key)
      if (e?.operation !== 'PUT') continue
      nodes.add((e.json() as { node: string }).node)
      n++
    }
    expect(n).toBe(NAMES.length)
    return [...nodes].sort()
  } finally {
    await nc.close()
  }
}

const conflicts = async (node: string) => (await c.req(node, 'GET', '/api/sim/status')).json.conflicts as number

describe('a worker paused past the lease TTL, then resumed', () => {
  let w: WatchedClient

  it('loses its instances to the other workers while paused', async () => {
    w = watch(c, 'c')
    await until(() => w.events.some((e) => e.type === 'snapshot'), 'the snapshot')
    c.node('b').child.kill('SIGSTOP')
    await until(async () => {
      const s = await sockets()
      return s['b'] === undefined && (s['a'] ?? 0) + (s['c'] ?? 0) === 6
    }, { what: 'b’s sockets taken over', ms: 30_000 })
    await allConnected(c, 'c', NAMES, 30_000)
    // The new sockets' initial sync (push name, presence) lands within a second of connected.
    let count = -1
    let since = 0
    await until(() => {
      if (w.seqs.length !== count) [count, since] = [w.seqs.length, Date.now()]
      return Date.now() - since > 2000
    }, { what: 'the takeovers to settle', ms: 20_000 })
  })

  it('publishes nothing once resumed, closes its sockets, and WhatsApp counts no conflict past the margin', async () => {
    const seenDiffs = w.events.filter((e) => e.type === 'diff').length
    c.node('b').child.kill('SIGCONT')
    await ready(c, 'b')
    // b is back in the directory, driving nothing.
    await until(async () => (await sockets())['b'] === 0, { what: 'b back with no socket', ms: 15_000 })
    // WhatsApp's view: each number's one live socket is on a or c.
    expect(await liveSocketNodes()).toEqual(['a', 'c'])
    // Past the margin (max(2 s, TTL / 5)) plus a beat, an overlap would have been counted.
    const margin = Math.max(2000, TTL / 5)
    const since = Date.now()
    await until(() => Date.now() - since > margin + 1500, { what: 'the margin to pass', ms: margin + 5000 })
    for (const n of ['a', 'b', 'c']) expect(await conflicts(n)).toBe(0)
    // No socket was replaced (440) or lost (408), and nothing was published after the failover.
    const codes = w.events.flatMap((e) => (e.type === 'diff' ? [(e.item.connection.reason as { code?: number | null } | null)?.code ?? null] : []))
    expect(codes.filter((code) => code === 440 || code === 408)).toEqual([])
    // Nothing else after SIGCONT but sockets moved to b later to balance the load (b is back
    // with none): each such instance's first change there names the move.
    const later = w.events.filter((e) => e.type === 'diff').slice(seenDiffs)
    const first = new Map<string, unknown>()
    for (const e of later) if (e.type === 'diff' && !first.has(e.name)) first.set(e.name, e.item.connection.reason)
    for (const reason of first.values()) expect(reason).toEqual({ code: null, name: 'failover', message: expect.stringMatching(/^moved from node [ac] to balance the load$/) })
    await allConnected(c, 'b', NAMES, 10_000)
  })

  it('ends with every seq seen once and the mirror equal to every node’s list', async () => {
    expect(contiguous(w.seqs)).toBe(true)
    await until(async () => JSON.stringify(mirrorOf(w)) === JSON.stringify(await listOf(c, 'c')), 'mirror equals list')
    const lists = await Promise.all(['a', 'b', 'c'].map((n) => listOf(c, n)))
    expect(lists[0]).toEqual(lists[1])
    expect(lists[1]).toEqual(lists[2])
    w.stop()
  })
})
