/**
 * What a takeover cannot plan again (README "Run a cluster", Webhooks): the change stream keeps
 * HUB_CHANGELOG_MAX changes per account, so a backlog longer than that, pending when the
 * deliverer dies, has lost its oldest changes. The next deliverer says so in its log, with the
 * webhook, the seq it had settled through and the first seq still kept, and delivers every change
 * from there on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, allConnected, startWebhookCluster, watch, type TestCluster } from '../helpers/cluster.js'
import { until, untilValue } from '../helpers/wait.js'
import type { Receiver } from '../webhooks/receiver.js'

let c: TestCluster
let rx: Receiver
const KEPT = 20

beforeAll(async () => {
  ;({ c, rx } = await startWebhookCluster(['a', 'b'], { HUB_CHANGELOG_MAX: String(KEPT) }))
}, 90_000)

afterAll(async () => {
  await c?.dispose()
  await rx?.close()
})

async function post(node: string, path: string, body: unknown = {}) {
  const r = await c.req(node, 'POST', path, { body })
  if (r.status !== 200 && r.status !== 201) throw new Error(`POST ${path} on ${node}: ${r.status} ${JSON.stringify(r.json)}`)
  return r.json
}

const deliveries = async (node: string, query: string) => (await c.req(node, 'GET', `/api/events/webhookDeliveries/n?${query}`)).json.deliveries as { seq: number; status: string }[]
const seqOf = (r: { body: string }) => (JSON.parse(r.body) as { seq: number }).seq

describe('a takeover after the stream dropped part of a backlog', () => {
  it('logs the webhook whose pending changes are no longer kept, and delivers every change from the first one kept', async () => {
    // n goes in through a, which becomes the account's writer and so delivers its webhooks.
    const [dead, s] = ['a', 'b']
    const w = watch(c, s)
    await until(() => w.events.some((e) => e.type === 'snapshot'), 'the snapshot')
    await post(dead, '/api/instance/new', { name: 'n' })
    await post(dead, '/api/events/webhook/n', { enabled: true, url: `${rx.url}/n` })
    await untilValue(
      async () => ((await c.req(s, 'GET', '/api/admin/cluster', { token: ADMIN })).json.nodes as { id: string; webhooks: number }[]).filter((n) => n.webhooks === 1).map((n) => n.id),
      (ns) => ns.length === 1 && ns[0] === dead,
      { what: 'the deliverer', ms: 30_000 },
    )
    const q = await c.req(s, 'GET', '/api/instance/connect/n')
    expect(q.json.status).toBe('qr')
    await post(s, '/api/sim/n/scan')
    await allConnected(c, s, ['n'], 30_000)
    await untilValue(() => c.req(s, 'GET', '/api/instance/list?instanceName=n').then((r) => r.json.instances[0].connection.synced), (v) => v === true, { what: 'n synced', ms: 30_000 })
    await until(async () => (await deliveries(s, 'status=pending')).length === 0 && (await deliveries(s, 'status=delivered')).length > 0, { what: 'n delivered so far', ms: 30_000 })
    const settled = Math.max(...(await deliveries(s, 'status=delivered')).map((d) => d.seq))

    rx.behave({ status: 503 })
    const backlog = KEPT + 10
    for (let i = 0; i < backlog; i++) await post(s, '/api/sim/n/online', { online: i % 2 === 0 })
    await until(async () => (await deliveries(s, 'status=pending')).length === backlog, { what: `${backlog} pending`, ms: 60_000 })

    await c.node(dead).kill9()
    const line = await untilValue(
      () => c.node(s).out().split('\n').find((l) => l.includes('the change stream no longer keeps some changes')),
      (l) => l !== undefined,
      { what: 'the warning on the next deliverer', ms: 30_000 },
    )
    const warned = JSON.parse(line!) as { instance: string; label: string; settledThrough: number; firstKeptSeq: number; webhooksSoFar: number }
    expect([warned.instance, warned.label, warned.settledThrough, warned.webhooksSoFar]).toEqual(['n', 'default', settled, 1])
    expect(warned.firstKeptSeq).toBeGreaterThan(settled + 1)

    rx.behave({ status: 204 })
    await allConnected(c, s, ['n'], 30_000)
    const stateSeqs = () =>
      w.events
        .filter((e) => e.type === 'diff' && e.name === 'n' && Object.keys(e.changes).some((p) => p.startsWith('connection.') || p.startsWith('profile.')))
        .map((e) => (e as { seq: number }).seq)
    const expected = () => stateSeqs().filter((seq) => seq >= warned.firstKeptSeq)
    await until(() => expected().every((seq) => rx.accepted().some((r) => r.path === '/n' && seqOf(r) === seq)), { what: 'every change kept, delivered', ms: 60_000 })
    const acceptedAfter = [...new Set(rx.accepted().filter((r) => r.path === '/n' && seqOf(r) > settled).map(seqOf))]
    expect(acceptedAfter).toEqual(expected())
    // What the stream lost was never delivered: it is the part of the backlog before the first seq kept.
    expect(stateSeqs().filter((seq) => seq > settled && seq < warned.firstKeptSeq).length).toBeGreaterThanOrEqual(backlog - KEPT)
    w.stop()
  }, 240_000)
})
