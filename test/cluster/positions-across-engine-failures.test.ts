/**
 * Positions across the engine's failures: a nats-server restart loses no acknowledged change; a
 * client whose node dies resumes on another node with recovered:true; a deleted stream is a new
 * epoch (recovered:false), and the lists stay what the engine holds.
 */
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, contiguous, listOf, mirrorOf, ready, startCluster, watch, type TestCluster } from '../helpers/cluster.js'
import { until, untilValue } from '../helpers/wait.js'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'

let c: TestCluster

beforeAll(async () => {
  c = await startCluster()
  for (const id of ['a', 'b']) await c.start(id)
  for (const id of ['a', 'b']) await ready(c, id)
  for (const name of ['p1', 'p2']) expect((await c.req('a', 'POST', '/api/instance/new', { body: { name } })).status).toBe(201)
}, 60_000)

afterAll(async () => {
  await c?.dispose()
})

/** A raw subscriber: every frame it got. */
async function subscribe(node: string, since?: { epoch: string; seq: number }) {
  const ws = new WebSocket(`ws://127.0.0.1:${c.node(node).port}/ws`, { headers: { token: c.token } })
  const frames: any[] = []
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())))
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)))
  ws.send(JSON.stringify({ type: 'subscribe', id: '1', instances: '*', ...(since ? { since } : {}) }))
  await until(() => frames.some((f) => f.id === '1'), 'the subscribe answer')
  return { ws, frames }
}

const settings = (node: string, name: string, keepOnlineStatus: boolean) => c.req(node, 'POST', `/api/instance/settings/${name}`, { body: { keepOnlineStatus } })

describe('positions across failures', () => {
  it('loses no acknowledged change when nats-server is killed and restarted', async () => {
    const w = watch(c, 'b')
    await until(() => w.events.some((e) => e.type === 'snapshot'), 'the snapshot')
    const acked: boolean[] = []
    const writes = (async () => {
      for (let i = 0; i < 40; i++) {
        const r = await settings(i % 2 === 0 ? 'a' : 'b', 'p1', i % 2 === 0)
        if (r.status === 200) acked.push(i % 2 === 0)
      }
    })()
    await until(() => acked.length >= 5, 'some writes acknowledged')
    await c.nats.kill9()
    await c.nats.start()
    await writes
    expect(acked.length).toBeGreaterThan(5)
    await ready(c, 'a')
    await ready(c, 'b')
    // The last acknowledged value is what every node shows.
    const last = acked[acked.length - 1]
    for (const n of ['a', 'b']) {
      await untilValue(async () => (await c.req(n, 'GET', '/api/instance/getSettings/p1')).json.settings.keepOnlineStatus, (v) => v === last, { what: `p1 on ${n}` })
    }
    await until(async () => JSON.stringify(mirrorOf(w)) === JSON.stringify(await listOf(c, 'b')), { what: 'mirror equals list', ms: 15_000 })
    expect(contiguous(w.seqs)).toBe(true)
    expect(await listOf(c, 'a')).toEqual(await listOf(c, 'b'))
    w.stop()
  })

  it('resumes on another node with recovered:true when the node it followed dies', async () => {
    const first = await subscribe('b')
    const snapshot = first.frames.find((f) => f.type === 'snapshot')
    await settings('a', 'p2', true)
    await until(() => first.frames.some((f) => f.type === 'diff' && f.instance === 'p2'), 'the change on b')
    const last = first.frames.filter((f) => f.seq !== undefined).at(-1)
    await c.node('b').kill9()
    await settings('a', 'p2', false)
    const again = await subscribe('a', { epoch: snapshot.epoch, seq: last.seq })
    const answer = again.frames.find((f) => f.id === '1')
    expect([answer.type, answer.recovered, answer.seq]).toEqual(['resumed', true, last.seq])
    await until(() => again.frames.some((f) => f.type === 'diff' && f.instance === 'p2' && f.changes['settings.keepOnlineStatus'] === false), 'the missed change')
    const diffs = again.frames.filter((f) => f.type === 'diff').map((f) => f.seq)
    expect(diffs[0]).toBe(last.seq + 1)
    again.ws.close()
    await c.start('b')
    await ready(c, 'b')
  })

  it('starts a new epoch when the stream is deleted: resumes get recovered:false, lists keep what the engine holds', async () => {
    const before = await listOf(c, 'a')
    const snap = (await subscribe('a')).frames.find((f) => f.type === 'snapshot')
    const nc = await connect({ servers: c.nats.url })
    await (await jetstreamManager(nc)).streams.delete('SH_CHANGES')
    await nc.close()
    // The node restarts in-process and drops its connections meanwhile.
    const epochOn = (n: string) => c.req(n, 'GET', '/api/admin/cluster', { token: ADMIN }).then((r) => r.json?.epoch, () => undefined)
    await until(async () => ![undefined, snap.epoch].includes(await epochOn('a')), { what: 'a new epoch on a', ms: 20_000 })
    await ready(c, 'a')
    await ready(c, 'b')
    const epoch = (await c.req('a', 'GET', '/api/admin/cluster', { token: ADMIN })).json.epoch
    await until(async () => (await epochOn('b')) === epoch, { what: 'the same epoch on b', ms: 20_000 })
    const resumed = await subscribe('b', { epoch: snap.epoch, seq: snap.seq })
    const answer = resumed.frames.find((f) => f.id === '1')
    expect([answer.type, answer.recovered, answer.epoch]).toEqual(['snapshot', false, epoch])
    expect(await listOf(c, 'a')).toEqual(before)
    expect(await listOf(c, 'b')).toEqual(before)
    // Writes go on in the new epoch.
    expect((await settings('b', 'p1', true)).status).toBe(200)
    await until(() => resumed.frames.some((f) => f.type === 'diff' && f.epoch === epoch), 'a change in the new epoch')
    resumed.ws.close()
  })
})
