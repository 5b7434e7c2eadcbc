/**
 * Reading one account's changes back from the change stream (Follower.read), against a real
 * nats-server: it ends once it has passed what is kept up to `last`, also when every message it
 * waited for was purged after it looked (an account deleted meanwhile): it never waits for the
 * account's next append.
 */
import { headers } from '@nats-io/transport-node'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AesGcmBox, parseSecretKey } from '../../src/adapters/crypto/secret-box.js'
import { changeSubject, openEngine, STREAM, type Engine } from '../../src/adapters/nats/engine.js'
import { Follower } from '../../src/cluster/follower.js'
import { startNatsServer, type NatsServer } from '../helpers/nats.js'
import { CLUSTER_KEY } from '../helpers/cluster.js'

let nats: NatsServer
let engine: Engine
const log = pino({ level: 'silent' })
const key = parseSecretKey(CLUSTER_KEY)!

beforeAll(async () => {
  nats = await startNatsServer()
  engine = await openEngine({ url: nats.url, nodeId: 'reader', leaseTtlMs: 3000, secretKey: key, maxReplay: 100, log })
})

afterAll(async () => {
  await engine?.close()
  await nats?.dispose()
})

const token = (instanceId: number) => JSON.stringify({ t: 'k', i: instanceId, h: new AesGcmBox(key).seal('hash') })

describe('reading an account’s changes back', () => {
  it('passes every kept message of the account up to last, in order, and none of another account', async () => {
    const h = headers()
    for (const [account, i] of [
      [7, 1],
      [8, 2],
      [7, 3],
    ] as const)
      await engine.js.publish(changeSubject(account), token(i), { headers: h })
    const last = (await engine.jsm.streams.info(STREAM)).state.last_seq
    const got: [number, number][] = []
    await new Follower(engine, new AesGcmBox(key), log, () => undefined).read(1, last, (accountId, m) => got.push([accountId, m.t === 'token' ? m.instanceId : -1]), changeSubject(7))
    expect(got).toEqual([
      [7, 1],
      [7, 3],
    ])
  })

  it('ends without a new append when what it waits for was purged after it looked', async () => {
    await engine.js.publish(changeSubject(9), token(4))
    const last = (await engine.jsm.streams.info(STREAM)).state.last_seq
    await engine.jsm.streams.purge(STREAM, { filter: changeSubject(9) })
    const got: number[] = []
    // The look (read's first step) saw the message; the consumer starts after the purge.
    const follower = new Follower(engine, new AesGcmBox(key), log, () => undefined) as unknown as { replay(first: number, last: number, each: (a: number) => void, subject: string): Promise<void> }
    await follower.replay(last, last, (a) => got.push(a), changeSubject(9))
    expect(got).toEqual([])
  }, 20_000)
})
