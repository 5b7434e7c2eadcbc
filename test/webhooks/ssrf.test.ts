import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createInstances, startTestHub, type TestHub } from '../helpers/hub.js'
import { untilValue } from '../helpers/wait.js'
import { deliveries } from './helpers.js'
import { startReceiver, type Receiver } from './receiver.js'

let h: TestHub
let rx: Receiver

beforeAll(async () => {
  rx = await startReceiver()
  // HUB_WEBHOOK_ALLOW_PRIVATE is left at its default (false); retries are fast.
  h = await startTestHub({ HUB_WEBHOOK_RETRY_BASE_MS: '20', HUB_WEBHOOK_RETRY_MAX_MS: '100' })
})
afterAll(async () => {
  await h.stop()
  await rx.close()
})

const HINT = 'set HUB_WEBHOOK_ALLOW_PRIVATE=true to allow'

describe('webhook address safety', () => {
  it.each([
    ['literal', (port: number) => `http://127.0.0.1:${port}/in`, new RegExp(`^refused: 127\\.0\\.0\\.1 is a loopback address; ${HINT}$`)],
    ['ipv6', (port: number) => `http://[::1]:${port}/in`, new RegExp(`^refused: ::1 is a loopback address; ${HINT}$`)],
    ['unspecified', (port: number) => `http://0.0.0.0:${port}/in`, new RegExp(`^refused: 0\\.0\\.0\\.0 is an unspecified address; ${HINT}$`)],
    ['mapped', (port: number) => `http://[::ffff:127.0.0.1]:${port}/in`, new RegExp(`^refused: ::ffff:7f00:1 is a loopback address; ${HINT}$`)],
    // A name is checked on what it resolves to, when the connection is made.
    ['named', (port: number) => `http://localhost:${port}/in`, new RegExp(`^refused: localhost resolves to (127\\.0\\.0\\.1|::1), a loopback address; ${HINT}$`)],
  ])('refuses to deliver to a loopback address (%s) unless allowed, saying why on the delivery', async (name, url, error) => {
    await createInstances(h, [name])
    await h.req('POST', `/api/events/webhook/${name}`, { body: { enabled: true, url: url(rx.port) } })
    h.hub.updateStatus(h.hub.lookup(h.hub.accountNamed('default')!.id, name)!.id, { presenceStatus: 'available' })
    const [d] = await untilValue(() => deliveries(h, name), (l) => (l[0]?.attempts ?? 0) >= 2, { what: 'two refused attempts' })
    expect(d!.status).toBe('pending')
    expect(d!.lastError).toMatch(error)
    expect(rx.received).toEqual([])
  })
})
