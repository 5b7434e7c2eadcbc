/**
 * `GET /metrics` (operations contract, "Prometheus metrics") against real hubs on 127.0.0.1: the
 * text format is scraped and parsed, and every series is checked against what the test itself
 * caused and observed (frames its clients received, deliveries its receiver answered, requests it
 * sent), as exact values or exact differences between two scrapes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, createInstances, instanceId, startTestHub, type TestHub } from '../helpers/hub.js'
import { until, untilValue } from '../helpers/wait.js'
import { openClient, type Client } from '../helpers/ws.js'
import { deliveries, webhookHub } from '../webhooks/helpers.js'
import { startReceiver, type Receiver } from '../webhooks/receiver.js'
import { scrape, type Scrape } from './scrape.js'

const METRICS_TOKEN = 'metrics-token-for-tests-0000'

const hubs: TestHub[] = []
const clients: Client[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close()
})
afterAll(async () => {
  for (const h of hubs.splice(0)) await h.stop()
})

async function hub(env: Record<string, string> = {}, opts: Parameters<typeof startTestHub>[1] = {}): Promise<TestHub> {
  const h = await startTestHub(env, opts)
  hubs.push(h)
  return h
}

const simulatedHub = (env: Record<string, string> = {}) => hub({ HUB_WHATSAPP: 'simulated', ...env }, { whatsapp: {} })

async function client(h: TestHub, opts: Parameters<typeof openClient>[1] = {}): Promise<Client> {
  const c = await openClient(h, opts)
  clients.push(c)
  return c
}

const metrics = (h: TestHub, token = ADMIN) => scrape(h.base, token)

/** The samples of `name` whose value changed between two scrapes, by label set, with the change. */
function delta(before: Scrape, after: Scrape, name: string): Record<string, number> {
  const a = before.series(name)
  const b = after.series(name)
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(b)) if (v !== (a[k] ?? 0)) out[k] = v - (a[k] ?? 0)
  return out
}

const status = async (h: TestHub, name: string) => (await h.req('GET', `/api/instance/list?instanceName=${name}`)).json.instances[0].connection

/** Pairs `name` on the simulated WhatsApp and waits until it is connected. */
async function pair(h: TestHub, name: string): Promise<void> {
  const q = await h.req('GET', `/api/instance/connect/${name}`)
  expect(q.json.status).toBe('qr')
  expect((await h.req('POST', `/api/sim/${name}/scan`)).status).toBe(200)
  await until(async () => (await status(h, name)).state === 'connected', { what: `${name} connected`, ms: 20_000 })
}

/** An SSE stream of the default account; counts the events it received. */
async function sseStream(h: TestHub, headers: Record<string, string> = {}) {
  const ac = new AbortController()
  const r = await fetch(`${h.base}/api/instance/stream`, { headers: { token: h.token, ...headers }, signal: ac.signal })
  expect(r.status).toBe(200)
  const reader = r.body!.getReader()
  let text = ''
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        text += Buffer.from(value).toString()
      }
    } catch {
      // aborted
    }
  })()
  return {
    events: () => text.split('\n').filter((l) => l.startsWith('event: ')).map((l) => l.slice(7)),
    async close() {
      ac.abort()
      await pump
    },
  }
}

describe('access to GET /metrics', () => {
  let h: TestHub
  beforeAll(async () => {
    h = await hub()
  })

  it('refuses a request without a token or with a wrong one with 401, and an account token with 403', async () => {
    expect((await h.req('GET', '/metrics', { token: null })).status).toBe(401)
    const wrong = await fetch(`${h.base}/metrics`, { headers: { authorization: 'Bearer not-a-token-of-this-hub' } })
    expect([wrong.status, ((await wrong.json()) as any).error.message]).toEqual([401, 'Invalid token'])
    const tenant = await fetch(`${h.base}/metrics`, { headers: { authorization: `Bearer ${h.token}` } })
    expect([tenant.status, ((await tenant.json()) as any).error.message]).toEqual([403, 'Admin token required'])
  })

  it('answers the admin token given as a Bearer token, in the Prometheus text format', async () => {
    const r = await fetch(`${h.base}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(await r.text()).toMatch(/^# HELP /)
  })

  it("carries prom-client's default Node metrics: event-loop lag, heap, GC, CPU", async () => {
    const m = await metrics(h)
    expect(m.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge')
    expect(m.types.get('nodejs_heap_size_used_bytes')).toBe('gauge')
    expect(m.types.get('nodejs_gc_duration_seconds')).toBe('histogram')
    expect(m.types.get('process_cpu_user_seconds_total')).toBe('counter')
    expect(m.value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0)
  })

  it('names every series of the contract with its type, and no cluster series on an embedded hub', async () => {
    const m = await metrics(h)
    const families = Object.fromEntries([...m.types].filter(([n]) => n.startsWith('statushub_')))
    expect(families).toEqual({
      statushub_instances: 'gauge',
      statushub_transitions_total: 'counter',
      statushub_persist_batch_seconds: 'histogram',
      statushub_persist_pending: 'gauge',
      statushub_stream_subscribers: 'gauge',
      statushub_stream_frames_total: 'counter',
      statushub_stream_slow_consumer_total: 'counter',
      statushub_stream_resumes_total: 'counter',
      statushub_webhook_deliveries_total: 'counter',
      statushub_webhook_pending: 'gauge',
      statushub_http_requests_total: 'counter',
      statushub_rate_limited_total: 'counter',
      statushub_list_cache_total: 'counter',
    })
    expect(m.series('statushub_stream_subscribers')).toEqual({ 'transport=ws': 0, 'transport=ws_instance': 0, 'transport=sse': 0 })
    expect(m.series('statushub_stream_resumes_total')).toEqual({ 'result=recovered': 0, 'result=snapshot': 0 })
    expect(m.series('statushub_webhook_deliveries_total')).toEqual({ 'result=delivered': 0, 'result=retried': 0, 'result=dead': 0 })
    expect(m.series('statushub_list_cache_total')).toEqual({ 'result=hit': 0, 'result=miss': 0 })
  })

  it('with HUB_METRICS_TOKEN set takes that token alone: the admin token is refused with 401', async () => {
    const t = await hub({ HUB_METRICS_TOKEN: METRICS_TOKEN })
    const asked = (token: string | null) => fetch(`${t.base}/metrics`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } }).then((r) => r.status)
    expect(await asked(METRICS_TOKEN)).toBe(200)
    expect(await asked(ADMIN)).toBe(401)
    expect(await asked(t.token)).toBe(401)
    expect(await asked('metrics-token-for-tests-0001')).toBe(401)
    expect(await asked(null)).toBe(401)
    expect((await metrics(t, METRICS_TOKEN)).types.get('statushub_instances')).toBe('gauge')
    // The admin token still works everywhere else.
    expect((await t.req('GET', '/api/admin/accounts', { token: ADMIN })).status).toBe(200)
  })
})

describe('instances and transitions', () => {
  let h: TestHub
  beforeAll(async () => {
    h = await simulatedHub()
    await createInstances(h, ['online', 'pairing', 'unlinked', 'idle'])
  })

  it('statushub_instances counts the instances in each state exactly', async () => {
    await pair(h, 'online')
    expect((await h.req('GET', '/api/instance/connect/pairing')).json.status).toBe('qr')
    await pair(h, 'unlinked')
    expect((await h.req('DELETE', '/api/instance/logout/unlinked')).status).toBe(200)
    await until(async () => (await status(h, 'unlinked')).state === 'loggedout', 'unlinked logged out')
    expect((await status(h, 'pairing')).state).toBe('connecting')
    const m = await metrics(h)
    expect(m.series('statushub_instances')).toEqual({ 'state=connected': 1, 'state=connecting': 1, 'state=disconnected': 1, 'state=loggedout': 1 })
  })

  it('statushub_transitions_total moves by exactly the transitions one WhatsApp flap causes, by state and close reason', async () => {
    const since = (await status(h, 'online')).since
    const before = await metrics(h)
    expect((await h.req('POST', '/api/sim/online/close', { body: { code: 428, message: 'Connection Terminated' } })).status).toBe(200)
    await until(
      async () => {
        const c = await status(h, 'online')
        return c.state === 'connected' && c.since !== since
      },
      { what: 'online connected again', ms: 20_000 },
    )
    const after = await metrics(h)
    expect(delta(before, after, 'statushub_transitions_total')).toEqual({ 'state=connecting,reason=connectionClosed': 1, 'state=connected,reason=none': 1 })
    expect(delta(before, after, 'statushub_instances')).toEqual({})
  })

  it('counts each state a source enters with the reason it gives, and nothing for a change that keeps the state', async () => {
    const id = instanceId(h, 'idle')
    const before = await metrics(h)
    h.hub.updateStatus(id, { state: 'connecting', displayStatus: 'Connecting…' })
    h.hub.updateStatus(id, { state: 'disconnected', reason: { code: 503, name: 'unavailableService', message: 'Service Unavailable' }, displayStatus: 'Disconnected' })
    h.hub.updateStatus(id, { displayStatus: 'Disconnected (service unavailable)' })
    h.hub.updateStatus(id, { state: 'loggedout', reason: { code: 401, name: 'loggedOut', message: 'Connection Failure' }, displayStatus: 'Logged out' })
    const after = await metrics(h)
    expect(delta(before, after, 'statushub_transitions_total')).toEqual({
      'state=connecting,reason=none': 1,
      'state=disconnected,reason=unavailableService': 1,
      'state=loggedout,reason=loggedOut': 1,
    })
    expect(after.series('statushub_instances')).toEqual({ 'state=connected': 1, 'state=connecting': 1, 'state=disconnected': 0, 'state=loggedout': 2 })
  })
})

describe('stream series', () => {
  let h: TestHub
  beforeAll(async () => {
    h = await hub({ HUB_WS_MAX_FRAMES_PER_SEC: '1000' })
    await createInstances(h, ['alpha', 'beta'])
    expect((await h.req('POST', '/api/events/websocket/alpha', { body: { enabled: true, events: ['instance.state'] } })).status).toBe(200)
  })

  const subscribers = async () => (await metrics(h)).series('statushub_stream_subscribers')

  it('statushub_stream_subscribers counts each transport, and goes back down as clients leave', async () => {
    expect(await subscribers()).toEqual({ 'transport=ws': 0, 'transport=ws_instance': 0, 'transport=sse': 0 })
    const a = await client(h)
    const b = await client(h)
    const ryze = await client(h, { path: '/ws/alpha' })
    const sse = await sseStream(h)
    await until(() => sse.events().length === 1, 'the SSE snapshot')
    expect(await subscribers()).toEqual({ 'transport=ws': 2, 'transport=ws_instance': 1, 'transport=sse': 1 })
    await a.close()
    await sse.close()
    await untilValue(subscribers, (s) => s['transport=ws'] === 1 && s['transport=sse'] === 0, { what: 'ws and sse down by one' })
    await ryze.close()
    await b.close()
    expect(await untilValue(subscribers, (s) => s['transport=ws'] === 0 && s['transport=ws_instance'] === 0)).toEqual({
      'transport=ws': 0,
      'transport=ws_instance': 0,
      'transport=sse': 0,
    })
  })

  it('statushub_stream_frames_total counts every data frame the clients receive: answers, and each change once per subscribed socket', async () => {
    const before = await metrics(h)
    const all = await client(h)
    const named = await client(h)
    const ryze = await client(h, { path: '/ws/alpha' })
    all.send({ type: 'subscribe', id: 'all', instances: '*' })
    named.send({ type: 'subscribe', id: 'named', instances: ['alpha'] })
    await all.next((f) => f.type === 'snapshot')
    await named.next((f) => f.type === 'snapshot')
    await ryze.count(1)
    const sse = await sseStream(h)
    await until(() => sse.events().length === 1, 'the SSE snapshot')
    const alpha = instanceId(h, 'alpha')
    const beta = instanceId(h, 'beta')
    for (let i = 0; i < 3; i++) h.hub.updateStatus(alpha, { displayStatus: `alpha ${i}` })
    h.hub.updateStatus(beta, { displayStatus: 'beta 0' })
    // `*` and SSE: 1 answer + 4 changes; `alpha` by name: 1 + 3; /ws/:instance: the state on open + 3.
    await all.count(5)
    await named.count(4)
    await ryze.count(4)
    await until(() => sse.events().length === 5, 'the SSE events')
    const after = await metrics(h)
    expect(all.frames.length + named.frames.length + ryze.frames.length + sse.events().length).toBe(18)
    expect(delta(before, after, 'statushub_stream_frames_total')).toEqual({ '': 18 })
    await sse.close()
  })

  it('statushub_stream_resumes_total counts a resume answered with the missed changes as recovered, and one from another epoch as snapshot', async () => {
    const list = await h.req('GET', '/api/instance/list')
    const epoch = list.headers.get('x-hub-epoch')!
    const seq = Number(list.headers.get('x-hub-seq'))
    const before = await metrics(h)
    h.hub.updateStatus(instanceId(h, 'beta'), { displayStatus: 'beta 1' })
    const c = await client(h)
    c.send({ type: 'subscribe', id: 'r1', instances: '*', since: { epoch, seq } })
    expect((await c.next((f) => f.id === 'r1')).type).toBe('resumed')
    c.send({ type: 'subscribe', id: 'r2', instances: ['alpha'], since: { epoch: 'anotherepoch', seq: 1 } })
    expect((await c.next((f) => f.id === 'r2')).type).toBe('snapshot')
    const sse = await sseStream(h, { 'last-event-id': `${epoch}:${seq}` })
    await until(() => sse.events().length === 2, 'the SSE resume')
    expect(sse.events()).toEqual(['resumed', 'diff'])
    await sse.close()
    const after = await metrics(h)
    expect(delta(before, after, 'statushub_stream_resumes_total')).toEqual({ 'result=recovered': 2, 'result=snapshot': 1 })
  })

  it('statushub_stream_slow_consumer_total counts an ordered subscriber closed with 4008', async () => {
    const s = await hub({ HUB_WS_MAX_BUFFER_BYTES: '65536' })
    await createInstances(s, ['hot'])
    const c = await client(s)
    c.send({ type: 'subscribe', id: '1', instances: ['hot'] })
    await c.next((f) => f.type === 'snapshot')
    const before = await metrics(s)
    // Far more than the loopback buffers hold, so the hub is left holding frames whatever the timing.
    ;(c.ws as any)._socket.pause()
    const id = instanceId(s, 'hot')
    const pad = 'x'.repeat(4000)
    for (let i = 0; i < 6000; i++) s.hub.updateStatus(id, { displayStatus: `hot ${i} ${pad}` })
    ;(c.ws as any)._socket.resume()
    expect(await c.closed).toEqual({ code: 4008, reason: 'slow consumer' })
    const after = await metrics(s)
    expect(delta(before, after, 'statushub_stream_slow_consumer_total')).toEqual({ '': 1 })
  })
})

describe('HTTP series', () => {
  let h: TestHub
  beforeAll(async () => {
    h = await hub()
    await createInstances(h, ['sales'])
  })

  it('statushub_http_requests_total counts answers by route name and status, never by the path asked for', async () => {
    const before = await metrics(h)
    expect((await h.req('GET', '/api/instance/list')).status).toBe(200)
    const etag = (await h.req('GET', '/api/instance/list/')).headers.get('etag')!
    expect((await h.req('GET', '/api/instance/list', { headers: { 'if-none-match': etag } })).status).toBe(304)
    expect((await h.req('HEAD', '/api/instance/list')).status).toBe(200)
    expect((await h.req('PUT', '/api/instance/list')).status).toBe(405)
    expect((await h.req('GET', '/api/instance/connect/nobody-by-this-name')).status).toBe(404)
    expect((await h.req('GET', '/api/instance/list', { token: 'no-such-token' })).status).toBe(401)
    expect((await h.req('GET', '/a/raw/path/nobody-routes-this')).status).toBe(404)
    await client(h)
    const after = await metrics(h)
    expect(delta(before, after, 'statushub_http_requests_total')).toEqual({
      'route=GET /metrics,code=200': 1,
      'route=GET /api/instance/list,code=200': 2,
      'route=GET /api/instance/list,code=304': 1,
      'route=GET /api/instance/list,code=401': 1,
      'route=HEAD /api/instance/list,code=200': 1,
      'route=OTHER /api/instance/list,code=405': 1,
      'route=GET /api/instance/connect/:instance,code=404': 1,
      'route=unmatched,code=404': 1,
      'route=GET /ws,code=101': 1,
    })
    expect(after.text).not.toContain('nobody')
  })

  it('names no account and no instance in any label without HUB_METRICS_PER_ACCOUNT', async () => {
    await h.req('GET', '/api/instance/connect/sales')
    const m = await metrics(h)
    const allowed = new Set(['code', 'reason', 'result', 'route', 'state', 'transport', 'le'])
    expect([...m.labelNames()].filter((l) => !allowed.has(l))).toEqual([])
    expect([...m.types.keys()].filter((n) => n.startsWith('statushub_account_'))).toEqual([])
    const values = m.samples.filter((s) => s.name.startsWith('statushub_')).flatMap((s) => Object.values(s.labels))
    expect(values.filter((v) => v.includes('sales') || v.includes('default'))).toEqual([])
  })

  it('statushub_list_cache_total counts a miss for each list rendered and a hit for each served from the cache', async () => {
    h.hub.updateStatus(instanceId(h, 'sales'), { displayStatus: 'changed' })
    const before = await metrics(h)
    await h.req('GET', '/api/instance/list')
    await h.req('GET', '/api/instance/list')
    await h.req('GET', '/api/instance/list')
    h.hub.updateStatus(instanceId(h, 'sales'), { displayStatus: 'changed again' })
    await h.req('GET', '/api/instance/list')
    const after = await metrics(h)
    expect(delta(before, after, 'statushub_list_cache_total')).toEqual({ 'result=miss': 2, 'result=hit': 2 })
  })

  it('statushub_rate_limited_total counts the requests refused with 429', async () => {
    // A fixed clock: every request falls in the same one-minute window.
    const r = await hub({ HUB_RATE_LIMIT_PER_MIN: '5', HUB_METRICS_TOKEN: METRICS_TOKEN }, { clock: { now: () => Date.UTC(2030, 0, 1, 12, 0, 30) } })
    const before = await metrics(r, METRICS_TOKEN)
    const statuses: number[] = []
    for (let i = 0; i < 7; i++) statuses.push((await r.req('GET', '/api/instance/list')).status)
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429])
    const after = await metrics(r, METRICS_TOKEN)
    expect(delta(before, after, 'statushub_rate_limited_total')).toEqual({ '': 2 })
    expect(delta(before, after, 'statushub_http_requests_total')).toEqual({
      'route=GET /metrics,code=200': 1,
      'route=GET /api/instance/list,code=200': 5,
      'route=GET /api/instance/list,code=429': 2,
    })
  })
})

describe('write-behind series', () => {
  it('statushub_persist_pending counts the rows waiting, and each transaction is one observation of statushub_persist_batch_seconds', async () => {
    // A long interval: nothing is written until the test flushes.
    const h = await hub({ HUB_PERSIST_INTERVAL_MS: '10000' })
    h.hub.flush()
    const before = await metrics(h)
    expect(before.value('statushub_persist_pending')).toBe(0)
    await createInstances(h, ['slow'])
    const id = instanceId(h, 'slow')
    h.hub.updateStatus(id, { displayStatus: 'one' })
    h.hub.updateStatus(id, { displayStatus: 'two' })
    // Three changes (added, two diffs) and the instance's status row, written once.
    expect((await metrics(h)).value('statushub_persist_pending')).toBe(4)
    h.hub.flush()
    const after = await metrics(h)
    expect(after.value('statushub_persist_pending')).toBe(0)
    expect(delta(before, after, 'statushub_persist_batch_seconds_count')).toEqual({ '': 1 })
    expect(after.value('statushub_persist_batch_seconds_count')).toBe(h.hub.persistStats.transactions)
    expect(after.value('statushub_persist_batch_seconds_bucket', { le: '+Inf' })).toBe(h.hub.persistStats.transactions)
  })
})

describe('webhook series', () => {
  let h: TestHub
  const receivers: Receiver[] = []
  beforeAll(async () => {
    h = await webhookHub()
    hubs.push(h)
  })
  afterAll(async () => {
    for (const rx of receivers.splice(0)) await rx.close()
  })

  async function hooked(name: string, behave: Parameters<Receiver['behave']>[0]): Promise<{ rx: Receiver; id: number }> {
    const rx = await startReceiver()
    receivers.push(rx)
    rx.behave(behave)
    await createInstances(h, [name])
    expect((await h.req('POST', `/api/events/webhook/${name}`, { body: { enabled: true, url: `${rx.url}/${name}` } })).status).toBe(200)
    return { rx, id: instanceId(h, name) }
  }

  it('counts the deliveries a real receiver accepted as delivered, and those not yet answered as pending', async () => {
    const before = await metrics(h)
    const { rx, id } = await hooked('hooked', 'hang')
    for (let i = 0; i < 3; i++) h.hub.updateStatus(id, { displayStatus: `change ${i}` })
    await until(() => rx.open() === 1, 'the first delivery in flight')
    expect((await metrics(h)).value('statushub_webhook_pending')).toBe(3)
    rx.release()
    await until(async () => (await deliveries(h, 'hooked')).filter((d) => d.status === 'delivered').length === 3, { what: 'all delivered', ms: 10_000 })
    const after = await metrics(h)
    expect(rx.received.map((r) => r.answered)).toEqual([204, 204, 204])
    expect(delta(before, after, 'statushub_webhook_deliveries_total')).toEqual({ 'result=delivered': 3 })
    expect(after.value('statushub_webhook_pending')).toBe(0)
  })

  it('counts an attempt answered 500 as retried, and deliveries dead-lettered after a 410 as dead', async () => {
    const before = await metrics(h)
    const { rx: flaky, id: flakyId } = await hooked('flaky', (r) => (flaky.received.indexOf(r) === 0 ? { status: 500 } : { status: 204 }))
    h.hub.updateStatus(flakyId, { displayStatus: 'flaky 0' })
    h.hub.updateStatus(flakyId, { displayStatus: 'flaky 1' })
    await until(async () => (await deliveries(h, 'flaky')).filter((d) => d.status === 'delivered').length === 2, { what: 'flaky delivered', ms: 10_000 })
    expect(flaky.received.map((r) => r.answered)).toEqual([500, 204, 204])

    const { rx: gone, id: goneId } = await hooked('gone', { status: 410 })
    h.hub.updateStatus(goneId, { displayStatus: 'gone 0' })
    h.hub.updateStatus(goneId, { displayStatus: 'gone 1' })
    await until(async () => (await deliveries(h, 'gone')).filter((d) => d.status === 'dead').length === 2, { what: 'gone dead-lettered', ms: 10_000 })
    expect(gone.received.map((r) => r.answered)).toEqual([410])
    const after = await metrics(h)
    expect(delta(before, after, 'statushub_webhook_deliveries_total')).toEqual({ 'result=delivered': 2, 'result=retried': 1, 'result=dead': 2 })
    expect(after.value('statushub_webhook_pending')).toBe(0)
  })
})

describe('HUB_METRICS_PER_ACCOUNT=true', () => {
  it('adds series labelled with account names, while the shared series stay without them', async () => {
    const h = await hub({ HUB_METRICS_PER_ACCOUNT: 'true' })
    const acme = (await h.req('POST', '/api/admin/accounts', { token: ADMIN, body: { name: 'acme' } })).json.token as string
    await createInstances(h, ['one', 'two'])
    await createInstances(h, ['three'], acme)
    h.hub.updateStatus(instanceId(h, 'one'), { state: 'connected', displayStatus: 'Online' })
    h.hub.updateStatus(instanceId(h, 'three', 'acme'), { state: 'connecting', displayStatus: 'Connecting…' })
    h.hub.updateStatus(instanceId(h, 'three', 'acme'), { state: 'connected', displayStatus: 'Online' })
    await client(h, { token: acme })
    await client(h, { token: acme })
    await client(h)
    const m = await metrics(h)
    expect(m.series('statushub_account_instances')).toEqual({
      'account=default,state=connected': 1,
      'account=default,state=connecting': 0,
      'account=default,state=disconnected': 1,
      'account=default,state=loggedout': 0,
      'account=acme,state=connected': 1,
      'account=acme,state=connecting': 0,
      'account=acme,state=disconnected': 0,
      'account=acme,state=loggedout': 0,
    })
    expect(m.series('statushub_account_transitions_total')).toEqual({
      'account=default,state=connected,reason=none': 1,
      'account=acme,state=connecting,reason=none': 1,
      'account=acme,state=connected,reason=none': 1,
    })
    expect(m.series('statushub_account_stream_subscribers')).toEqual({
      'account=default,transport=ws': 1,
      'account=default,transport=ws_instance': 0,
      'account=default,transport=sse': 0,
      'account=acme,transport=ws': 2,
      'account=acme,transport=ws_instance': 0,
      'account=acme,transport=sse': 0,
    })
    expect(m.series('statushub_instances')).toEqual({ 'state=connected': 2, 'state=connecting': 0, 'state=disconnected': 1, 'state=loggedout': 0 })
    expect(m.series('statushub_transitions_total')).toEqual({ 'state=connected,reason=none': 2, 'state=connecting,reason=none': 1 })

    // A deleted account's series go with it.
    const id = h.hub.accountNamed('acme')!.id
    expect((await h.req('DELETE', `/api/admin/accounts/${id}`, { token: ADMIN })).status).toBe(200)
    const later = await metrics(h)
    expect(Object.keys(later.series('statushub_account_instances')).filter((k) => k.includes('acme'))).toEqual([])
    expect(Object.keys(later.series('statushub_account_transitions_total')).filter((k) => k.includes('acme'))).toEqual([])
  })
})
