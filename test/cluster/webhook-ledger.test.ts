/**
 * An account's webhook ledger in a real nats-server's KV bucket: what one writer of the account
 * keeps, the next one reads back; letters reach the engine before a cursor or resume point written
 * after them; writes survive an engine restart by being retried; two accounts' ledgers stay apart.
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
  it('reads back what an earlier writer of the account kept: the latest of each letter, cursor and resume point', async () => {
    const first = new KvWebhookLedger(kv, 1, log)
    first.putLetter(letter(1, 7))
    first.putLetter(letter(1, 5))
    first.putCursor(1, 'default', { epoch: 'e', seq: 4 })
    first.putCursor(1, 'default', { epoch: 'e', seq: 7 })
    first.putCursor(2, 'a.b-c', { epoch: 'e', seq: 2 })
    first.putResume({ epoch: 'e', position: 40 })
    first.putLetter({ ...letter(1, 7), status: 'pending', attempts: 0 })
    first.putResume({ epoch: 'e', position: 41 })
    await first.flush()
    const state = await new KvWebhookLedger(kv, 1, log).load()
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
    const ledger = new KvWebhookLedger(kv, 1, log)
    ledger.putCursor(3, 'default', { epoch: 'e', seq: 8 })
    ledger.putLetter(letter(3, 9))
    ledger.putCursor(3, 'default', { epoch: 'e', seq: 9 })
    ledger.putResume({ epoch: 'e', position: 50 })
    await ledger.flush()
    await until(() => order.includes('a.1.r'), 'the resume point in the watch')
    w.stop()
    // The first cursor may have gone out alone before the letter was asked for; after it, the letter comes first.
    const tail = order.slice(order.lastIndexOf('a.1.d.3.' + Buffer.from('msg_e_1_9_default').toString('base64url')))
    expect(tail).toEqual(['a.1.d.3.' + Buffer.from('msg_e_1_9_default').toString('base64url'), 'a.1.c.3.' + Buffer.from('default').toString('base64url'), 'a.1.r'])
    expect((await kv.get('a.1.c.3.' + Buffer.from('default').toString('base64url')))?.json()).toEqual({ epoch: 'e', seq: 9 })
  })

  it('forgets everything of a deleted instance and nothing of the others', async () => {
    const ledger = new KvWebhookLedger(kv, 1, log)
    ledger.forgetInstance(1)
    await ledger.flush()
    const state = await ledger.load()
    expect(state.letters.map((d) => d.instanceId)).toEqual([3])
    expect([...state.cursors.keys()].sort()).toEqual(['2/a.b-c', '3/default'])
  })

  it('keeps each account apart: another account reads back only its own, forgets only its own, discards only its own', async () => {
    const other = new KvWebhookLedger(kv, 2, log)
    expect(await other.load()).toEqual({ resume: null, cursors: new Map(), letters: [] })
    other.putLetter(letter(5, 3))
    other.putCursor(5, 'default', { epoch: 'e', seq: 3 })
    other.putResume({ epoch: 'e', position: 90 })
    await other.flush()
    const mine = new KvWebhookLedger(kv, 1, log)
    mine.putResume({ epoch: 'e', position: 51 })
    other.discard()
    mine.forgetInstance(5)
    await mine.flush()
    expect(await new KvWebhookLedger(kv, 2, log).load()).toEqual({ resume: { epoch: 'e', position: 90 }, cursors: new Map([['5/default', { epoch: 'e', seq: 3 }]]), letters: [letter(5, 3)] })
    const back = await new KvWebhookLedger(kv, 1, log).load()
    expect([back.resume, back.letters.map((d) => d.instanceId), [...back.cursors.keys()].sort()]).toEqual([{ epoch: 'e', position: 51 }, [3], ['2/a.b-c', '3/default']])
    mine.putResume({ epoch: 'e', position: 50 })
    await mine.flush()
  })

  it('keeps retrying a write while the engine is down, and it lands once the engine is back', async () => {
    await nats.stop()
    const failures: string[] = []
    const ledger = new KvWebhookLedger(kv, 1, { warn: (_o: object, m?: string) => failures.push(m ?? '') })
    ledger.putCursor(4, 'default', { epoch: 'e', seq: 12 })
    let flushed = false
    const done = ledger.flush().then(() => (flushed = true))
    await until(() => failures.length >= 2, { what: 'two failed attempts', ms: 30_000 })
    expect([flushed, failures[0]]).toEqual([false, 'keeping webhook delivery state in the engine failed; retrying'])
    await nats.start()
    await done
    expect((await new KvWebhookLedger(kv, 1, log).load()).cursors.get('4/default')).toEqual({ epoch: 'e', seq: 12 })
  }, 60_000)

  it('answers flush at once for writes discarded before they were sent', async () => {
    const ledger = new KvWebhookLedger(kv, 1, log)
    ledger.discard()
    await ledger.flush()
    expect((await ledger.load()).resume).toEqual({ epoch: 'e', position: 50 })
  })
})
