import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { createInstances, instanceId, startTestHub, tempDir, type TestHub } from '../helpers/hub.js'
import { clientFor, mirrorObject, relay, restList, until, type Recorded } from './helpers.js'

const hubs: TestHub[] = []
const clients: Recorded[] = []

async function hub(...args: Parameters<typeof startTestHub>): Promise<TestHub> {
  const h = await startTestHub(...args)
  hubs.push(h)
  return h
}

function client(...args: Parameters<typeof clientFor>): Recorded {
  const r = clientFor(...args)
  clients.push(r)
  return r
}

const relays: Awaited<ReturnType<typeof relay>>[] = []

/** A hub on a new data dir behind a relay, so the client's URL survives restarts. */
async function hubBehindRelay(env: Record<string, string> = {}) {
  const dir = tempDir()
  const h1 = await hub(env, { dir })
  const r = await relay()
  relays.push(r)
  r.target(h1.port)
  const token = h1.token
  return {
    h1,
    dir,
    via: { port: r.port, token },
    relay: r,
    async restart() {
      r.target(null)
      const h2 = await hub(env, { dir, token })
      r.target(h2.port)
      return h2
    },
  }
}

afterEach(async () => {
  for (const r of clients.splice(0)) r.c.stop()
  for (const h of hubs.splice(0)) await h.stop()
  for (const r of relays.splice(0)) await r.close()
})

const seqOf = (h: TestHub) => h.hub.accounts()[0]!.seq

describe('StatusClient against a real hub', () => {
  it('receives the snapshot, then every diff in order, and its mirror equals the REST list', async () => {
    const h = await hub()
    await createInstances(h, ['sales', 'support', 'ops'])
    const r = client(h)
    r.c.start()
    await until(() => r.c.state === 'open', 'open')
    expect(r.c.position).toEqual({ epoch: h.hub.epoch, seq: seqOf(h) })
    expect([...r.c.mirror.keys()]).toEqual(['sales', 'support', 'ops'])

    const sales = instanceId(h, 'sales')
    h.hub.updateStatus(sales, { state: 'connecting', displayStatus: 'Connecting…' })
    h.hub.updateStatus(instanceId(h, 'ops'), { presenceStatus: 'available' })
    h.hub.updateStatus(sales, {
      state: 'disconnected',
      displayStatus: 'Disconnected (connection closed)',
      reason: { code: 428, name: 'connectionClosed', message: 'Connection Terminated' },
    })
    await until(() => r.c.position?.seq === seqOf(h), 'the last seq')

    const diffs = r.events.flatMap((e) => (e.type === 'diff' ? [[e.seq, e.name, e.item.connection.state]] : []))
    const first = seqOf(h) - 2
    expect(diffs).toEqual([
      [first, 'sales', 'connecting'],
      [first + 1, 'ops', 'disconnected'],
      [first + 2, 'sales', 'disconnected'],
    ])
    const rest = await restList(h)
    expect(rest.seq).toBe(r.c.position!.seq)
    expect(rest.epoch).toBe(r.c.position!.epoch)
    expect(mirrorObject(r.c)).toEqual(rest.items)
  })

  it('follows instances created and deleted after it subscribed to "*"', async () => {
    const h = await hub()
    await createInstances(h, ['a'])
    const r = client(h)
    r.c.start()
    await until(() => r.c.state === 'open', 'open')
    await createInstances(h, ['b'])
    const del = await h.req('DELETE', '/api/instance/delete/a')
    expect(del.status).toBe(200)
    await until(() => r.c.position?.seq === seqOf(h), 'the last seq')
    expect(r.kinds()).toEqual(['state:connecting', 'state:open', 'snapshot', 'added', 'removed'])
    expect([...r.c.mirror.keys()]).toEqual(['b'])
    expect(mirrorObject(r.c)).toEqual((await restList(h)).items)
  })

  it('follows only the named instances when subscribed to a list', async () => {
    const h = await hub()
    await createInstances(h, ['a', 'b', 'c'])
    const r = client(h, { instances: ['a', 'c'] })
    r.c.start()
    await until(() => r.c.state === 'open', 'open')
    h.hub.updateStatus(instanceId(h, 'b'), { displayStatus: 'b changed' })
    h.hub.updateStatus(instanceId(h, 'c'), { displayStatus: 'c changed' })
    await until(() => r.c.position?.seq === seqOf(h), 'the last seq')
    expect([...r.c.mirror.keys()]).toEqual(['a', 'c'])
    expect(r.events.flatMap((e) => (e.type === 'diff' ? [e.name] : []))).toEqual(['c'])
  })

  it('resumes a named subscription after one of its instances was deleted while it was stopped, and follows the rest', async () => {
    const h = await hub()
    await createInstances(h, ['a', 'b'])
    const r = client(h, { instances: ['a', 'b'] })
    r.c.start()
    await until(() => r.c.state === 'open', 'open')
    r.c.stop()
    expect((await h.req('DELETE', '/api/instance/delete/b')).status).toBe(200)
    h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: 'after the delete' })
    const from = r.events.length
    r.c.start()
    await until(() => r.c.position?.seq === seqOf(h), 'caught up')
    expect(r.kinds().slice(from)).toEqual(['state:connecting', 'state:open', 'resumed', 'removed', 'diff'])
    expect(r.c.state).toBe('open')
    expect(mirrorObject(r.c)).toEqual((await restList(h)).items)
  })

  it('stops with reason "token revoked" when the account token is rotated, and does not reconnect', async () => {
    const h = await hub()
    await createInstances(h, ['a'])
    const r = client(h)
    r.c.start()
    await until(() => r.c.state === 'open', 'open')
    h.hub.rotateAccountToken(h.hub.accounts()[0]!.id)
    await until(() => r.c.state === 'closed', 'closed')
    const last = r.events.at(-1)
    expect(last).toEqual({ type: 'state', state: 'closed', previous: 'open', attempt: 0, delayMs: null, code: 4001, reason: 'token revoked' })
    // Terminal: nothing is scheduled that could reconnect it.
    expect(r.c.state).toBe('closed')
    expect((r.c as unknown as { retryTimer: unknown }).retryTimer).toBeNull()
  })

  it('stops with reason "token refused (HTTP 401)" when the token is unknown', async () => {
    const h = await hub()
    const r = client({ port: h.port, token: 'not-a-token' })
    r.c.start()
    await until(() => r.c.state === 'closed', 'closed')
    expect(r.kinds()).toEqual(['state:connecting', 'state:closed'])
    expect(r.events.at(-1)).toMatchObject({ state: 'closed', reason: 'token refused (HTTP 401)' })
  })

  it('reconnects after the hub restarts on the same data dir and resumes with recovered:true', async () => {
    const { h1, via, restart } = await hubBehindRelay()
    await createInstances(h1, ['a', 'b'])
    const r = client(via)
    r.c.start()
    await until(() => r.c.state === 'open', 'open')
    h1.hub.updateStatus(instanceId(h1, 'a'), { displayStatus: 'before restart' })
    await until(() => r.c.position?.seq === seqOf(h1), 'the seq before restart')

    await h1.stop()
    await until(() => r.c.state === 'reconnecting', 'reconnecting')
    const lost = r.events.find((e) => e.type === 'state' && e.state === 'reconnecting')
    expect(lost).toMatchObject({ code: 1001, reason: 'hub shutting down' })

    // While the client retries against a closed port, the restarted hub makes one more change;
    // it happens before or after the client is back, and either way must reach the mirror once.
    const h2 = await restart()
    h2.hub.updateStatus(instanceId(h2, 'b'), { displayStatus: 'after restart' })
    await until(() => r.c.state === 'open' && r.c.position?.seq === seqOf(h2), 'resumed and caught up')

    expect(r.c.lastRecovered).toBe(true)
    expect(r.events.filter((e) => e.type === 'snapshot')).toHaveLength(1)
    expect(r.events.filter((e) => e.type === 'resumed')).toEqual([{ type: 'resumed', recovered: true, position: { epoch: h2.hub.epoch, seq: expect.any(Number) } }])
    expect(r.c.mirror.get('b')!.connection.displayStatus).toBe('after restart')
    expect(mirrorObject(r.c)).toEqual((await restList(h2)).items)
  })

  it('resumes the changes made while it was stopped, in order, without a new snapshot', async () => {
    const { h1, via, restart } = await hubBehindRelay()
    await createInstances(h1, ['a'])
    const r = client(via)
    r.c.start()
    await until(() => r.c.state === 'open', 'open')
    r.c.stop()
    h1.hub.updateStatus(instanceId(h1, 'a'), { displayStatus: 'one' })
    h1.hub.updateStatus(instanceId(h1, 'a'), { displayStatus: 'two' })
    await h1.stop()
    const h2 = await restart()
    h2.hub.updateStatus(instanceId(h2, 'a'), { displayStatus: 'three' })
    const from = r.events.length
    r.c.start()
    await until(() => r.c.position?.seq === seqOf(h2), 'caught up')
    expect(r.events.slice(from).map((e) => (e.type === 'diff' ? `diff:${e.item.connection.displayStatus}` : e.type === 'state' ? `state:${e.state}` : e.type))).toEqual([
      'state:connecting',
      'state:open',
      'resumed',
      'diff:one',
      'diff:two',
      'diff:three',
    ])
  })

  it('gets a fresh snapshot with recovered:false when the hub lost its change log, and replaces the mirror', async () => {
    const { h1, dir, via, restart } = await hubBehindRelay()
    await createInstances(h1, ['a', 'b'])
    const r = client(via)
    r.c.start()
    await until(() => r.c.state === 'open', 'open')
    const oldEpoch = r.c.position!.epoch
    r.c.stop()
    await h1.stop()
    const db = new Database(`${dir}/statushub.db`)
    db.exec('DELETE FROM change_log')
    db.prepare("DELETE FROM instances WHERE name = 'b'").run()
    db.close()
    const h2 = await restart()
    const from = r.events.length
    r.c.start()
    await until(() => r.c.state === 'open', 'open again')
    expect(r.events.slice(from).map((e) => e.type)).toEqual(['state', 'state', 'snapshot'])
    expect(r.c.lastRecovered).toBe(false)
    expect(r.c.position!.epoch).not.toBe(oldEpoch)
    expect(r.c.position!.epoch).toBe(h2.hub.epoch)
    expect([...r.c.mirror.keys()]).toEqual(['a'])
    expect(mirrorObject(r.c)).toEqual((await restList(h2)).items)
  })

  it('keeps its mirror equal to the REST list under a burst of changes in latest mode', async () => {
    const h = await hub()
    const names = Array.from({ length: 20 }, (_, i) => `i${i}`)
    await createInstances(h, names)
    const r = client(h, { mode: 'latest' })
    r.c.start()
    await until(() => r.c.state === 'open', 'open')
    const states = ['connecting', 'connected', 'disconnected'] as const
    for (let round = 0; round < 30; round++) {
      for (const n of names) h.hub.updateStatus(instanceId(h, n), { state: states[(round + n.length) % 3], displayStatus: `round ${round}` })
    }
    await until(() => r.c.position?.seq === seqOf(h), 'the last seq')
    expect(mirrorObject(r.c)).toEqual((await restList(h)).items)
  })

  it('reconnects after the hub closes it as a slow consumer (4008) and resumes every change it missed', async () => {
    const { h1: h, via, relay } = await hubBehindRelay({ HUB_WS_MAX_BUFFER_BYTES: '1024', HUB_STREAM_RING_SIZE: '200000' })
    await createInstances(h, ['a', 'b'])
    const r = client(via)
    r.c.start()
    await until(() => r.c.state === 'open', 'open')
    relay.hold(true)
    // Once the kernel's socket buffers are full, the hub's own buffer grows by one ~1 KiB frame per
    // turn, so its sweep (which closes with 4008 past 1 KiB) runs before uWS's hard limit would.
    const fanout = h.streams.fanout.stats
    const pad = 'x'.repeat(900)
    for (let i = 0; fanout.slowClosed === 0; i++) {
      if (i === 50_000) throw new Error('the hub never closed the held socket as a slow consumer')
      h.hub.updateStatus(instanceId(h, i % 2 ? 'a' : 'b'), { displayStatus: `${pad} ${i}` })
      await new Promise((res) => setImmediate(res))
    }
    h.hub.updateStatus(instanceId(h, 'a'), { displayStatus: 'after the close' })
    relay.hold(false)
    await until(() => r.c.state === 'open' && r.c.position?.seq === seqOf(h), { what: 'resumed and caught up', ms: 15_000 })
    const lost = r.events.filter((e) => e.type === 'state' && e.state === 'reconnecting')
    expect(lost).toEqual([expect.objectContaining({ code: 4008, reason: 'slow consumer' })])
    expect(r.c.lastRecovered).toBe(true)
    expect(r.c.mirror.get('a')!.connection.displayStatus).toBe('after the close')
    expect(mirrorObject(r.c)).toEqual((await restList(h)).items)
  })
})
