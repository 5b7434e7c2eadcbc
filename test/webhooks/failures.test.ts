import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createInstances, instanceId, type TestHub } from '../helpers/hub.js'
import { until, untilValue } from '../helpers/wait.js'
import { deliveries, webhookHub } from './helpers.js'
import { startReceiver, type Receiver } from './receiver.js'

let h: TestHub
const receivers: Receiver[] = []

beforeAll(async () => {
  h = await webhookHub({ HUB_WEBHOOK_TIMEOUT_MS: '300' })
})
afterAll(() => h.stop())
afterEach(async () => {
  for (const rx of receivers.splice(0)) await rx.close()
})

async function receiver(): Promise<Receiver> {
  const rx = await startReceiver()
  receivers.push(rx)
  return rx
}

/** A new instance with one webhook to `url`; returns its id. */
async function hooked(hub: TestHub, name: string, url: string): Promise<number> {
  await createInstances(hub, [name])
  const r = await hub.req('POST', `/api/events/webhook/${name}`, { body: { enabled: true, url } })
  if (r.status !== 200) throw new Error(r.text)
  return instanceId(hub, name)
}

const change = (hub: TestHub, id: number, i: number) => hub.hub.updateStatus(id, { displayStatus: `change ${i}` })

describe('webhook failures', () => {
  it('retries while the receiver is down; once it is up every delivery arrives once per id, in order', async () => {
    const rx = await receiver()
    rx.behave('drop')
    const id = await hooked(h, 'down', `${rx.url}/down`)
    for (let i = 0; i < 20; i++) change(h, id, i)
    h.hub.flush()
    const failing = await untilValue(() => deliveries(h, 'down'), (l) => l.length === 20 && l.at(-1)!.attempts >= 3, { what: 'the first delivery retried' })
    expect(failing.at(-1)!.lastError).toMatch(/^network error: /)
    expect(failing.at(-1)!.nextAttemptAt).not.toBeNull()
    // In order: nothing after the first was tried while the first was failing.
    expect(failing.slice(0, -1).every((d) => d.attempts === 0)).toBe(true)
    rx.behave({ status: 200 })
    await until(() => rx.accepted().length === 20, { what: '20 accepted', ms: 10_000 })
    const ids = rx.accepted().map((r) => r.headers['webhook-id'])
    expect(new Set(ids).size).toBe(20)
    const seqs = rx.accepted().map((r) => JSON.parse(r.body).seq as number)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    const list = await untilValue(() => deliveries(h, 'down'), (l) => l.every((d) => d.status === 'delivered'))
    expect(list.map((d) => d.id).reverse()).toEqual(ids)
  })

  it('retries any answer other than 2xx and 410, naming it in lastError', async () => {
    const rx = await receiver()
    rx.behave({ status: 503 })
    const id = await hooked(h, 'busy', `${rx.url}/busy`)
    change(h, id, 0)
    const [d] = await untilValue(() => deliveries(h, 'busy'), (l) => l[0]?.attempts === 2)
    expect([d!.status, d!.lastError]).toEqual(['pending', 'HTTP 503'])
    rx.behave({ status: 202 })
    await until(async () => (await deliveries(h, 'busy'))[0]!.status === 'delivered', 'delivered')
    expect(rx.received.map((r) => r.answered)).toEqual([...rx.received.slice(0, -1).map(() => 503), 202])
  })

  it('never follows a redirect: a 3xx is a failed attempt', async () => {
    const elsewhere = await receiver()
    const rx = await receiver()
    rx.behave({ status: 302, headers: { location: `${elsewhere.url}/caught` } })
    const id = await hooked(h, 'moved', `${rx.url}/moved`)
    change(h, id, 0)
    const [d] = await untilValue(() => deliveries(h, 'moved'), (l) => l[0]?.attempts === 3)
    expect([d!.status, d!.lastError]).toEqual(['pending', 'HTTP 302 (redirects are not followed)'])
    expect(elsewhere.received).toEqual([])
  })

  it('gives up on a receiver that hangs after HUB_WEBHOOK_TIMEOUT_MS and tries again', async () => {
    const rx = await receiver()
    rx.behave('hang')
    const id = await hooked(h, 'slow', `${rx.url}/slow`)
    change(h, id, 0)
    const [d] = await untilValue(() => deliveries(h, 'slow'), (l) => l[0]?.attempts === 2)
    expect([d!.status, d!.lastError]).toEqual(['pending', 'timeout after 300 ms'])
    rx.release()
    await until(async () => (await deliveries(h, 'slow'))[0]!.status === 'delivered', 'delivered')
  })

  it('reads only the start of an answer\'s body: a 200 with an endless body is delivered before the timeout', async () => {
    const rx = await receiver()
    rx.behave({ status: 200, endless: true })
    const id = await hooked(h, 'chatty', `${rx.url}/chatty`)
    change(h, id, 0)
    change(h, id, 1)
    const list = await untilValue(() => deliveries(h, 'chatty'), (l) => l.length === 2 && l.every((d) => d.status === 'delivered'))
    expect(list.map((d) => [d.attempts, d.lastError])).toEqual([
      [1, null],
      [1, null],
    ])
  })

  it('disables the webhook on 410, dead-letters what was pending, and plans nothing more for it', async () => {
    const rx = await receiver()
    rx.behave(() => (rx.received.length === 1 ? { status: 500 } : { status: 410 }))
    const id = await hooked(h, 'gone', `${rx.url}/gone`)
    change(h, id, 0)
    await until(async () => (await deliveries(h, 'gone'))[0]?.attempts === 1, 'a first failure')
    change(h, id, 1)
    change(h, id, 2)
    const list = await untilValue(() => deliveries(h, 'gone'), (l) => l.length === 3 && l.every((d) => d.status === 'dead'))
    expect(list.map((d) => [d.status, d.lastError])).toEqual(list.map(() => ['dead', 'HTTP 410: the receiver asked to stop; webhook disabled']))
    const hook = (await h.req('GET', '/api/events/getWebhook/gone?label=default')).json.webhook
    expect([hook.enabled, hook.url]).toEqual([false, `${rx.url}/gone`])
    change(h, id, 3)
    h.hub.flush()
    expect(await deliveries(h, 'gone')).toHaveLength(3)

    // Re-enabled, its dead letters can be re-queued, and go out in their order.
    const refused = await h.req('POST', '/api/events/webhookDeliveries/gone/retry', { body: { label: 'default' } })
    expect([refused.status, refused.json.error.message]).toEqual([409, 'Webhook "default" is disabled: enable it before retrying its deliveries'])
    await h.req('POST', '/api/events/webhook/gone', { body: { enabled: true, url: `${rx.url}/gone` } })
    rx.behave({ status: 200 })
    const r = await h.req('POST', '/api/events/webhookDeliveries/gone/retry', { body: {} })
    expect(r.json).toEqual({ success: true, message: '3 deliveries re-queued', requeued: 3 })
    await until(() => rx.accepted().length === 3, 'three accepted')
    expect(rx.accepted().map((a) => JSON.parse(a.body).data.displayStatus)).toEqual(['change 0', 'change 1', 'change 2'])
    expect((await deliveries(h, 'gone')).map((d) => [d.status, d.attempts, d.lastError])).toEqual([
      ['delivered', 1, null],
      ['delivered', 1, null],
      ['delivered', 1, null],
    ])
    const again = await h.req('POST', '/api/events/webhookDeliveries/gone/retry', { body: {} })
    expect(again.json).toEqual({ success: true, message: '0 deliveries re-queued', requeued: 0 })
    for (const [body, status, message] of [
      [{ label: 'nope' }, 404, 'Webhook not found'],
      [{ labels: ['x'] }, 400, 'Unknown field "labels"'],
    ] as const) {
      const bad = await h.req('POST', '/api/events/webhookDeliveries/gone/retry', { body })
      expect([bad.status, bad.json.error.message]).toEqual([status, message])
    }
  })

  it('dead-letters the pending deliveries of a webhook when it is disabled', async () => {
    const rx = await receiver()
    rx.behave({ status: 500 })
    const id = await hooked(h, 'switched', `${rx.url}/switched`)
    change(h, id, 0)
    change(h, id, 1)
    await until(async () => (await deliveries(h, 'switched')).at(-1)?.attempts === 1, 'a first failure')
    await h.req('POST', '/api/events/webhook/switched', { body: { enabled: false } })
    const list = await untilValue(() => deliveries(h, 'switched'), (l) => l.every((d) => d.status === 'dead'))
    expect(list.map((d) => d.lastError)).toEqual(['webhook disabled', 'webhook disabled'])
  })
})

describe('webhook bounds', () => {
  it('keeps one delivery in flight per webhook and at most HUB_WEBHOOK_CONCURRENCY in all', async () => {
    const hub = await webhookHub({ HUB_WEBHOOK_CONCURRENCY: '2' })
    const rx = await receiver()
    rx.behave('hang')
    const ids = [await hooked(hub, 'a', `${rx.url}/a`), await hooked(hub, 'b', `${rx.url}/b`), await hooked(hub, 'c', `${rx.url}/c`)]
    for (let i = 0; i < 3; i++) for (const id of ids) change(hub, id, i)
    await until(() => rx.open() === 2, 'two requests open')
    rx.release()
    await until(() => rx.accepted().length === 9, 'nine accepted')
    expect([rx.maxOpen(), rx.maxOpenOnOnePath()]).toEqual([2, 1])
    for (const path of ['/a', '/b', '/c']) {
      expect(rx.accepted().filter((r) => r.path === path).map((r) => JSON.parse(r.body).data.displayStatus)).toEqual(['change 0', 'change 1', 'change 2'])
    }
    await hub.stop()
  })

  it('dead-letters the oldest pending past HUB_WEBHOOK_MAX_PENDING, counts them, and keeps that many dead letters', async () => {
    const hub = await webhookHub({ HUB_WEBHOOK_MAX_PENDING: '3' })
    const rx = await receiver()
    rx.behave('drop')
    const id = await hooked(hub, 'flood', `${rx.url}/flood`)
    for (let i = 0; i < 10; i++) change(hub, id, i)
    hub.hub.flush()
    const list = await untilValue(() => deliveries(hub, 'flood'), (l) => l.filter((d) => d.status === 'dead').length === 7)
    const first = list.at(-1)!.seq
    expect(list.map((d) => [d.seq - first, d.status])).toEqual([
      [9, 'pending'],
      [8, 'pending'],
      [7, 'pending'],
      ...[6, 5, 4, 3, 2, 1, 0].map((n) => [n, 'dead']),
    ])
    expect(list.at(-1)!.lastError).toBe('dropped: more than 3 deliveries pending for this webhook')
    expect(hub.webhooks.stats()).toMatchObject({ dead: 7, pending: 3 })
    expect(hub.webhooks.prune()).toBe(4)
    expect((await deliveries(hub, 'flood', 'status=dead')).map((d) => d.seq - first)).toEqual([6, 5, 4])
    await hub.stop()
  })
})
