/**
 * A short pass of the WebSocket fuzz suite (`npm run fuzz` sends 100,000 frames; ws.long.test.ts).
 */
import { afterAll, beforeAll, describe, it } from 'vitest'
import { startFuzzHub, type FuzzHub } from './fixture.js'
import { runWsSuite, WS_FUZZ_ENV } from './ws-suite.js'

let f: FuzzHub
beforeAll(async () => {
  f = await startFuzzHub(WS_FUZZ_ENV)
})
afterAll(async () => {
  await f.hub.stop()
})

describe('malformed WebSocket traffic (short pass)', () => {
  it('answers 4,000 generated frames with contract frames, survives every protocol violation and a connect/drop storm, lets no never-reading subscriber delay another, and changes nothing', async () => {
    const sizes = { frames: 4000, flowInstances: 6, sockets: 8, violationTimes: 1, storm: 100, slowSockets: 3, changes: 300, slowMustClose: false, flood: null, seed: Date.now() % 1e9 }
    await runWsSuite(f, sizes, (l) => console.log(l))
  }, 120_000)
})
