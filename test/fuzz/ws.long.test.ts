/**
 * `npm run fuzz` (WebSocket half): 100,000 generated frames over 40 sockets, every protocol
 * violation 20 times, a storm of 2,000 connections dropped at every stage, never-reading
 * subscribers while 6,000 change requests flow (far past the kernel's buffers: each must get
 * 4008), and never-reading sockets that keep subscribing (each must get 4008 too, the hub's memory
 * bounded meanwhile). FUZZ_SEED overrides the seed.
 */
import { afterAll, beforeAll, describe, it } from 'vitest'
import { startFuzzHub, type FuzzHub } from './fixture.js'
import { runWsSuite, WS_FUZZ_ENV } from './ws-suite.js'

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1e9)

let f: FuzzHub
beforeAll(async () => {
  f = await startFuzzHub(WS_FUZZ_ENV)
})
afterAll(async () => {
  await f.hub.stop()
})

describe('malformed WebSocket traffic', () => {
  it('answers 100,000 generated frames with contract frames, survives protocol violations and storms, closes never-reading subscribers with 4008 without delaying others, keeps memory bounded and changes nothing', async () => {
    console.log(`WebSocket fuzz: seed ${SEED}`)
    const sizes = { frames: 100_000, flowInstances: 20, sockets: 40, violationTimes: 20, storm: 2000, slowSockets: 5, changes: 6000, slowMustClose: true, flood: { sockets: 10, subscribes: 500 }, seed: SEED }
    await runWsSuite(f, sizes, (l) => console.log(l))
  }, 30 * 60_000)
})
