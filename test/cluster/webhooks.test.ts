/**
 * Webhooks in a cluster (spec/webhooks.md "Guarantees", spec/cluster.md): the account's writer
 * delivers its webhooks from the acknowledged change stream (here one account: one deliverer);
 * the other nodes answer the deliveries endpoints by asking it; when it dies, another worker takes
 * the account over and sends what was pending again with the same webhook-id. A real receiver on
 * 127.0.0.1 checks every request.
 */
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, allConnected, startWebhookCluster, watch, type TestCluster, type WatchedClient } from '../helpers/cluster.js'
import { until, untilValue } from '../helpers/wait.js'
import type { Received, Receiver } from '../webhooks/receiver.js'

let c: TestCluster
let rx: Receiver
const NODES = ['a', 'b', 'c']
const GONE = 'HTTP 410: the receiver asked to stop; webhook disabled'

beforeAll(async () => {
  ;({ c, rx } = await startWebhookCluster(NODES))
}, 90_000)

afterAll(async () => {
  await c?.dispose()
  await rx?.close()
})

const on = (path: string) => rx.received.filter((r) => r.path === path)
const bodyOf = (r: Received) => JSON.parse(r.body) as { seq: number; version: number; epoch: string; data: { state: string; connectionState: string; presenceStatus: string } }
const idOf = (r: Received) => r.headers['webhook-id'] as string

/** The seqs of the instance's `instance.state` changes (connection or profile) the watcher saw, in order. */
function stateSeqs(w: WatchedClient, name: string): number[] {
  return w.events
    .filter((e) => e.type === 'diff' && e.name === name && Object.keys(e.changes).some((p) => p.startsWith('connection.') || p.startsWith('profile.')))
    .map((e) => (e as { seq: number }).seq)
}

async function post(node: string, path: string, body: unknown = {}) {
  const r = await c.req(node, 'POST', path, { body })
  if (r.status !== 200 && r.status !== 201) throw new Error(`POST ${path} on ${node}: ${r.status} ${JSON.stringify(r.json)}`)
  return r.json
}

async function pair(via: string, name: string): Promise<void> {
  const q = await c.req(via, 'GET', `/api/instance/connect/${name}`)
  if (q.json?.status !== 'qr') throw new Error(`connecting ${name}: ${JSON.stringify(q.json)}`)
  await post(via, `/api/sim/${name}/scan`)
}

/** Waits until node `via` lists every one of `names` connected and synced (WhatsApp takes presence only then). */
async function synced(via: string, names: readonly string[]): Promise<void> {
  await allConnected(c, via, names, 30_000)
  for (const name of names) {
    await untilValue(() => c.req(via, 'GET', `/api/instance/list?instanceName=${name}`).then((r) => r.json?.instances?.[0]?.connection.synced), (v) => v === true, { what: `${name} synced on ${via}`, ms: 30_000 })
  }
}

async function deliveries(node: string, name: string, query = 'limit=500') {
  const r = await c.req(node, 'GET', `/api/events/webhookDeliveries/${name}?${query}`)
  if (r.status !== 200) throw new Error(`deliveries of ${name} on ${node}: ${r.status} ${JSON.stringify(r.json)}`)
  return r.json.deliveries as { id: string; seq: number; status: string; attempts: number; lastError: string | null; label: string; event: string; version: number }[]
}

/** The node delivering the default account's webhooks (its writer), one of `among`, as node `via` lists the cluster. */
async function deliverer(via: string, among: readonly string[] = NODES): Promise<string> {
  const nodes = await untilValue(
    async () => ((await c.req(via, 'GET', '/api/admin/cluster', { token: ADMIN })).json.nodes as { id: string; webhooks: number }[]).filter((n) => n.webhooks === 1),
    (ns) => ns.length === 1 && among.includes(ns[0]!.id),
    { what: `exactly one webhook deliverer, among ${among.join()}`, ms: 30_000 },
  )
  return nodes[0]!.id
}

async function epochAndAccount(via: string): Promise<{ epoch: string; accountId: number }> {
  const epoch = (await c.req(via, 'GET', '/api/admin/cluster', { token: ADMIN })).json.epoch as string
  const accounts = (await c.req(via, 'GET', '/api/admin/accounts', { token: ADMIN })).json.accounts as { id: number; name: string }[]
  return { epoch, accountId: accounts.find((a) => a.name === 'default')!.id }
}

describe('webhooks in a cluster of three workers', () => {
  const secrets: Record<string, string> = {}

  it('delivers every state change of an instance exactly once per webhook-id, in seq order and signed, whichever node the webhook was configured through', async () => {
    const w = watch(c, 'a')
    await until(() => w.events.some((e) => e.type === 'snapshot'), 'the snapshot')
    for (const [name, via] of [
      ['x1', 'b'],
      ['x2', 'c'],
    ] as const) {
      await post(via, '/api/instance/new', { name })
      secrets[name] = (await post(via, `/api/events/webhook/${name}`, { enabled: true, url: `${rx.url}/${name}` })).signingSecret
    }
    for (const name of ['x1', 'x2']) await pair('a', name)
    await synced('a', ['x1', 'x2'])
    for (const online of [true, false, true]) for (const name of ['x1', 'x2']) await post('b', `/api/sim/${name}/online`, { online })
    for (const name of ['x1', 'x2']) await post('c', `/api/sim/${name}/profile`, { name: `Desk ${name}` })
    // The last change the watcher must see: the profile (after the presence changes).
    await until(() => ['x1', 'x2'].every((n) => w.client.mirror.get(n)?.profile.name === `Desk ${n}`), { what: 'the profiles on the watcher', ms: 20_000 })

    const { epoch, accountId } = await epochAndAccount('a')
    for (const name of ['x1', 'x2']) {
      const expected = stateSeqs(w, name)
      expect(expected.length).toBeGreaterThanOrEqual(6)
      await until(async () => (await deliveries('a', name)).filter((d) => d.status === 'delivered').length === expected.length, { what: `${name} delivered`, ms: 30_000, detail: () => on(`/${name}`).length })
      const got = on(`/${name}`)
      expect(got.map((r) => bodyOf(r).seq)).toEqual(expected)
      expect(got.map(idOf)).toEqual(expected.map((seq) => `msg_${epoch}_${accountId}_${seq}_default`))
      expect(got.map((r) => r.answered)).toEqual(expected.map(() => 204))
      const wh = new Webhook(secrets[name]!)
      for (const r of got) expect(wh.verify(r.body, r.headers as Record<string, string>)).toEqual(JSON.parse(r.body))
      // Each body is the change the stream clients saw at that seq.
      const diffs = new Map(w.events.flatMap((e) => (e.type === 'diff' && e.name === name ? [[e.seq, e.item] as const] : [])))
      expect(got.map((r) => [bodyOf(r).epoch, bodyOf(r).version, bodyOf(r).data.connectionState, bodyOf(r).data.presenceStatus])).toEqual(
        expected.map((seq) => [epoch, diffs.get(seq)!.version, diffs.get(seq)!.connection.state, diffs.get(seq)!.connection.presenceStatus]),
      )
      // Once each: every delivery took one attempt, on every node's list.
      for (const n of NODES) {
        expect((await deliveries(n, name)).map((d) => [d.seq, d.status, d.attempts, d.lastError])).toEqual([...expected].reverse().map((seq) => [seq, 'delivered', 1, null]))
      }
    }
    w.stop()
  }, 180_000)

  it('disables a webhook that answers 410 on every node, dead-letters its delivery, and sends it nothing more', async () => {
    rx.behave((r) => (r.path === '/g' ? { status: 410 } : { status: 204 }))
    const w = watch(c, 'b')
    await until(() => w.events.some((e) => e.type === 'snapshot'), 'the snapshot')
    await post('c', '/api/instance/new', { name: 'g' })
    await pair('c', 'g')
    await synced('b', ['g'])
    secrets.g = (await post('b', '/api/events/webhook/g', { enabled: true, url: `${rx.url}/g` })).signingSecret
    const before = stateSeqs(w, 'g').length
    await post('a', '/api/sim/g/online', { online: true })
    for (const n of NODES) {
      await untilValue(() => c.req(n, 'GET', '/api/events/getWebhook/g?label=default').then((r) => r.json.webhook), (h) => h?.enabled === false, { what: `g disabled on ${n}`, ms: 30_000 })
    }
    const [seq] = stateSeqs(w, 'g').slice(before)
    expect(on('/g').map((r) => [bodyOf(r).seq, r.answered])).toEqual([[seq, 410]])
    expect((await c.req('c', 'GET', '/api/events/getWebhook/g?label=default')).json.webhook).toMatchObject({ enabled: false, url: `${rx.url}/g` })
    await post('a', '/api/sim/g/online', { online: false })
    await until(() => stateSeqs(w, 'g').length === before + 2, 'the next change')
    for (const n of NODES) expect((await deliveries(n, 'g')).map((d) => [d.seq, d.status, d.attempts, d.lastError])).toEqual([[seq, 'dead', 1, GONE]])
    expect(on('/g')).toHaveLength(1)
    w.stop()
  }, 120_000)

  it('answers the deliveries list and a retry alike from every node', async () => {
    for (const name of ['x1', 'x2', 'g']) {
      const lists = await Promise.all(NODES.map((n) => deliveries(n, name)))
      expect(lists[1]).toEqual(lists[0])
      expect(lists[2]).toEqual(lists[0])
    }
    const filtered = await Promise.all(NODES.map((n) => deliveries(n, 'x1', 'status=delivered&limit=2')))
    expect(filtered.map((l) => l.length)).toEqual([2, 2, 2])
    expect(filtered[1]).toEqual(filtered[0])
    for (const n of NODES) {
      const disabled = await c.req(n, 'POST', '/api/events/webhookDeliveries/g/retry', { body: { label: 'default' } })
      expect([disabled.status, disabled.json.error.message]).toEqual([409, 'Webhook "default" is disabled: enable it before retrying its deliveries'])
      const none = await c.req(n, 'POST', '/api/events/webhookDeliveries/x1/retry', { body: {} })
      expect([none.status, none.json]).toEqual([200, { success: true, message: '0 deliveries re-queued', requeued: 0 }])
    }
  }, 60_000)

  let survivors: string[] = []

  it('after kill -9 of the deliverer with a backlog pending, sends every change at least once and in order, again only with the same webhook-id', async () => {
    const dead = await deliverer('a')
    survivors = NODES.filter((n) => n !== dead)
    const [s1, s2] = survivors as [string, string]
    const w = watch(c, s1)
    await until(() => w.events.some((e) => e.type === 'snapshot'), 'the snapshot')
    await post(s1, '/api/instance/new', { name: 'k' })
    // Read-your-writes holds on s1; s2 lists k once it has applied the creation.
    await until(async () => (await c.req(s2, 'GET', '/api/instance/list?instanceName=k')).json?.instances?.length === 1, { what: 'k on s2', ms: 10_000 })
    secrets.k = (await post(s2, '/api/events/webhook/k', { enabled: true, url: `${rx.url}/k` })).signingSecret
    await pair(s1, 'k')
    await synced(s1, ['k'])
    await until(async () => (await deliveries(s1, 'k')).filter((d) => d.status === 'delivered').length === stateSeqs(w, 'k').length, { what: 'k delivered so far', ms: 30_000 })
    const deliveredBefore = on('/k').length

    // The receiver goes down: a backlog builds up on the deliverer.
    rx.behave((r) => (r.path === '/k' ? { status: 503 } : { status: 204 }))
    for (const online of [true, false, true, false]) await post(s1, '/api/sim/k/online', { online })
    await until(async () => (await deliveries(s2, 'k', 'status=pending')).length === 4, { what: 'four pending', ms: 30_000 })
    await until(() => on('/k').length > deliveredBefore, 'an attempt of the backlog')

    await c.node(dead).kill9()
    expect(survivors).toContain(await deliverer(s1, survivors))
    await synced(s1, ['k'])
    for (const online of [true, false]) await post(s2, '/api/sim/k/online', { online })
    await until(() => w.client.mirror.get('k')?.connection.presenceStatus === 'unavailable' && stateSeqs(w, 'k').length >= deliveredBefore + 6, { what: 'the changes after the kill', ms: 30_000 })

    rx.behave({ status: 204 })
    const expected = stateSeqs(w, 'k')
    const { epoch, accountId } = await epochAndAccount(s1)
    const ids = expected.map((seq) => `msg_${epoch}_${accountId}_${seq}_default`)
    const accepted = () => rx.accepted().filter((r) => r.path === '/k')
    await until(() => ids.every((id) => accepted().some((r) => idOf(r) === id)), { what: 'every change of k accepted', ms: 60_000, detail: () => accepted().map(idOf) })

    const all = on('/k')
    // None missing, none foreign, first arrivals in seq order.
    expect([...new Set(all.map(idOf))]).toEqual(ids)
    // A delivery sent again is the same delivery: same id, same body, still signed.
    const wh = new Webhook(secrets.k!)
    for (const r of all) {
      expect(r.body).toBe(all.find((f) => idOf(f) === idOf(r))!.body)
      expect(bodyOf(r).seq).toBe(expected[ids.indexOf(idOf(r))])
      expect(wh.verify(r.body, r.headers as Record<string, string>)).toEqual(JSON.parse(r.body))
    }
    // Accepted ones arrive in seq order too, a resend only repeating a suffix of what came before.
    const acceptedSeqs = accepted().map((r) => bodyOf(r).seq)
    for (let i = 1; i < acceptedSeqs.length; i++) if (acceptedSeqs[i]! < acceptedSeqs[i - 1]!) expect(acceptedSeqs.slice(0, i)).toContain(acceptedSeqs[i])
    await until(async () => (await deliveries(s1, 'k', 'status=pending')).length === 0, { what: 'nothing pending', ms: 30_000 })
    const lists = await Promise.all(survivors.map((n) => deliveries(n, 'k')))
    expect(lists[1]).toEqual(lists[0])
    w.stop()
  }, 240_000)

  it('keeps a dead letter across the takeover, and re-queues it from any node once its webhook is enabled again, with the same webhook-id', async () => {
    const [s1, s2] = survivors as [string, string]
    const before = await deliveries(s1, 'g')
    expect(before.map((d) => [d.status, d.attempts, d.lastError])).toEqual([['dead', 1, GONE]])
    expect(await deliveries(s2, 'g')).toEqual(before)
    await post(s2, '/api/events/webhook/g', { enabled: true, url: `${rx.url}/g2` })
    const r = await c.req(s1, 'POST', '/api/events/webhookDeliveries/g/retry', { body: {} })
    expect([r.status, r.json]).toEqual([200, { success: true, message: '1 deliveries re-queued', requeued: 1 }])
    await until(() => on('/g2').length === 1, { what: 'the re-queued delivery', ms: 30_000 })
    const [again] = on('/g2')
    const [first] = on('/g')
    expect([idOf(again!), again!.body]).toEqual([idOf(first!), first!.body])
    expect(new Webhook(secrets.g!).verify(again!.body, again!.headers as Record<string, string>)).toEqual(JSON.parse(first!.body))
    for (const n of survivors) {
      await until(async () => (await deliveries(n, 'g'))[0]?.status === 'delivered', { what: `delivered on ${n}`, ms: 30_000 })
      expect((await deliveries(n, 'g')).map((d) => [d.id, d.status, d.attempts, d.lastError])).toEqual([[before[0]!.id, 'delivered', 1, null]])
    }
  }, 120_000)

  it('on SIGTERM hands the deliverer over to the last worker, which delivers what follows once, and sends nothing accepted before again', async () => {
    const leaving = await deliverer(survivors[0]!, survivors)
    const staying = survivors.find((n) => n !== leaving)!
    const w = watch(c, staying)
    await until(() => w.events.some((e) => e.type === 'snapshot'), 'the snapshot')
    for (const name of ['x1', 'x2', 'k', 'g']) await until(async () => (await deliveries(leaving, name, 'status=pending')).length === 0, { what: `nothing pending for ${name}`, ms: 30_000 })
    const mark = rx.received.length
    const before = new Set(rx.accepted().map(idOf))

    expect(await c.node(leaving).stop()).toBe(0)
    expect(await deliverer(staying, [staying])).toBe(staying)
    await synced(staying, ['k'])
    const seen = stateSeqs(w, 'k').length
    // k's socket moved with the handover: until the new one is live the simulator answers 409.
    for (const online of [true, false]) {
      await until(async () => (await c.req(staying, 'POST', '/api/sim/k/online', { body: { online } })).status === 200, { what: `k online=${online} on the new socket`, ms: 30_000 })
    }
    await until(() => stateSeqs(w, 'k').length >= seen + 2 && w.client.mirror.get('k')?.connection.presenceStatus === 'unavailable', { what: 'the two changes', ms: 30_000 })

    const { epoch, accountId } = await epochAndAccount(staying)
    const expected = stateSeqs(w, 'k')
      .map((seq) => `msg_${epoch}_${accountId}_${seq}_default`)
      .filter((id) => !before.has(id))
    await until(() => expected.every((id) => rx.accepted().some((r) => idOf(r) === id)), { what: 'every change of k since the handover', ms: 30_000 })
    const after = rx.received.slice(mark)
    expect(after.filter((r) => before.has(idOf(r))).map(idOf)).toEqual([])
    expect(after.filter((r) => r.path === '/k').map((r) => [idOf(r), r.answered])).toEqual(expected.map((id) => [id, 204]))
    w.stop()
  }, 120_000)
})
