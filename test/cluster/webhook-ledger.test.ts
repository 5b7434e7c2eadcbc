/**
 * The webhook deliverer's ledger in a real nats-server's KV bucket: what one deliverer writes, the
 * next one reads back; letters reach the engine before a cursor or resume point written after
 * them; writes survive an engine restart by being retried.
 */
import { Kvm, KvWatchInclude, type KV } from '@nats-io/kv'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KvWebhookLedger } from '../../src/adapters/nats/webhook-ledger.js'
import type { Delivery } from '../../src/ports/outbox.js'
import { startNatsServer, type NatsServer } from '../helpers/nats.js'
import { until } from '../helpers/wait.js'

let nats: NatsServer
let nc: NatsConnection
let kv: KV
const log = pino({ level: 'silent' })

beforeAll(async () => {
  nats = await startNatsServer()
  nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 })
  kv = await new Kvm(nc).create('sh_webhooks', { history: 1 })
})

afterAll(async () => {
  await nc?.close()
  await nats?.dispose()
})

const letter = (instanceId: number, seq: number, status: Delivery['status'] = 'dead'): Omit<Delivery, 'pos'> => ({
  id: `msg_e_1_${seq}_default`,
  instanceId,
  label: 'default',
  event: 'instance.state',
  seq,
  version: seq,
  body: `{"seq":${seq}}`,
  status,
  attempts: 3,
  createdAt: 1000 + seq,
  queuedAt: 1000 + seq,
  nextAttemptAt: 2000 + seq,
  lastAttemptAt: 1500 + seq,
  lastError: 'HTTP 500',
})

describe('the webhook ledger in sh_webhooks', () => {
  it('reads back what an earlier deliverer kept: the latest of each letter, cursor and resume point', async () => {
    const first = new KvWebhookLedger(kv, log)
    first.putLetter(letter(1, 7))
    first.putLetter(letter(1, 5))
    first.putCursor(1, 'default', { epoch: 'e', seq: 4 })
    first.putCursor(1, 'default', { epoch: 'e', seq: 7 })
    first.putCursor(2, 'a.b-c', { epoch: 'e', seq: 2 })
    first.putResume({ epoch: 'e', position: 40 })
    first.putLetter({ ...letter(1, 7), status: 'pending', attempts: 0 })
    first.putResume({ epoch: 'e', position: 41 })
    await first.flush()
    const state = await new KvWebhookLedger(kv, log).load()
    expect(state.resume).toEqual({ epoch: 'e', position: 41 })
    expect([...state.cursors]).toEqual([
      ['1/default', { epoch: 'e', seq: 7 }],
      ['2/a.b-c', { epoch: 'e', seq: 2 }],
    ])
    expect(state.letters).toEqual([letter(1, 5), { ...letter(1, 7), status: 'pending', attempts: 0 }])
  })

  it('puts a letter in the engine before the cursor and resume point asked for after it', async () => {
    const order: string[] = []
    const w = await kv.watch({ key: '>', include: KvWatchInclude.UpdatesOnly })
    void (async () => {
      for await (const e of w) order.push(e.key)
    })()
    const ledger = new KvWebhookLedger(kv, log)
    ledger.putCursor(3, 'default', { epoch: 'e', seq: 8 })
    ledger.putLetter(letter(3, 9))
    ledger.putCursor(3, 'default', { epoch: 'e', seq: 9 })
    ledger.putResume({ epoch: 'e', position: 50 })
    await ledger.flush()
    await until(() => order.includes('r'), 'the resume point in the watch')
    w.stop()
    // The first cursor may have gone out alone before the letter was asked for; after it, the letter comes first.
    const tail = order.slice(order.lastIndexOf('d.3.' + Buffer.from('msg_e_1_9_default').toString('base64url')))
    expect(tail).toEqual(['d.3.' + Buffer.from('msg_e_1_9_default').toString('base64url'), 'c.3.' + Buffer.from('default').toString('base64url'), 'r'])
    expect((await kv.get('c.3.' + Buffer.from('default').toString('base64url')))?.json()).toEqual({ epoch: 'e', seq: 9 })
  })

  it('forgets everything of a deleted instance and nothing of the others', async () => {
    const ledger = new KvWebhookLedger(kv, log)
    ledger.forgetInstance(1)
    await ledger.flush()
    const state = await ledger.load()
    expect(state.letters.map((d) => d.instanceId)).toEqual([3])
    expect([...state.cursors.keys()].sort()).toEqual(['2/a.b-c', '3/default'])
  })

  it('keeps retrying a write while the engine is down, and it lands once the engine is back', async () => {
    await nats.stop()
    const failures: string[] = []
    const ledger = new KvWebhookLedger(kv, { warn: (_o, m) => failures.push(m ?? '') })
    ledger.putCursor(4, 'default', { epoch: 'e', seq: 12 })
    let flushed = false
    const done = ledger.flush().then(() => (flushed = true))
    await until(() => failures.length >= 2, { what: 'two failed attempts', ms: 30_000 })
    expect([flushed, failures[0]]).toEqual([false, 'keeping webhook delivery state in the engine failed; retrying'])
    await nats.start()
    await done
    expect((await new KvWebhookLedger(kv, log).load()).cursors.get('4/default')).toEqual({ epoch: 'e', seq: 12 })
  }, 60_000)

  it('answers flush at once for writes discarded before they were sent', async () => {
    const ledger = new KvWebhookLedger(kv, log)
    ledger.discard()
    await ledger.flush()
    expect((await ledger.load()).resume).toEqual({ epoch: 'e', position: 50 })
  })
})
